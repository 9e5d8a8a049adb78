/* SPDX-License-Identifier: MIT */
/* jobsctl status: one screen like sidekiqmon — Sidekiq::Stats, queues, busy jobs, processes, and the
 * local timers of the schedule. */

#include <time.h>

#include "programs/jobsctl.h"
#include "util/log.h"

#define INFLIGHT_LISTS_MAX 10000

typedef struct Stats {
        long long processed, failed, processed_today, failed_today;
        long long scheduled, retries, dead;
        long long in_flight, in_flight_orphaned; /* jobs-worker's reliable fetch */
        char version[32];
} Stats;

static int read_stats(Redis *r, Stats *ret) {
        _cleanup_reply_ redisReply *reply = NULL;
        char today[16];
        time_t t = time(NULL);
        struct tm tm;
        const char *v;
        int k;

        /* Sidekiq's daily keys are in UTC. */
        if (!gmtime_r(&t, &tm) || strftime(today, sizeof today, "%Y-%m-%d", &tm) == 0)
                return -EINVAL;
        k = redis_command(r, &reply, "MGET stat:processed stat:failed stat:processed:%s stat:failed:%s", today, today);
        if (k < 0)
                return k;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
                return -EPROTO;
        ret->processed = ctl_reply_integer(reply->element[0]);
        ret->failed = ctl_reply_integer(reply->element[1]);
        ret->processed_today = ctl_reply_integer(reply->element[2]);
        ret->failed_today = ctl_reply_integer(reply->element[3]);

        static const char *const sets[] = { "schedule", "retry", "dead" };
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

        k = redis_command(r, &h, "HGETALL jobs:inflight");
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
                        k = redis_append(r, "EXISTS jobs:alive:%b", h->element[2 * i + 1]->str,
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

int verb_status(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        json_auto_t *busy = NULL, *timers = NULL, *out = NULL, *entries = NULL;
        ScheduleSummary sched;
        QueueSummary *q = NULL;
        ProcessInfo *p = NULL;
        size_t nq = 0, np = 0;
        Stats s = {};
        long long enqueued = 0, busy_total = 0, threads = 0;
        int k, timers_error;
        usec_t now;

        k = ctl_begin(argc, argv, 0, &r);
        if (k != 0)
                return k < 0 ? EX_OK : k;
        k = read_stats(&r, &s);
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
                return ctl_redis_error(&r, k, "read the state");
        }
        summarize_schedule(entries, &sched);
        timers_error = ctl_list_timers(&timers);
        now = now_usec(CLOCK_REALTIME);
        for (size_t i = 0; i < nq; i++)
                enqueued += q[i].size;
        for (size_t i = 0; i < np; i++) {
                busy_total += p[i].busy;
                threads += p[i].concurrency;
        }

        if (arg_json != JSON_OFF) {
                out = stats_json(&s, r.where);
                if (!out || json_object_set_new(out, "enqueued", json_integer(enqueued)) < 0 ||
                    json_object_set_new(out, "queues", ctl_queues_to_json(q, nq, now)) < 0 ||
                    json_object_set_new(out, "processes", ctl_processes_to_json(p, np)) < 0 ||
                    json_object_set(out, "busy", busy) < 0 ||
                    json_object_set_new(out, "schedule",
                                        json_pack("{s:I, s:I, s:o, s:s?, s:s?}", "entries", (json_int_t) sched.entries,
                                                  "missed", (json_int_t) sched.missed, "last_claim",
                                                  ctl_json_time(sched.last_claim), "last_claim_host", sched.last_host,
                                                  "last_claim_entry", sched.last_entry)) < 0 ||
                    json_object_set_new(out, "timers", timers_error < 0 ? json_null() : json_incref(timers)) < 0) {
                        log_oom();
                        k = EX_OSERR;
                } else
                        k = ctl_print_json(TAKE_PTR(out));
                goto finish;
        }

        bool c = ctl_colors();
        printf("Redis:      %s%s%s%s\n", r.where, s.version[0] ? " (redis " : "", s.version, s.version[0] ? ")" : "");
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
        print_timers(timers, timers_error, now);
        k = fflush(stdout) == 0 ? EX_OK : EX_IOERR;

finish:
        queue_summaries_free(q, nq);
        processes_free(p, np);
        return k;
}
