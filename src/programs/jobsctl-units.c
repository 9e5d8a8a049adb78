/* SPDX-License-Identifier: MIT */
/* The local side over sd-bus: the timers of the schedule (list-timers data) and run-now. */

#include <systemd/sd-bus.h>

#include "model/job.h"
#include "programs/jobsctl.h"
#include "redis/claim.h"
#include "util/log.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define UNIT_PREFIX "jobs-"
#define TIMERS_MAX 10000
#define RUN_NOW_TIMEOUT (10 * USEC_PER_MINUTE)

static int timer_property(sd_bus *bus, const char *path, const char *name, uint64_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        return sd_bus_get_property_trivial(bus, SD_DEST, path, "org.freedesktop.systemd1.Timer", name, &err, 't', ret);
}

static int open_system_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int k;

        k = sd_bus_open_system(&bus);
        if (k < 0)
                return k;
        /* sd_bus_open_system() connects lazily; make a missing bus show up here, not later. */
        k = sd_bus_get_bus_id(bus, &(sd_id128_t) {});
        if (k < 0)
                return k;
        *ret = TAKE_PTR(bus);
        return 0;
}

int ctl_list_timers(json_t **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_auto_t *a = json_array();
        const char *id, *description, *load, *active, *sub, *following, *path;
        int k;

        if (!a)
                return -ENOMEM;
        k = open_system_bus(&bus);
        if (k < 0)
                return k;
        k = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnitsByPatterns", &err, &reply, "asas", 0,
                               1, UNIT_PREFIX "*.timer");
        if (k < 0)
                return k;
        k = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (k < 0)
                return k;
        while ((k = sd_bus_message_read(reply, "(ssssssouso)", &id, &description, &load, &active, &sub, &following,
                                        &path, NULL, NULL, NULL)) > 0) {
                uint64_t next = 0, last = 0;
                _cleanup_free_ char *service = NULL;
                size_t l = strlen(id);

                if (json_array_size(a) >= TIMERS_MAX)
                        break;
                /* A property we cannot read is shown as n/a rather than hiding the timer. */
                (void) timer_property(bus, path, "NextElapseUSecRealtime", &next);
                (void) timer_property(bus, path, "LastTriggerUSec", &last);
                service = strdupf("%.*s.service", (int) (l - strlen(".timer")), id);
                if (!service)
                        return -ENOMEM;
                if (json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:s, s:s}", "unit", id, "next",
                                                       ctl_json_time(next), "last", ctl_json_time(last), "activates",
                                                       service, "active", active)) < 0)
                        return -ENOMEM;
        }
        if (k < 0)
                return k;
        *ret = TAKE_PTR(a);
        return 0;
}

/* Wait for JobRemoved of our job and return its result ("done", "failed", ...). */
typedef struct JobWait {
        const char *path;
        char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->path && streq(path, w->path) && !w->result)
                w->result = strdup(result);
        return 0;
}

/* Tell jobs-enqueue that the next run of a fleet entry is a manual one: pushed without a claim, so
 * run-now never collides with the occurrence the timers enqueue (claim.h). A host-local entry does
 * not look. increment is +1 before starting the unit, -1 when it could not be started. */
static int mark_manual_run(const char *name, int increment) {
        _cleanup_(redis_done) Redis r = {};
        char key[512];
        int k;

        if (!claim_run_now_key(key, sizeof key, name))
                return EX_USAGE;
        k = ctl_connect(&r);
        if (k != EX_OK)
                return k;
        k = redis_append(&r, "INCRBY %s %d", key, increment);
        if (k >= 0)
                k = redis_append(&r, "EXPIRE %s %lld", key, CLAIM_RUN_NOW_TTL_SEC);
        if (k >= 0)
                k = redis_get_reply(&r, NULL);
        if (k >= 0)
                k = redis_get_reply(&r, NULL);
        return k < 0 ? ctl_redis_error(&r, k, "mark the run as manual") : EX_OK;
}

static int run_now(const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *unit = NULL, *path = NULL;
        JobWait w = {};
        const char *job;
        usec_t deadline;
        int k;

        unit = strdupf(UNIT_PREFIX "%s.service", name);
        if (!unit)
                return (void) log_oom(), EX_OSERR;
        k = open_system_bus(&bus);
        if (k < 0) {
                log_error_errno(k, "Cannot start %s: no system bus (%m). run-now needs a host booted with systemd; "
                                "elsewhere use jobsctl enqueue with the entry's class and arguments.",
                                unit);
                return EX_UNAVAILABLE;
        }
        if (!arg_no_block) {
                /* Subscribe first so that the end of a quick job is not missed. */
                k = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
                if (k >= 0)
                        k = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &err, NULL, NULL);
                if (k < 0) {
                        log_error_errno(k, "Failed to watch systemd's jobs: %s",
                                        err.message ? err.message : strerror(-k));
                        return EX_UNAVAILABLE;
                }
                sd_bus_error_free(&err);
        }
        k = mark_manual_run(name, +1);
        if (k != EX_OK)
                return k;
        k = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &err, &reply, "ss", unit, "replace");
        if (k < 0) {
                (void) mark_manual_run(name, -1);
                if (sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit") ||
                    sd_bus_error_has_name(&err, "org.freedesktop.systemd1.LoadFailed")) {
                        log_error("No schedule entry '%s': %s is not loaded. systemctl list-timers '" UNIT_PREFIX
                                  "*' lists the entries.",
                                  name, unit);
                        return EX_NOINPUT;
                }
                if (sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED) ||
                    sd_bus_error_has_name(&err, "org.freedesktop.PolicyKit1.Error.NotAuthorized") ||
                    sd_bus_error_has_name(&err, "org.freedesktop.systemd1.InteractiveAuthorizationRequired")) {
                        log_error("Not allowed to start %s: %s. Run it as root (sudo jobsctl run-now %s).", unit,
                                  err.message ? err.message : "access denied", name);
                        return EX_NOPERM;
                }
                log_error("Failed to start %s: %s", unit, err.message ? err.message : strerror(-k));
                return EX_UNAVAILABLE;
        }
        k = sd_bus_message_read(reply, "o", &job);
        if (k < 0) {
                log_error_errno(k, "Failed to read systemd's reply: %m");
                return EX_PROTOCOL;
        }
        if (arg_no_block) {
                if (arg_json != JSON_OFF)
                        return ctl_print_json(json_pack("{s:s, s:s, s:s}", "unit", unit, "job", job, "result", "queued"));
                printf("Started %s (not waiting; journalctl -u %s shows what it did).\n", unit, unit);
                return EX_OK;
        }
        path = strdup(job);
        if (!path)
                return (void) log_oom(), EX_OSERR;
        w.path = path;
        deadline = now_usec(CLOCK_MONOTONIC) + RUN_NOW_TIMEOUT;
        while (!w.result) {
                usec_t n = now_usec(CLOCK_MONOTONIC);
                if (n >= deadline) {
                        log_error("%s did not finish within %s; journalctl -u %s shows why.", unit, "10min", unit);
                        return EX_TEMPFAIL;
                }
                k = sd_bus_process(bus, NULL);
                if (k < 0) {
                        log_error_errno(k, "Lost the system bus while waiting for %s: %m", unit);
                        return EX_UNAVAILABLE;
                }
                if (k > 0)
                        continue;
                k = sd_bus_wait(bus, deadline - n);
                if (k < 0) {
                        log_error_errno(k, "Lost the system bus while waiting for %s: %m", unit);
                        return EX_UNAVAILABLE;
                }
        }
        _cleanup_free_ char *result = w.result;
        if (arg_json != JSON_OFF) {
                k = ctl_print_json(json_pack("{s:s, s:s, s:s}", "unit", unit, "job", job, "result", result));
                return k != EX_OK ? k : streq(result, "done") ? EX_OK : EX_SOFTWARE;
        }
        if (!streq(result, "done")) {
                log_error("%s finished with result '%s'. journalctl -u %s shows why.", unit, result, unit);
                return EX_SOFTWARE;
        }
        printf("Ran %s: the job is enqueued (journalctl -u %s shows its jid).\n", unit, unit);
        return EX_OK;
}

int verb_run_now(int argc, char **argv) {
        char **args;
        int k, n;

        k = ctl_parse_verb(argc, argv, CTL_OPT_NO_BLOCK, &args, &n);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if (n != 1) {
                log_error("Usage: jobsctl run-now NAME (systemctl list-timers '" UNIT_PREFIX "*' lists the entries).");
                return EX_USAGE;
        }
        /* Accept the unit names too, as people copy them from systemctl. */
        _cleanup_free_ char *name = strdup(args[0]);
        if (!name)
                return (void) log_oom(), EX_OSERR;
        size_t l = strlen(name), p = strlen(UNIT_PREFIX);
        bool unit_name = false;
        if (l > 8 && streq(name + l - 8, ".service"))
                name[l - 8] = 0, unit_name = true;
        else if (l > 6 && streq(name + l - 6, ".timer"))
                name[l - 6] = 0, unit_name = true;
        if (unit_name && !strncmp(name, UNIT_PREFIX, p))
                memmove(name, name + p, strlen(name) - p + 1);
        if (!string_is_charset(name, 200, "_.:-") || name[0] == '.' || name[0] == '-') {
                log_error("'%s' is not a schedule entry name; systemctl list-timers '" UNIT_PREFIX "*' lists them.",
                          args[0]);
                return EX_USAGE;
        }
        return run_now(name);
}
