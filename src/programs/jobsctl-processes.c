/* SPDX-License-Identifier: MIT */
/* jobsctl processes, quiet, stop: Sidekiq::ProcessSet, Process#quiet!/#stop! and the WorkSet. */

#include "model/job.h"
#include "programs/jobsctl.h"
#include "util/log.h"
#include "redis/keys.h"

#define PROCESSES_MAX 10000
#define WORK_PER_PROCESS_MAX 10000

void processes_free(ProcessInfo *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(p[i].identity);
                json_decref(p[i].info);
        }
        free(p);
}

static int compare_identity(const void *a, const void *b) {
        return strcmp(((const ProcessInfo *) a)->identity, ((const ProcessInfo *) b)->identity);
}

static usec_t reply_to_time(const redisReply *e) {
        if (e->type != REDIS_REPLY_STRING)
                return 0;
        return usec_from_sidekiq_time(strtod(e->str, NULL), !memchr(e->str, '.', e->len));
}

int ctl_processes(Redis *r, ProcessInfo **ret, size_t *ret_n) {
        _cleanup_reply_ redisReply *ids = NULL;
        ProcessInfo *p;
        size_t n = 0, m;
        int k = 0;

        k = redis_command(r, &ids, "SMEMBERS " REDIS_KEY_PROCESSES);
        if (k < 0)
                return k;
        if (ids->type != REDIS_REPLY_ARRAY)
                return -EPROTO;
        if (ids->elements > PROCESSES_MAX)
                return -E2BIG;
        m = ids->elements;
        p = calloc(MAX(m, (size_t) 1), sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < m; i++) {
                if (ids->element[i]->type != REDIS_REPLY_STRING)
                        continue;
                k = redis_append(r, "HMGET %b info busy beat quiet rss concurrency", ids->element[i]->str,
                                 ids->element[i]->len);
                if (k < 0)
                        goto fail;
        }
        for (size_t i = 0; i < m; i++) {
                _cleanup_reply_ redisReply *h = NULL;
                json_t *info, *v;

                if (ids->element[i]->type != REDIS_REPLY_STRING)
                        continue;
                k = redis_get_reply(r, &h);
                if (k < 0)
                        goto fail;
                /* As Sidekiq's ProcessSet: no info means the heartbeat expired; skip it. */
                if (h->type != REDIS_REPLY_ARRAY || h->elements != 6 || h->element[0]->type != REDIS_REPLY_STRING)
                        continue;
                info = json_loadb(h->element[0]->str, h->element[0]->len, 0, NULL);
                if (!json_is_object(info)) {
                        json_decref(info);
                        continue;
                }
                p[n] = (ProcessInfo) {
                        .identity = strndup(ids->element[i]->str, ids->element[i]->len),
                        .info = info,
                        .busy = ctl_reply_integer(h->element[1]),
                        .beat = reply_to_time(h->element[2]),
                        .quiet = h->element[3]->type == REDIS_REPLY_STRING && streq(h->element[3]->str, "true"),
                        .rss = ctl_reply_integer(h->element[4]),
                };
                n++;
                if (!p[n - 1].identity) {
                        k = -ENOMEM;
                        goto fail;
                }
                /* Sidekiq 7 keeps concurrency in the hash, Sidekiq 6 in info. */
                v = json_object_get(info, "concurrency");
                p[n - 1].concurrency = h->element[5]->type != REDIS_REPLY_NIL ? ctl_reply_integer(h->element[5]) :
                                       json_is_integer(v)                     ? json_integer_value(v) :
                                                                                0;
                p[n - 1].started_at = ctl_job_time(info, "started_at");
        }
        qsort(p, n, sizeof *p, compare_identity);
        *ret = p;
        *ret_n = n;
        return 0;

fail:
        processes_free(p, n);
        return k;
}

static const char *info_string(json_t *info, const char *key) {
        json_t *v = json_object_get(info, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *ctl_processes_to_json(const ProcessInfo *p, size_t n) {
        json_auto_t *a = json_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_pack("{s:s, s:O, s:I, s:I, s:o, s:o, s:b, s:I}", "identity", p[i].identity, "info",
                                      p[i].info, "busy", (json_int_t) p[i].busy, "concurrency",
                                      (json_int_t) p[i].concurrency, "beat", ctl_json_time(p[i].beat), "started_at",
                                      ctl_json_time(p[i].started_at), "quiet", p[i].quiet, "rss_kb",
                                      (json_int_t) p[i].rss);
                if (json_array_append_new(a, o) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static char *queues_of(json_t *info) {
        json_t *q = json_object_get(info, "queues"), *v;
        size_t i, len = 0;
        char *s;

        if (!json_is_array(q))
                return strdup("-");
        json_array_foreach(q, i, v) if (json_is_string(v)) len += strlen(json_string_value(v)) + 1;
        s = calloc(1, len + 2);
        if (!s)
                return NULL;
        json_array_foreach(q, i, v) if (json_is_string(v)) {
                if (s[0])
                        strcat(s, ",");
                strcat(s, json_string_value(v));
        }
        return s;
}

int ctl_print_processes(const ProcessInfo *p, size_t n, usec_t now) {
        _cleanup_(table_freep) Table *t = table_new(
                8, (const char *[]) { "IDENTITY", "TAG", "STARTED", "BUSY", "QUEUES", "RSS", "HEARTBEAT", "STATE" });
        char buf[TIMESTAMP_MAX];

        if (!t)
                return (void) log_oom(), EX_OSERR;
        table_set_align_right(t, 3, true);
        table_set_align_right(t, 5, true);
        table_set_shrink_column(t, 4);
        table_set_shrink_column(t, 0);
        table_set_min_width(t, 0, 20);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *queues = queues_of(p[i].info);
                bool stale = p[i].beat > 0 && now > p[i].beat && now - p[i].beat > 60 * USEC_PER_SEC;

                (void) table_add_cell(t, p[i].identity, ANSI_HIGHLIGHT);
                (void) table_add_cell(t, info_string(p[i].info, "tag"), NULL);
                (void) table_add_cell(t, format_timestamp_relative(buf, sizeof buf, p[i].started_at, now), NULL);
                (void) table_add_cellf(t, p[i].busy > 0 ? ANSI_GREEN : NULL, "%lld/%lld", p[i].busy,
                                       p[i].concurrency);
                (void) table_add_cell(t, queues, NULL);
                if (p[i].rss > 0)
                        (void) table_add_cellf(t, NULL, "%.1fM", (double) p[i].rss / 1024.0);
                else
                        (void) table_add_cell(t, "-", NULL);
                (void) table_add_cell(t, format_timestamp_relative(buf, sizeof buf, p[i].beat, now),
                                      stale ? ANSI_RED : NULL);
                (void) table_add_cell(t, p[i].quiet ? "quiet" : "running", p[i].quiet ? ANSI_YELLOW : ANSI_GREEN);
        }
        if (table_get_rows(t) != n)
                return (void) log_oom(), EX_OSERR;
        return ctl_print_table(t);
}

int verb_processes(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        ProcessInfo *p = NULL;
        size_t n = 0;
        int k;

        k = ctl_begin(argc, argv, 0, &r);
        if (k != 0)
                return k < 0 ? EX_OK : k;
        k = ctl_processes(&r, &p, &n);
        if (k == -E2BIG) {
                log_error("Redis set '" REDIS_KEY_PROCESSES "' has more than %d members; refusing to list them.", PROCESSES_MAX);
                return EX_DATAERR;
        }
        if (k < 0)
                return ctl_redis_error(&r, k, "list processes");
        if (arg_json != JSON_OFF)
                k = ctl_print_json(ctl_processes_to_json(p, n));
        else {
                k = ctl_print_processes(p, n, now_usec(CLOCK_REALTIME));
                if (k == EX_OK && arg_legend)
                        printf("\n%zu process%s listed.\n", n, n == 1 ? "" : "es");
        }
        processes_free(p, n);
        return k;
}

static int busy_entry(const char *identity, const char *thread, const char *value, size_t len, json_t *out) {
        json_auto_t *w = json_loadb(value, len, 0, NULL);
        json_t *payload, *job = NULL, *run_at;

        if (!json_is_object(w))
                return 0;
        /* Sidekiq 6.4-7 store the payload as a JSON string inside the JSON; accept an object too. */
        payload = json_object_get(w, "payload");
        if (json_is_string(payload))
                job = json_loadb(json_string_value(payload), json_string_length(payload), 0, NULL);
        else if (json_is_object(payload))
                job = json_incref(payload);
        if (!json_is_object(job)) {
                json_decref(job);
                job = json_object();
        }
        run_at = json_object_get(w, "run_at");
        return json_array_append_new(
                out, json_pack("{s:s, s:s, s:O?, s:o, s:o}", "process", identity, "thread", thread, "queue",
                               json_object_get(w, "queue"), "run_at",
                               ctl_json_time(json_is_number(run_at) ? usec_from_sidekiq_time(
                                                                              json_number_value(run_at), false) :
                                                                      0),
                               "job", job));
}

static int compare_run_at(const void *a, const void *b) {
        double x = json_real_value(json_object_get(*(json_t *const *) a, "run_at"));
        double y = json_real_value(json_object_get(*(json_t *const *) b, "run_at"));
        return (x > y) - (x < y);
}

int ctl_busy_jobs(Redis *r, const ProcessInfo *p, size_t n, json_t **ret) {
        json_auto_t *a = json_array(), *sorted = NULL;
        _cleanup_free_ json_t **v = NULL;
        size_t i;
        json_t *e;
        int k;

        if (!a)
                return -ENOMEM;
        /* Sidekiq >= 6.4.2 keeps the running jobs in <identity>:work, older ones in <identity>:workers;
         * jobs-worker writes both (for either Web UI): each job is counted once, from :work if there
         * is one, else from :workers. */
        for (i = 0; i < 2 * n; i++) {
                k = redis_append(r, i % 2 ? "HGETALL %s" REDIS_KEY_WORKERS_SUFFIX : "HGETALL %s" REDIS_KEY_WORK_SUFFIX, p[i / 2].identity);
                if (k < 0)
                        return k;
        }
        for (i = 0; i < n; i++) {
                _cleanup_reply_ redisReply *work = NULL, *workers = NULL;
                const redisReply *h;

                k = redis_get_reply(r, &work);
                if (k >= 0)
                        k = redis_get_reply(r, &workers);
                if (k < 0)
                        return k;
                h = work->type == REDIS_REPLY_ARRAY && work->elements > 0 ? work : workers;
                if (h->type != REDIS_REPLY_ARRAY)
                        continue;
                for (size_t j = 0; j + 1 < h->elements && j < 2 * WORK_PER_PROCESS_MAX; j += 2) {
                        _cleanup_free_ char *thread = NULL;
                        if (h->element[j]->type != REDIS_REPLY_STRING || h->element[j + 1]->type != REDIS_REPLY_STRING)
                                continue;
                        thread = strndup(h->element[j]->str, h->element[j]->len);
                        if (!thread)
                                return -ENOMEM;
                        if (busy_entry(p[i].identity, thread, h->element[j + 1]->str, h->element[j + 1]->len, a) < 0)
                                return -ENOMEM;
                }
        }
        /* Oldest first, as Sidekiq's WorkSet. */
        v = calloc(MAX(json_array_size(a), (size_t) 1), sizeof *v);
        sorted = json_array();
        if (!v || !sorted)
                return -ENOMEM;
        json_array_foreach(a, i, e) v[i] = e;
        qsort(v, json_array_size(a), sizeof *v, compare_run_at);
        for (i = 0; i < json_array_size(a); i++)
                if (json_array_append(sorted, v[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(sorted);
        return 0;
}

int ctl_print_busy(json_t *busy, usec_t now) {
        _cleanup_(table_freep) Table *t =
                table_new(5, (const char *[]) { "JID", "CLASS", "QUEUE", "PROCESS", "STARTED" });
        char buf[TIMESTAMP_MAX];
        json_t *w;
        size_t i;

        if (!t)
                return (void) log_oom(), EX_OSERR;
        /* A unique jid prefix is enough for show/retry/delete. */
        table_set_shrink_column(t, 0);
        table_set_min_width(t, 0, 10);
        table_set_shrink_column(t, 3);
        table_set_min_width(t, 3, 16);
        json_array_foreach(busy, i, w) {
                json_t *job = json_object_get(w, "job");
                json_t *run_at = json_object_get(w, "run_at");
                usec_t started = json_is_number(run_at) ? usec_from_sidekiq_time(json_number_value(run_at), false) : 0;

                (void) table_add_cell(t, json_string_value(json_object_get(job, "jid")), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(job, "class")), ANSI_HIGHLIGHT);
                (void) table_add_cell(t, json_string_value(json_object_get(w, "queue")), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(w, "process")), NULL);
                (void) table_add_cell(t, format_timestamp_relative(buf, sizeof buf, started, now), NULL);
        }
        if (table_get_rows(t) != json_array_size(busy))
                return (void) log_oom(), EX_OSERR;
        return ctl_print_table(t);
}

static int signal_one(Redis *r, const char *identity, const char *sig) {
        _cleanup_reply_ redisReply *reply = NULL;
        int k;

        /* Sidekiq's Process#signal: LPUSH <identity>-signals SIG and EXPIRE 60, in one transaction;
         * only for a process that is registered and alive (its hash exists). */
        k = redis_command(r, &reply, "EVAL %s 3 " REDIS_KEY_PROCESSES " %s %s" REDIS_KEY_SIGNALS_SUFFIX " %s %s",
                          "if redis.call('sismember', KEYS[1], ARGV[1]) == 0 or "
                          "redis.call('exists', KEYS[2]) == 0 then return 0 end "
                          "redis.call('lpush', KEYS[3], ARGV[2]) "
                          "redis.call('expire', KEYS[3], 60) return 1",
                          identity, identity, identity, sig);
        if (k < 0)
                return k;
        return reply->type == REDIS_REPLY_INTEGER ? (int) reply->integer : -EPROTO;
}

int verb_signal(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        const char *sig = streq(argv[0], "quiet") ? "TSTP" : "TERM";
        const char *what = streq(argv[0], "quiet") ? "quiet" : "stop";
        json_auto_t *done = NULL;
        char **args;
        int k, nargs;

        k = ctl_parse_verb(argc, argv, CTL_OPT_ALL, &args, &nargs);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if ((arg_all && nargs != 0) || (!arg_all && nargs != 1)) {
                log_error("Usage: jobsctl %s IDENTITY|--all (jobsctl processes lists the identities).", argv[0]);
                return EX_USAGE;
        }
        if (!arg_all && (strlen(args[0]) > 512 || !args[0][0])) {
                log_error("'%s' is not a process identity; jobsctl processes lists them.", args[0]);
                return EX_USAGE;
        }
        k = ctl_connect(&r);
        if (k != EX_OK)
                return k;
        done = json_array();
        if (!done)
                return (void) log_oom(), EX_OSERR;

        if (arg_all) {
                ProcessInfo *p = NULL;
                size_t n = 0;

                k = ctl_processes(&r, &p, &n);
                if (k < 0)
                        return ctl_redis_error(&r, k, "list processes");
                for (size_t i = 0; i < n && k >= 0; i++) {
                        k = signal_one(&r, p[i].identity, sig);
                        if (k > 0 && json_array_append_new(done, json_string(p[i].identity)) < 0)
                                k = -ENOMEM;
                }
                processes_free(p, n);
                if (k < 0)
                        return ctl_redis_error(&r, k, "signal the processes");
        } else {
                k = signal_one(&r, args[0], sig);
                if (k < 0)
                        return ctl_redis_error(&r, k, "signal the process");
                if (k == 0) {
                        log_error("No live process '%s' in Redis at %s (none registered, or its heartbeat expired). "
                                  "jobsctl processes lists them.",
                                  args[0], r.where);
                        return EX_NOINPUT;
                }
                if (json_array_append_new(done, json_string(args[0])) < 0)
                        return (void) log_oom(), EX_OSERR;
        }

        if (arg_json != JSON_OFF)
                return ctl_print_json(json_pack("{s:s, s:O}", "signal", sig, "processes", done));
        size_t i;
        json_t *v;
        json_array_foreach(done, i, v)
                printf("Asked %s to %s (%s).\n", json_string_value(v), what, sig);
        if (json_array_size(done) == 0)
                printf("No live processes to %s.\n", what);
        return EX_OK;
}
