/* SPDX-License-Identifier: MIT */
/* jobsctl queues, queue clear: Sidekiq::Queue — size, latency (age of the oldest job), clear. */

#include "model/job.h"
#include "programs/jobsctl.h"
#include "util/log.h"
#include "redis/keys.h"

#define QUEUES_MAX 10000 /* members of the "queues" set we are willing to show */

void queue_summaries_free(QueueSummary *q, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(q[i].name);
        free(q);
}

static int compare_names(const void *a, const void *b) {
        return strcmp(((const QueueSummary *) a)->name, ((const QueueSummary *) b)->name);
}

static usec_t oldest_enqueued(const redisReply *reply) {
        json_auto_t *job = NULL;
        usec_t t;

        if (reply->type != REDIS_REPLY_STRING)
                return 0;
        job = json_loadb(reply->str, reply->len, 0, NULL);
        /* As Sidekiq's latency: enqueued_at, else created_at. */
        t = ctl_job_time(job, "enqueued_at");
        return t > 0 ? t : ctl_job_time(job, "created_at");
}

int ctl_queue_summaries(Redis *r, QueueSummary **ret, size_t *ret_n) {
        _cleanup_reply_ redisReply *names = NULL;
        QueueSummary *q = NULL;
        size_t n = 0;
        int k;

        k = redis_command(r, &names, "SMEMBERS " REDIS_KEY_QUEUES);
        if (k < 0)
                return k;
        if (names->type != REDIS_REPLY_ARRAY)
                return -EPROTO;
        if (names->elements > QUEUES_MAX)
                return -E2BIG;
        q = calloc(MAX(names->elements, (size_t) 1), sizeof *q);
        if (!q)
                return -ENOMEM;
        for (size_t i = 0; i < names->elements; i++) {
                redisReply *e = names->element[i];
                if (e->type != REDIS_REPLY_STRING)
                        continue;
                q[n].name = strndup(e->str, e->len);
                if (!q[n].name) {
                        queue_summaries_free(q, n);
                        return -ENOMEM;
                }
                n++;
        }
        qsort(q, n, sizeof *q, compare_names);

        /* One round trip for all queues: LLEN and the oldest job (the right end) of each. */
        for (size_t i = 0; i < n; i++) {
                k = redis_append(r, "LLEN " REDIS_KEY_QUEUE_PREFIX "%s", q[i].name);
                if (k >= 0)
                        k = redis_append(r, "LINDEX " REDIS_KEY_QUEUE_PREFIX "%s -1", q[i].name);
                if (k < 0) {
                        queue_summaries_free(q, n);
                        return k;
                }
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_reply_ redisReply *len = NULL, *oldest = NULL;
                int k2;

                k = redis_get_reply(r, &len);
                k2 = redis_get_reply(r, &oldest);
                if (k < 0 || k2 < 0) {
                        queue_summaries_free(q, n);
                        return k < 0 ? k : k2;
                }
                q[i].size = len->type == REDIS_REPLY_INTEGER ? len->integer : 0;
                q[i].oldest = oldest_enqueued(oldest);
        }
        *ret = q;
        *ret_n = n;
        return 0;
}

json_t *ctl_queues_to_json(const QueueSummary *q, size_t n, usec_t now) {
        json_auto_t *a = json_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_pack("{s:s, s:I, s:f, s:o}", "name", q[i].name, "size", (json_int_t) q[i].size,
                                      "latency",
                                      q[i].oldest > 0 && q[i].oldest < now ?
                                              (double) (now - q[i].oldest) / (double) USEC_PER_SEC :
                                              0.0,
                                      "oldest_enqueued_at", ctl_json_time(q[i].oldest));
                if (json_array_append_new(a, o) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

int ctl_print_queues(const QueueSummary *q, size_t n, usec_t now) {
        _cleanup_(table_freep) Table *t = table_new(4, (const char *[]) { "QUEUE", "SIZE", "LATENCY", "OLDEST" });
        char buf[TIMESTAMP_MAX * 2];

        if (!t)
                return (void) log_oom(), EX_OSERR;
        table_set_align_right(t, 1, true);
        table_set_align_right(t, 2, true);
        for (size_t i = 0; i < n; i++) {
                (void) table_add_cell(t, q[i].name, ANSI_HIGHLIGHT);
                (void) table_add_cellf(t, NULL, "%lld", q[i].size);
                (void) table_add_cell(t,
                                      q[i].oldest > 0 ? format_timespan_short(buf, sizeof buf,
                                                                              now > q[i].oldest ? now - q[i].oldest : 0) :
                                                        "0",
                                      NULL);
                (void) table_add_cell(t, q[i].oldest > 0 ? format_timestamp(buf, sizeof buf, q[i].oldest, false) : "-",
                                      NULL);
        }
        if (table_get_rows(t) != n)
                return (void) log_oom(), EX_OSERR;
        return ctl_print_table(t);
}

int verb_queues(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        QueueSummary *q = NULL;
        size_t n = 0;
        long long total = 0;
        int k;

        k = ctl_begin(argc, argv, CTL_OPT_NAMES, &r);
        if (k != 0)
                return k < 0 ? EX_OK : k;
        k = ctl_queue_summaries(&r, &q, &n);
        if (k == -E2BIG) {
                log_error("Redis set '" REDIS_KEY_QUEUES "' has more than %d members; refusing to list them.", QUEUES_MAX);
                return EX_DATAERR;
        }
        if (k < 0)
                return ctl_redis_error(&r, k, "list queues");

        usec_t now = now_usec(CLOCK_REALTIME);
        if (arg_json != JSON_OFF)
                k = ctl_print_json(ctl_queues_to_json(q, n, now));
        else if (arg_names) {
                /* Names come from Redis: nothing in them may drive the terminal. */
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *clean = string_sanitize(q[i].name, JOB_QUEUE_MAX * 4);
                        puts(clean ? clean : "");
                }
                k = EX_OK;
        } else {
                k = ctl_print_queues(q, n, now);
                for (size_t i = 0; i < n; i++)
                        total += q[i].size;
                if (k == EX_OK && arg_legend)
                        printf("\n%zu queue%s listed, %lld job%s waiting.\n", n, n == 1 ? "" : "s", total,
                               total == 1 ? "" : "s");
        }
        queue_summaries_free(q, n);
        return k;
}

static int queue_clear(const char *name) {
        _cleanup_(redis_done) Redis r = {};
        _cleanup_reply_ redisReply *reply = NULL;
        int k;

        if (!job_queue_is_valid(name)) {
                log_error("'%s' is not a queue name (letters, digits, '_', '.', ':', '-'; at most %d bytes). "
                          "jobsctl queues lists them.",
                          name, JOB_QUEUE_MAX);
                return EX_USAGE;
        }
        k = ctl_connect(&r);
        if (k != EX_OK)
                return k;
        /* Sidekiq's Queue#clear: UNLINK queue:<q> and SREM queues <q>, atomically; the script also
         * returns what was there so that we can say it. */
        k = redis_command(&r, &reply, "EVAL %s 2 " REDIS_KEY_QUEUE_PREFIX "%s " REDIS_KEY_QUEUES " %s",
                          "local n = redis.call('llen', KEYS[1]) "
                          "local m = redis.call('srem', KEYS[2], ARGV[1]) "
                          "redis.call('unlink', KEYS[1]) return {n, m}",
                          name, name);
        if (k < 0)
                return ctl_redis_error(&r, k, "clear the queue");
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_INTEGER)
                return ctl_redis_error(&r, -EPROTO, "clear the queue");
        if (reply->element[0]->integer == 0 && reply->element[1]->integer == 0) {
                log_error("No queue '%s' in Redis at %s. jobsctl queues lists them.", name, r.where);
                return EX_NOINPUT;
        }
        if (arg_json != JSON_OFF)
                return ctl_print_json(
                        json_pack("{s:s, s:I}", "queue", name, "deleted", (json_int_t) reply->element[0]->integer));
        printf("Deleted %lld job%s from queue %s.\n", reply->element[0]->integer,
               reply->element[0]->integer == 1 ? "" : "s", name);
        return EX_OK;
}

int verb_queue(int argc, char **argv) {
        char **args;
        int k, n;

        k = ctl_parse_verb(argc, argv, 0, &args, &n);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if (n == 2 && streq(args[0], "clear"))
                return queue_clear(args[1]);
        log_error("Usage: jobsctl queue clear NAME (jobsctl queues lists the names).");
        return EX_USAGE;
}
