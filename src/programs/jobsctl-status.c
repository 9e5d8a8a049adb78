/* SPDX-License-Identifier: MIT */
/* jobsctl status: one screen like sidekiqmon — Sidekiq::Stats, queues, busy jobs, processes, and the
 * local timers of the schedule. */

#include <stdarg.h>
#include <time.h>

#include "programs/jobsctl.h"
#include "util/log.h"
#include "redis/keys.h"

#define INFLIGHT_LISTS_MAX 10000

int ctl_read_stats(Redis *r, Stats *ret) {
        _cleanup_reply_ redisReply *reply = NULL;
        char today[16];
        time_t t = time(NULL);
        struct tm tm;
        const char *v;
        int k;

        /* Sidekiq's daily keys are in UTC. */
        if (!gmtime_r(&t, &tm) || strftime(today, sizeof today, "%Y-%m-%d", &tm) == 0)
                return -EINVAL;
        k = redis_command(r, &reply, "MGET " REDIS_KEY_STAT_PREFIX "processed " REDIS_KEY_STAT_PREFIX "failed " REDIS_KEY_STAT_PREFIX "processed:%s " REDIS_KEY_STAT_PREFIX "failed:%s", today, today);
        if (k < 0)
                return k;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
                return -EPROTO;
        ret->processed = ctl_reply_integer(reply->element[0]);
        ret->failed = ctl_reply_integer(reply->element[1]);
        ret->processed_today = ctl_reply_integer(reply->element[2]);
        ret->failed_today = ctl_reply_integer(reply->element[3]);

        static const char *const sets[] = { REDIS_KEY_SCHEDULE, REDIS_KEY_RETRY, REDIS_KEY_DEAD };
        long long *dst[] = { &ret->scheduled, &ret->retries, &ret->dead };
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                k = redis_append(r, "ZCARD %s", sets[i]);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                _cleanup_reply_ redisReply *z = NULL;
                k = redis_get_reply(r, &z);
                if (k < 0)
                        return k;
                *dst[i] = ctl_reply_integer(z);
        }

        _cleanup_reply_ redisReply *info = NULL;
        k = redis_command(r, &info, "INFO server");
        if (k >= 0 && info->type == REDIS_REPLY_STRING && (v = strstr(info->str, "redis_version:")))
                snprintf(ret->version, sizeof ret->version, "%.*s", (int) strcspn(v + 14, "\r\n"), v + 14);
        return 0;
}

static bool bus_is_absent(int error) {
        return error == -ENOENT || error == -ECONNREFUSED || error == -ENOMEDIUM;
}

/* jobs-worker's reliable fetch keeps the jobs it runs in lists named in the hash jobs:inflight
 * (list key -> owner identity); an owner without a jobs:alive:<identity> key stopped beating and
 * its jobs go back to their queues at the next heartbeat of any worker. */
static int read_in_flight(Redis *r, Stats *s) {
        _cleanup_reply_ redisReply *h = NULL;
        size_t n;
        int k;

        k = redis_command(r, &h, "HGETALL " REDIS_KEY_INFLIGHT);
        if (k < 0)
                return k;
        if (h->type != REDIS_REPLY_ARRAY)
                return 0; /* not ours to judge: someone else's data under that name */
        n = MIN(h->elements / 2, (size_t) INFLIGHT_LISTS_MAX);
        for (size_t i = 0; i < n; i++) {
                if (h->element[2 * i]->type != REDIS_REPLY_STRING || h->element[2 * i + 1]->type != REDIS_REPLY_STRING)
                        return -EPROTO;
                k = redis_append(r, "LLEN %b", h->element[2 * i]->str, h->element[2 * i]->len);
                if (k >= 0)
                        k = redis_append(r, "EXISTS " REDIS_KEY_ALIVE_PREFIX "%b", h->element[2 * i + 1]->str,
                                         h->element[2 * i + 1]->len);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_reply_ redisReply *len = NULL, *alive = NULL;
                int k2;

                k = redis_get_reply(r, &len);
                k2 = redis_get_reply(r, &alive);
                if (k < 0 || k2 < 0)
                        return k < 0 ? k : k2;
                s->in_flight += ctl_reply_integer(len);
                if (ctl_reply_integer(alive) == 0)
                        s->in_flight_orphaned += ctl_reply_integer(len);
        }
        return 0;
}

static void heading(const char *s) {
        bool c = ctl_colors();
        printf("\n%s%s%s\n", c ? ANSI_HIGHLIGHT : "", s, c ? ANSI_NORMAL : "");
}

static void print_timers(json_t *timers, int timers_error, usec_t now) {
        _cleanup_(table_freep) Table *t = NULL;
        char buf[TIMESTAMP_MAX];
        json_t *e;
        size_t i;

        heading("Timers");
        if (timers_error < 0) {
                /* No bus socket at all is the usual case in a container without systemd. */
                if (bus_is_absent(timers_error))
                        printf("  Not available: no system bus (%s).\n", strerror(-timers_error));
                else
                        printf("  Not available: systemd did not answer over the system bus (%s).\n",
                               strerror(-timers_error));
                printf("  On a host booted with systemd this lists the jobs-*.timer units of the schedule\n"
                       "  with their next and last run.\n");
                return;
        }
        if (json_array_size(timers) == 0) {
                printf("  No jobs-*.timer units are loaded (is jobs.target active? systemctl status jobs.target).\n");
                return;
        }
        t = table_new(6, (const char *[]) { "NEXT", "LEFT", "LAST", "PASSED", "UNIT", "ACTIVATES" });
        if (!t) {
                log_oom();
                return;
        }
        table_set_shrink_column(t, 5);
        table_set_shrink_column(t, 4);
        table_set_min_width(t, 4, 16);
        json_array_foreach(timers, i, e) {
                usec_t next = (usec_t) (json_number_value(json_object_get(e, "next")) * (double) USEC_PER_SEC);
                usec_t last = (usec_t) (json_number_value(json_object_get(e, "last")) * (double) USEC_PER_SEC);

                (void) table_add_cell(t, format_timestamp(buf, sizeof buf, next, false), NULL);
                (void) table_add_cell(t, format_timestamp_relative(buf, sizeof buf, next, now), NULL);
                (void) table_add_cell(t, format_timestamp(buf, sizeof buf, last, false), NULL);
                (void) table_add_cell(t, format_timestamp_relative(buf, sizeof buf, last, now), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "unit")), ANSI_HIGHLIGHT);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "activates")), NULL);
        }
        (void) ctl_print_table(t);
}

static void print_worker_units(json_t *units, int error) {
        _cleanup_(table_freep) Table *t = NULL;
        json_t *e;
        size_t i;

        heading("Worker units");
        if (error < 0) {
                printf("  Not available: %s (%s).\n", bus_is_absent(error) ? "no system bus" : "systemd did not answer",
                       strerror(-error));
                return;
        }
        if (json_array_size(units) == 0) {
                printf("  jobs-worker.service is not loaded (systemctl status jobs-worker).\n");
                return;
        }
        t = table_new(4, (const char *[]) { "UNIT", "ACTIVE", "SUB", "STATUS" });
        if (!t) {
                log_oom();
                return;
        }
        table_set_shrink_column(t, 3);
        table_set_min_width(t, 3, 20);
        json_array_foreach(units, i, e) {
                const char *active = json_string_value(json_object_get(e, "active"));

                (void) table_add_cell(t, json_string_value(json_object_get(e, "unit")), ANSI_HIGHLIGHT);
                (void) table_add_cell(t, active, streq_ptr(active, "active") ? ANSI_GREEN :
                                                 streq_ptr(active, "failed") ? ANSI_RED : NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "sub")), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "status_text")) ?: "-", NULL);
        }
        (void) ctl_print_table(t);
}

typedef struct ScheduleSummary {
        size_t entries;
        long long missed;
        usec_t last_claim;
        const char *last_host, *last_entry; /* point into the entries' JSON */
} ScheduleSummary;

static void summarize_schedule(json_t *entries, ScheduleSummary *ret) {
        json_t *e;
        size_t i;

        *ret = (ScheduleSummary) { .entries = json_array_size(entries) };
        json_array_foreach(entries, i, e) {
                usec_t t = (usec_t) (json_number_value(json_object_get(e, "claimed_at")) * (double) USEC_PER_SEC);

                ret->missed += json_integer_value(json_object_get(e, "missed"));
                if (t > ret->last_claim) {
                        ret->last_claim = t;
                        ret->last_host = json_string_value(json_object_get(e, "host"));
                        ret->last_entry = json_string_value(json_object_get(e, "entry"));
                }
        }
}

static json_t *stats_json(const Stats *s, const char *where) {
        return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "redis", where,
                         "redis_version", s->version[0] ? s->version : NULL, "processed", (json_int_t) s->processed,
                         "failed", (json_int_t) s->failed, "processed_today", (json_int_t) s->processed_today,
                         "failed_today", (json_int_t) s->failed_today, "scheduled", (json_int_t) s->scheduled,
                         "retries", (json_int_t) s->retries, "dead", (json_int_t) s->dead, "in_flight",
                         (json_int_t) s->in_flight, "in_flight_orphaned", (json_int_t) s->in_flight_orphaned);
}

/* The local side, whether Redis answers or not. */
typedef struct Local {
        json_t *timers, *workers, *failed;
        int timers_error, workers_error, failed_error;
} Local;

static void local_read(Local *l) {
        static const char *const workers[] = { "jobs-worker.service", "jobs-worker@*.service", NULL };
        static const char *const services[] = { "jobs-*.service", NULL };

        l->timers_error = ctl_list_timers(&l->timers);
        l->workers_error = ctl_list_services(workers, NULL, &l->workers);
        l->failed_error = ctl_list_services(services, "failed", &l->failed);
}

static void local_done(Local *l) {
        json_decref(l->timers);
        json_decref(l->workers);
        json_decref(l->failed);
}

/* Nagios plugin convention: https://nagios-plugins.org/doc/guidelines.html#AEN78 */
enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

typedef struct Check {
        int state;
        char text[512];
} Check;

static void check_add(Check *c, int state, const char *fmt, ...) _printf_(3, 4);
static void check_add(Check *c, int state, const char *fmt, ...) {
        size_t n = strlen(c->text);
        va_list ap;

        if (state == CHECK_OK)
                return;
        if (state > c->state)
                c->state = state;
        if (n > 0 && n + 2 < sizeof c->text) {
                memcpy(c->text + n, "; ", 3);
                n += 2;
        }
        va_start(ap, fmt);
        (void) vsnprintf(c->text + n, sizeof c->text - n, fmt, ap);
        va_end(ap);
}

/* Timers whose next elapse passed this long ago did not fire: an occurrence was missed. */
#define CHECK_TIMER_GRACE (5 * USEC_PER_MINUTE)

static int check_local(Check *c, const Local *l, usec_t now) {
        json_t *e;
        size_t i;

        json_array_foreach(l->failed, i, e)
                check_add(c, CHECK_CRITICAL, "%s failed (an occurrence was not enqueued)",
                          json_string_value(json_object_get(e, "unit")));
        json_array_foreach(l->timers, i, e) {
                double next = json_number_value(json_object_get(e, "next"));
                usec_t t = next > 0 ? (usec_t) (next * (double) USEC_PER_SEC) : 0;

                if (t > 0 && t + CHECK_TIMER_GRACE < now)
                        check_add(c, CHECK_CRITICAL, "%s missed its occurrence of %.0f s ago",
                                  json_string_value(json_object_get(e, "unit")), (double) (now - t) / 1e6);
        }
        return 0;
}

static int check_print(const Check *c, const char *summary, const char *perf) {
        static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

        printf("JOBS %s - %s%s%s\n", names[c->state], c->text[0] ? c->text : summary, perf ? " | " : "",
               strempty(perf));
        return fflush(stdout) == 0 ? c->state : CHECK_UNKNOWN;
}

static int status_check(Redis *r, const Stats *s, const QueueSummary *q, size_t nq, size_t np, const Local *l,
                        usec_t now) {
        _cleanup_reply_ redisReply *dead = NULL;
        char summary[256], perf[256], d[DURATION_MAX], m[DURATION_MAX];
        long long enqueued = 0, recent_dead;
        usec_t latency = 0;
        Check c = {};
        int k;

        k = redis_command(r, &dead, "ZCOUNT dead %f +inf", (double) (now - MIN(now, arg_dead_within)) / 1e6);
        if (k < 0) {
                check_add(&c, CHECK_CRITICAL, "Redis: %s", r->error[0] ? r->error : strerror(-k));
                return check_print(&c, "", NULL);
        }
        recent_dead = ctl_reply_integer(dead);
        for (size_t i = 0; i < nq; i++) {
                enqueued += q[i].size;
                if (q[i].oldest > 0 && now > q[i].oldest) {
                        latency = MAX(latency, now - q[i].oldest);
                        if (now - q[i].oldest > arg_max_latency)
                                check_add(&c, CHECK_WARNING, "queue %s latency %s > %s", q[i].name,
                                          format_duration(d, sizeof d, (now - q[i].oldest) / USEC_PER_SEC * USEC_PER_SEC),
                                          format_duration(m, sizeof m, arg_max_latency));
                }
        }
        if (np == 0)
                check_add(&c, CHECK_CRITICAL, "no worker process beats (%lld job%s waiting)", enqueued,
                          enqueued == 1 ? "" : "s");
        if (recent_dead > 0)
                check_add(&c, CHECK_WARNING, "%lld job%s died in the last %s (%lld dead)", recent_dead,
                          recent_dead == 1 ? "" : "s", format_duration(d, sizeof d, arg_dead_within), s->dead);
        (void) check_local(&c, l, now);
        snprintf(summary, sizeof summary, "%zu worker process%s, %lld enqueued, latency %s, %lld dead", np,
                 np == 1 ? "" : "es", enqueued, format_duration(d, sizeof d, latency / USEC_PER_SEC * USEC_PER_SEC),
                 s->dead);
        snprintf(perf, sizeof perf, "processes=%zu enqueued=%lld latency=%.0fs;%.0f retries=%lld dead=%lld", np, enqueued,
                 (double) latency / 1e6, (double) arg_max_latency / 1e6, s->retries, s->dead);
        return check_print(&c, summary, perf);
}

/* Redis cannot be used: say so, show what the host knows, and return the connection's status. */
static int status_local_only(Redis *r, int status, const Local *l, usec_t now) {
        const char *where = strna(ctl_redis_description());

        if (arg_check) {
                Check c = {};
                check_add(&c, CHECK_CRITICAL, "Redis %s unreachable: %s", where, r->error[0] ? r->error : "see above");
                (void) check_local(&c, l, now);
                return check_print(&c, "", NULL);
        }
        if (arg_json != JSON_OFF) {
                json_t *out = json_pack("{s:s, s:s, s:O?, s:O?}", "redis_source", where, "redis_error",
                                        r->error[0] ? r->error : "unavailable", "worker_units",
                                        l->workers_error < 0 ? NULL : l->workers, "timers",
                                        l->timers_error < 0 ? NULL : l->timers);
                int k = ctl_print_json(out);
                return k == EX_OK ? status : k;
        }
        bool c = ctl_colors();
        printf("Redis:      %s: %sunreachable%s (%s)\n", where, c ? ANSI_RED : "", c ? ANSI_NORMAL : "",
               r->error[0] ? r->error : "see above");
        print_worker_units(l->workers, l->workers_error);
        print_timers(l->timers, l->timers_error, now);
        return fflush(stdout) == 0 ? status : EX_IOERR;
}

int verb_status(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        _cleanup_(local_done) Local l = {};
        json_auto_t *busy = NULL, *out = NULL, *entries = NULL;
        ScheduleSummary sched;
        QueueSummary *q = NULL;
        ProcessInfo *p = NULL;
        size_t nq = 0, np = 0;
        Stats s = {};
        long long enqueued = 0, busy_total = 0, threads = 0;
        char **args;
        int k, n;
        usec_t now;

        k = ctl_parse_verb(argc, argv, CTL_OPT_CHECK, &args, &n);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if (n > 0) {
                log_error("'%s' takes no arguments; see %s --help.", argv[0], program_invocation_short_name);
                return arg_check ? CHECK_UNKNOWN : EX_USAGE;
        }
        k = ctl_connect(&r);
        if (k == EX_OSERR || k == EX_USAGE)
                return arg_check ? CHECK_UNKNOWN : k;
        if (k != EX_OK) {
                local_read(&l);
                return status_local_only(&r, k, &l, now_usec(CLOCK_REALTIME));
        }
        k = ctl_read_stats(&r, &s);
        if (k >= 0)
                k = read_in_flight(&r, &s);
        if (k >= 0)
                k = ctl_queue_summaries(&r, &q, &nq);
        if (k >= 0)
                k = ctl_processes(&r, &p, &np);
        if (k >= 0)
                k = ctl_busy_jobs(&r, p, np, &busy);
        if (k >= 0)
                k = ctl_schedule_entries(&r, &entries);
        if (k < 0) {
                queue_summaries_free(q, nq);
                processes_free(p, np);
                k = ctl_redis_error(&r, k, "read the state");
                local_read(&l);
                return status_local_only(&r, k, &l, now_usec(CLOCK_REALTIME));
        }
        local_read(&l);
        summarize_schedule(entries, &sched);
        now = now_usec(CLOCK_REALTIME);
        for (size_t i = 0; i < nq; i++)
                enqueued += q[i].size;
        for (size_t i = 0; i < np; i++) {
                busy_total += p[i].busy;
                threads += p[i].concurrency;
        }

        if (arg_check) {
                k = status_check(&r, &s, q, nq, np, &l, now);
                goto finish;
        }
        if (arg_json != JSON_OFF) {
                out = stats_json(&s, r.where);
                if (!out || json_object_set_new(out, "redis_source", json_string(strna(ctl_redis_description()))) < 0 ||
                    json_object_set_new(out, "enqueued", json_integer(enqueued)) < 0 ||
                    json_object_set_new(out, "queues", ctl_queues_to_json(q, nq, now)) < 0 ||
                    json_object_set_new(out, "processes", ctl_processes_to_json(p, np)) < 0 ||
                    json_object_set(out, "busy", busy) < 0 ||
                    json_object_set_new(out, "worker_units",
                                        l.workers_error < 0 ? json_null() : json_incref(l.workers)) < 0 ||
                    json_object_set_new(out, "schedule",
                                        json_pack("{s:I, s:I, s:o, s:s?, s:s?}", "entries", (json_int_t) sched.entries,
                                                  "missed", (json_int_t) sched.missed, "last_claim",
                                                  ctl_json_time(sched.last_claim), "last_claim_host", sched.last_host,
                                                  "last_claim_entry", sched.last_entry)) < 0 ||
                    json_object_set_new(out, "timers", l.timers_error < 0 ? json_null() : json_incref(l.timers)) < 0) {
                        log_oom();
                        k = EX_OSERR;
                } else
                        k = ctl_print_json(TAKE_PTR(out));
                goto finish;
        }
        bool c = ctl_colors();
        printf("Redis:      %s%s%s%s\n", strna(ctl_redis_description()), s.version[0] ? ", redis " : "", s.version, "");
        printf("Processed:  %lld (today %lld)\n", s.processed, s.processed_today);
        printf("Failed:     %s%lld%s (today %lld)\n", c && s.failed_today > 0 ? ANSI_RED : "", s.failed,
               c && s.failed_today > 0 ? ANSI_NORMAL : "", s.failed_today);
        printf("Busy:       %lld of %lld threads in %zu process%s\n", busy_total, threads, np, np == 1 ? "" : "es");
        printf("Enqueued:   %lld in %zu queue%s\n", enqueued, nq, nq == 1 ? "" : "s");
        if (s.in_flight_orphaned > 0)
                printf("In flight:  %lld (%s%lld held by stopped workers%s, back in their queues at the next heartbeat)\n",
                       s.in_flight, c ? ANSI_YELLOW : "", s.in_flight_orphaned, c ? ANSI_NORMAL : "");
        else
                printf("In flight:  %lld\n", s.in_flight);
        printf("Scheduled:  %lld\n", s.scheduled);
        printf("Retries:    %s%lld%s\n", c && s.retries > 0 ? ANSI_YELLOW : "", s.retries,
               c && s.retries > 0 ? ANSI_NORMAL : "");
        printf("Dead:       %s%lld%s\n", c && s.dead > 0 ? ANSI_RED : "", s.dead, c && s.dead > 0 ? ANSI_NORMAL : "");
        if (sched.entries == 0)
                printf("Schedule:   no fleet entry enqueued yet\n");
        else {
                char when[TIMESTAMP_MAX];
                printf("Schedule:   %zu entr%s, last claim %s by %s (%s), %s%lld missed%s (jobsctl schedule)\n",
                       sched.entries, sched.entries == 1 ? "y" : "ies",
                       format_timestamp_relative(when, sizeof when, sched.last_claim, now), strna(sched.last_host),
                       strna(sched.last_entry), c && sched.missed > 0 ? ANSI_YELLOW : "", sched.missed,
                       c && sched.missed > 0 ? ANSI_NORMAL : "");
        }

        heading("Queues");
        if (nq == 0)
                printf("  No queues.\n");
        else
                (void) ctl_print_queues(q, nq, now);
        heading("Processes");
        if (np == 0)
                printf("  No worker processes (is jobs-worker.service running? systemctl status jobs-worker).\n");
        else
                (void) ctl_print_processes(p, np, now);
        heading("Busy");
        if (json_array_size(busy) == 0)
                printf("  No jobs running.\n");
        else
                (void) ctl_print_busy(busy, now);
        print_worker_units(l.workers, l.workers_error);
        print_timers(l.timers, l.timers_error, now);
        k = fflush(stdout) == 0 ? EX_OK : EX_IOERR;

finish:
        queue_summaries_free(q, nq);
        processes_free(p, np);
        return k;
}
