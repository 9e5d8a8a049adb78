/* SPDX-License-Identifier: MIT */
/* jobsctl retries|dead|scheduled: list, show, retry, delete, kill — Sidekiq's RetrySet, DeadSet and
 * ScheduledSet with the same effect in Redis as its API for the same action. */

#include <limits.h>

#include "model/job.h"
#include "redis/jobset.h"
#include "programs/jobsctl.h"
#include "util/log.h"

#define BATCH 100
#define SETS_WIDE_COLUMNS 120 /* narrower terminals get the relative time only */
#define JID_PREFIX_SHOWN 10 /* screen columns a cut jid keeps */

typedef struct SetVerb {
        const char *verb;   /* retries, dead, scheduled */
        JobSetKind kind;
        const char *noun;   /* for messages */
        const char *when;   /* column heading for the score */
        bool newest_first;
        bool decrement_on_retry;
} SetVerb;

static const SetVerb set_verbs[] = {
        { "retries", JOB_SET_RETRY, "retry set", "NEXT RETRY", false, true },
        { "dead", JOB_SET_DEAD, "dead set", "DIED", true, true },
        { "scheduled", JOB_SET_SCHEDULE, "schedule", "AT", false, false },
};

/* The class a person knows: ActiveJob wraps theirs in JobWrapper and names it in "wrapped". */
static const char *display_class(json_t *job) {
        json_t *w = json_object_get(job, "wrapped");
        if (json_is_string(w))
                return json_string_value(w);
        w = json_object_get(job, "class");
        return json_is_string(w) ? json_string_value(w) : NULL;
}

static const char *jstr(json_t *job, const char *key) {
        json_t *v = json_object_get(job, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool class_matches(json_t *job) {
        const char *c;

        if (!arg_class)
                return true;
        c = jstr(job, "class");
        if (c && streq(c, arg_class))
                return true;
        c = jstr(job, "wrapped");
        return c && streq(c, arg_class);
}

static usec_t score_usec(double score) {
        return usec_from_sidekiq_time(score, false);
}

/* Members start..start+BATCH-1 in display order (with scores if asked): an array reply, maybe empty. */
static int fetch_batch(Redis *r, const SetVerb *v, long long start, bool scores, redisReply **ret) {
        _cleanup_reply_ redisReply *reply = NULL;
        int k;

        /* hiredis splits the format, not the arguments: WITHSCORES must be a word of its own. */
        k = redis_command(r, &reply, scores ? "%s %s %lld %lld WITHSCORES" : "%s %s %lld %lld",
                          v->newest_first ? "ZREVRANGE" : "ZRANGE", job_set_key(v->kind), start, start + BATCH - 1);
        if (k < 0)
                return k;
        if (reply->type != REDIS_REPLY_ARRAY)
                return -EPROTO;
        *ret = TAKE_PTR(reply);
        return 0;
}

/* Walk the set in display order in batches, calling f for each member until it returns != 0. */
typedef int (*member_fn)(const SetVerb *v, const char *member, size_t len, double score, json_t *job, void *data);

static int walk(Redis *r, const SetVerb *v, member_fn f, void *data) {
        for (long long start = 0;; start += BATCH) {
                _cleanup_reply_ redisReply *reply = NULL;
                int k;

                k = fetch_batch(r, v, start, true, &reply);
                if (k < 0)
                        return k;
                if (reply->elements == 0)
                        return 0;
                for (size_t i = 0; i + 1 < reply->elements; i += 2) {
                        redisReply *m = reply->element[i], *s = reply->element[i + 1];
                        json_auto_t *job = NULL;

                        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
                                return -EPROTO;
                        job = json_loadb(m->str, m->len, 0, NULL);
                        if (!json_is_object(job)) {
                                json_decref(job);
                                job = NULL;
                        }
                        k = f(v, m->str, m->len, strtod(s->str, NULL), job, data);
                        if (k != 0)
                                return k < 0 ? k : 0;
                }
        }
}

typedef struct ListState {
        Table *table;
        json_t *json;
        unsigned shown, matched;
        usec_t now;
} ListState;

static json_t *entry_json(const SetVerb *v, double score, json_t *job, const char *member, size_t len) {
        return json_pack("{s:s, s:f, s:s?, s:s?, s:s?, s:o}", "set", job_set_key(v->kind), "at", score, "jid",
                         jstr(job, "jid"), "class", display_class(job), "queue", job ? job_get_queue(job) : NULL,
                         "job", job ? json_incref(job) : json_stringn_nocheck(member, len));
}

static char *error_of(json_t *job) {
        const char *c = jstr(job, "error_class"), *m = jstr(job, "error_message");
        if (!c && !m)
                return strdup("-");
        return strdupf("%s%s%s", strempty(c), c && m ? ": " : "", strempty(m));
}

static int list_one(const SetVerb *v, const char *member, size_t len, double score, json_t *job, void *data) {
        ListState *s = data;
        char a[TIMESTAMP_MAX], b[TIMESTAMP_MAX];
        usec_t at = score_usec(score);

        if (!job && arg_class)
                return 0;
        if (job && !class_matches(job))
                return 0;
        s->matched++;
        if (s->shown >= arg_limit)
                /* With a filter, keep counting the matches for the footer; without, ZCARD says it. */
                return arg_class ? 0 : 1;
        s->shown++;
        if (s->json)
                return json_array_append_new(s->json, entry_json(v, score, job, member, len)) < 0 ? -ENOMEM : 0;

        (void) table_add_cell(s->table, format_timestamp(a, sizeof a, at, false), NULL);
        (void) table_add_cell(s->table, format_timestamp_relative(b, sizeof b, at, s->now), NULL);
        (void) table_add_cell(s->table, jstr(job, "jid"), NULL);
        (void) table_add_cell(s->table, job ? display_class(job) : "(not a job: invalid JSON)",
                              job ? ANSI_HIGHLIGHT : ANSI_RED);
        (void) table_add_cell(s->table, job ? job_get_queue(job) : NULL, NULL);
        if (v->kind == JOB_SET_SCHEDULE) {
                _cleanup_free_ char *args = json_dumps(json_object_get(job, "args"), JSON_COMPACT | JSON_ENCODE_ANY);
                (void) table_add_cell(s->table, args, NULL);
        } else {
                _cleanup_free_ char *err = error_of(job);
                json_t *count = json_object_get(job, "retry_count");
                if (v->kind == JOB_SET_RETRY)
                        (void) table_add_cellf(s->table, NULL, "%lld",
                                               json_is_integer(count) ? (long long) json_integer_value(count) : 0LL);
                (void) table_add_cell(s->table, err, ANSI_RED);
        }
        return 0;
}

static int set_list(Redis *r, const SetVerb *v) {
        _cleanup_(table_freep) Table *t = NULL;
        json_auto_t *json = NULL;
        ListState s = { .now = now_usec(CLOCK_REALTIME) };
        int k;

        if (arg_json != JSON_OFF)
                s.json = json = json_array();
        else if (v->kind == JOB_SET_RETRY)
                s.table = t = table_new(7, (const char *[]) { v->when, "LEFT", "JID", "CLASS", "QUEUE", "RETRIES",
                                                              "ERROR" });
        else if (v->kind == JOB_SET_DEAD)
                s.table = t = table_new(6, (const char *[]) { v->when, "PASSED", "JID", "CLASS", "QUEUE", "ERROR" });
        else
                s.table = t = table_new(6, (const char *[]) { v->when, "LEFT", "JID", "CLASS", "QUEUE", "ARGS" });
        if (!json && !t)
                return (void) log_oom(), EX_OSERR;
        if (t) {
                size_t last = v->kind == JOB_SET_RETRY ? 6 : 5, width = ctl_columns();

                /* On a narrow terminal the date gives way to the relative time beside it; the jid
                 * (a unique prefix is enough for show/retry/delete) and the class are cut before the
                 * error or the args. */
                table_set_hidden(t, 0, width > 0 && width < SETS_WIDE_COLUMNS);
                table_set_shrink_column(t, 2);
                table_set_min_width(t, 2, JID_PREFIX_SHOWN);
                table_set_shrink_column(t, 3);
                table_set_min_width(t, 3, 12);
                table_set_shrink_column(t, last);
                table_set_min_width(t, last, 30);
                if (v->kind == JOB_SET_RETRY)
                        table_set_align_right(t, 5, true);
        }

        k = walk(r, v, list_one, &s);
        if (k < 0)
                return ctl_redis_error(r, k, "list the jobs");
        if (!arg_class && s.shown >= arg_limit) {
                _cleanup_reply_ redisReply *size = NULL;
                k = redis_command(r, &size, "ZCARD %s", job_set_key(v->kind));
                if (k < 0)
                        return ctl_redis_error(r, k, "count the jobs");
                s.matched = (unsigned) MIN(ctl_reply_integer(size), (long long) UINT_MAX);
        }
        if (json)
                return ctl_print_json(TAKE_PTR(json));
        k = ctl_print_table(t);
        if (k == EX_OK && arg_legend) {
                if (s.shown < s.matched)
                        printf("\n%u of %u jobs shown; --limit N shows more.\n", s.shown, s.matched);
                else
                        printf("\n%u job%s listed.\n", s.matched, s.matched == 1 ? "" : "s");
        }
        return k;
}

/* The entry of a jid or of a unique prefix of one; ret_jid gets the whole jid. */
static int find_or_explain(Redis *r, const SetVerb *v, const char *jid, JobSetEntry *ret, char ret_jid[static JOB_JID_MAX + 1]) {
        _cleanup_free_ char *candidates = NULL;
        json_auto_t *job = NULL;
        int k;

        if (!job_jid_is_valid(jid)) {
                log_error("'%s' is not a job id (1-%d bytes without control characters; jobsctl %s list shows them).", jid, JOB_JID_MAX,
                          v->verb);
                return EX_USAGE;
        }
        k = job_set_find_prefix(r, v->kind, jid, ret, &candidates);
        if (k == -ENOENT) {
                log_error("No job %s in the %s. jobsctl %s list shows what is there.", jid, v->noun, v->verb);
                return EX_NOINPUT;
        }
        if (k == -ENOTUNIQ) {
                log_error("'%s' is the start of several job ids in the %s: %s. Give more of it.", jid, v->noun,
                          strna(candidates));
                return EX_DATAERR;
        }
        if (k < 0)
                return ctl_redis_error(r, k, "search the jobs");
        job = json_loadb(ret->member, ret->len, 0, NULL);
        snprintf(ret_jid, JOB_JID_MAX + 1, "%s", jstr(job, "jid") ?: jid);
        return EX_OK;
}

static void show_line(const char *label, const char *value, const char *color) {
        bool c = color && ctl_colors();
        _cleanup_free_ char *clean = string_sanitize(strempty(value), 2000);

        printf("%14s: %s%s%s\n", label, c ? color : "", clean ? clean : "", c ? ANSI_NORMAL : "");
}

static void show_time(json_t *job, const char *label, const char *field, usec_t now) {
        char buf[TIMESTAMP_MAX * 2];
        usec_t t = ctl_job_time(job, field);

        if (t > 0)
                show_line(label, ctl_format_time_both(buf, sizeof buf, t, now), NULL);
}

static int set_show(Redis *r, const SetVerb *v, const char *jid) {
        _cleanup_(job_set_entry_done) JobSetEntry e = {};
        json_auto_t *job = NULL;
        _cleanup_free_ char *args = NULL, *err = NULL;
        char buf[TIMESTAMP_MAX * 2];
        usec_t now = now_usec(CLOCK_REALTIME);
        json_t *count, *retry;
        char full[JOB_JID_MAX + 1];
        int k;

        k = find_or_explain(r, v, jid, &e, full);
        if (k != EX_OK)
                return k;
        jid = full;
        job = json_loadb(e.member, e.len, 0, NULL);
        if (arg_json != JSON_OFF)
                return ctl_print_json(entry_json(v, e.score, job, e.member, e.len));

        bool c = ctl_colors();
        _cleanup_free_ char *title = strdupf("%s %s", jid, strna(display_class(job)));
        _cleanup_free_ char *clean = title ? string_sanitize(title, 512) : NULL;
        if (!clean)
                return (void) log_oom(), EX_OSERR;
        printf("%s●%s %s\n", c ? ANSI_RED : "", c ? ANSI_NORMAL : "", clean);
        show_line("Set", job_set_key(v->kind), NULL);
        show_line(v->kind == JOB_SET_RETRY ? "Next retry" : v->kind == JOB_SET_DEAD ? "Died" : "Runs at",
                  ctl_format_time_both(buf, sizeof buf, score_usec(e.score), now), NULL);
        show_line("Queue", job_get_queue(job), NULL);
        if (jstr(job, "wrapped"))
                show_line("Wrapper", jstr(job, "class"), NULL);
        args = json_dumps(json_object_get(job, "args"), JSON_COMPACT | JSON_ENCODE_ANY);
        show_line("Args", args, NULL);
        show_time(job, "Created", "created_at", now);
        show_time(job, "Enqueued", "enqueued_at", now);
        show_time(job, "Failed", "failed_at", now);
        show_time(job, "Retried", "retried_at", now);
        count = json_object_get(job, "retry_count");
        retry = json_object_get(job, "retry");
        if (json_is_integer(count)) {
                JobRetry rt = job_get_retry(job);
                char max[32] = "never";
                if (rt.kind != JOB_RETRY_FALSE)
                        snprintf(max, sizeof max, "%u", rt.kind == JOB_RETRY_COUNT ? rt.count : JOB_RETRY_DEFAULT);
                snprintf(buf, sizeof buf, "%lld (retry: %s, at most %s)", (long long) json_integer_value(count),
                         json_is_boolean(retry) ? (json_is_true(retry) ? "true" : "false") : "count", max);
                show_line("Retry count", buf, NULL);
        }
        err = error_of(job);
        if (err && !streq(err, "-"))
                show_line("Error", err, ANSI_RED);
        return EX_OK;
}

typedef enum Action {
        ACTION_RETRY,
        ACTION_DELETE,
        ACTION_KILL,
} Action;

typedef struct ActState {
        Action action;
        long long budget; /* at most the size the set had when we started, as Sidekiq's pop_each */
        long long done, skipped;
        json_t *jids;
        const char *reason;
} ActState;

/* Do the action on one member. 1 if it happened, 0 if the member was gone, negative on error. */
static int act_on(Redis *r, const SetVerb *v, Action a, const char *member, size_t len, const char **ret_reason) {
        _cleanup_free_ char *json = NULL, *queue = NULL;
        size_t json_len;
        int k;

        switch (a) {
        case ACTION_RETRY:
                k = job_set_prepare_requeue(member, len, v->decrement_on_retry, epoch_now(), &json, &json_len, &queue,
                                            ret_reason);
                if (k < 0)
                        return k;
                return job_set_requeue(r, v->kind, member, len, queue, json, json_len);
        case ACTION_DELETE:
                return job_set_delete(r, v->kind, member, len);
        case ACTION_KILL:
                return job_set_kill(r, v->kind, member, len, epoch_now());
        }
        return -EINVAL;
}

/* Act on every matching member. Acted-on members leave the set and skipped ones stay in front of
 * the rest, so each batch starts after the skipped ones; at most as many members as the set held
 * when we started are visited, as Sidekiq's pop_each. */
static int act_each(Redis *r, const SetVerb *v, ActState *s) {
        long long offset = 0;

        while (s->budget > 0) {
                _cleanup_reply_ redisReply *reply = NULL;
                int k;

                k = fetch_batch(r, v, offset, false, &reply);
                if (k < 0)
                        return k;
                if (reply->elements == 0)
                        return 0;
                for (size_t i = 0; i < reply->elements && s->budget > 0; i++, s->budget--) {
                        redisReply *m = reply->element[i];
                        json_auto_t *job = NULL;
                        const char *reason = NULL;

                        if (m->type != REDIS_REPLY_STRING)
                                return -EPROTO;
                        job = json_loadb(m->str, m->len, 0, NULL);
                        if (!json_is_object(job) || !class_matches(job)) {
                                s->skipped += json_is_object(job) ? 0 : 1;
                                offset++;
                                continue;
                        }
                        k = act_on(r, v, s->action, m->str, m->len, &reason);
                        if (k == -EBADMSG) {
                                /* A member we cannot requeue stays where it is; say so at the end. */
                                s->skipped++;
                                s->reason = reason;
                                offset++;
                                continue;
                        }
                        if (k < 0)
                                return k;
                        if (k > 0) {
                                s->done++;
                                if (json_array_append_new(s->jids, json_string(jstr(job, "jid"))) < 0)
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

static const char *const action_done[] = {
        [ACTION_RETRY] = "Moved",
        [ACTION_DELETE] = "Deleted",
        [ACTION_KILL] = "Moved",
};

static int act_all(Redis *r, const SetVerb *v, Action a) {
        _cleanup_reply_ redisReply *size = NULL;
        json_auto_t *jids = json_array();
        ActState s = { .action = a, .jids = jids };
        int k;

        if (!jids)
                return (void) log_oom(), EX_OSERR;
        if (a != ACTION_RETRY) {
                _cleanup_free_ char *q = strdupf("%s every job%s%s in the %s%s?", a == ACTION_DELETE ? "Delete" : "Move",
                                                 arg_class ? " of class " : "", strempty(arg_class), v->noun,
                                                 a == ACTION_KILL ? " to the dead set" : "");
                if (!q)
                        return (void) log_oom(), EX_OSERR;
                if (!ctl_confirm(q)) {
                        log_error("Nothing changed.");
                        return CTL_EXIT_DECLINED;
                }
        }
        if (a == ACTION_DELETE && !arg_class) {
                /* Sidekiq's JobSet#clear. */
                k = job_set_clear(r, v->kind, &s.done);
                if (k < 0)
                        return ctl_redis_error(r, k, "clear the set");
        } else {
                k = redis_command(r, &size, "ZCARD %s", job_set_key(v->kind));
                if (k < 0)
                        return ctl_redis_error(r, k, "count the jobs");
                s.budget = size->type == REDIS_REPLY_INTEGER ? size->integer : 0;
                k = act_each(r, v, &s);
                if (k < 0)
                        return ctl_redis_error(r, k, "change the jobs");
        }
        if (arg_json != JSON_OFF)
                return ctl_print_json(json_pack("{s:s, s:s, s:I, s:O, s:I}", "action",
                                                a == ACTION_RETRY ? "retry" : a == ACTION_DELETE ? "delete" : "kill",
                                                "set", job_set_key(v->kind), "count", (json_int_t) s.done, "jids", jids,
                                                "skipped", (json_int_t) s.skipped));
        printf("%s %lld job%s from the %s%s.\n", action_done[a], s.done, s.done == 1 ? "" : "s", v->noun,
               a == ACTION_RETRY ? " to their queues" : a == ACTION_KILL ? " to the dead set" : "");
        if (s.skipped > 0)
                log_warning("%lld job%s left in the %s: %s.", s.skipped, s.skipped == 1 ? " was" : "s were", v->noun,
                            s.reason ? s.reason : "payload is not valid JSON");
        return EX_OK;
}

static int act_one(Redis *r, const SetVerb *v, Action a, const char *jid) {
        _cleanup_(job_set_entry_done) JobSetEntry e = {};
        json_auto_t *job = NULL;
        const char *reason = NULL;
        char full[JOB_JID_MAX + 1];
        int k;

        k = find_or_explain(r, v, jid, &e, full);
        if (k != EX_OK)
                return k;
        jid = full;
        k = act_on(r, v, a, e.member, e.len, &reason);
        if (k == -EBADMSG) {
                log_error("Job %s in the %s cannot be put on a queue: %s. Fix it with redis-cli or delete it.", jid,
                          v->noun, reason);
                return EX_DATAERR;
        }
        if (k < 0)
                return ctl_redis_error(r, k, "change the job");
        if (k == 0) {
                log_error("Job %s left the %s while we looked at it (a worker or the poller moved it). "
                          "jobsctl %s list shows what is there.",
                          jid, v->noun, v->verb);
                return EX_NOINPUT;
        }
        job = json_loadb(e.member, e.len, 0, NULL);
        if (arg_json != JSON_OFF)
                return ctl_print_json(json_pack("{s:s, s:s, s:I, s:[s]}", "action",
                                                a == ACTION_RETRY ? "retry" : a == ACTION_DELETE ? "delete" : "kill",
                                                "set", job_set_key(v->kind), "count", (json_int_t) 1, "jids", jid));
        if (a == ACTION_RETRY)
                printf("Moved job %s (%s) to queue %s.\n", jid, strna(display_class(job)), job_get_queue(job));
        else if (a == ACTION_KILL)
                printf("Moved job %s (%s) from the %s to the dead set.\n", jid, strna(display_class(job)), v->noun);
        else
                printf("Deleted job %s (%s) from the %s.\n", jid, strna(display_class(job)), v->noun);
        return EX_OK;
}

/* "dead kill JID": find the job where Sidekiq can kill it from (retries, then scheduled). */
static int dead_kill(Redis *r, const char *jid) {
        static const SetVerb *const sources[] = { &set_verbs[0], &set_verbs[2] };
        int k;

        if (arg_all) {
                log_error("Use jobsctl retries kill --all or jobsctl scheduled kill --all.");
                return EX_USAGE;
        }
        if (!job_jid_is_valid(jid)) {
                log_error("'%s' is not a job id.", jid);
                return EX_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                _cleanup_(job_set_entry_done) JobSetEntry e = {};
                k = job_set_find_prefix(r, sources[i]->kind, jid, &e, NULL);
                if (k == -ENOENT)
                        continue;
                if (k < 0 && k != -ENOTUNIQ)
                        return ctl_redis_error(r, k, "search the jobs");
                return act_one(r, sources[i], ACTION_KILL, jid); /* says which, if ambiguous */
        }
        log_error("No job %s in the retry set or the schedule (only those can be moved to the dead set; "
                  "jobsctl retries list and jobsctl scheduled list show them).",
                  jid);
        return EX_NOINPUT;
}

int verb_job_set(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        const SetVerb *v = NULL;
        char **args;
        int k, n;
        Action a;

        for (size_t i = 0; i < ELEMENTSOF(set_verbs); i++)
                if (streq(argv[0], set_verbs[i].verb))
                        v = &set_verbs[i];
        if (!v)
                return EX_SOFTWARE;
        k = ctl_parse_verb(argc, argv, CTL_OPT_CLASS | CTL_OPT_LIMIT | CTL_OPT_ALL, &args, &n);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if (n == 0) {
                log_error("Usage: jobsctl %s list|show JID|retry JID|delete JID%s (see jobsctl --help).", v->verb,
                          v->kind == JOB_SET_DEAD ? "" : "|kill JID");
                return EX_USAGE;
        }
        if (arg_class && !job_class_is_valid(arg_class)) {
                log_error("'%s' is not a class name.", arg_class);
                return EX_USAGE;
        }

        if (streq(args[0], "list")) {
                if (n != 1 || arg_all) {
                        log_error("Usage: jobsctl %s list [--class CLASS] [--limit N]", v->verb);
                        return EX_USAGE;
                }
        } else if (streq(args[0], "show")) {
                if (n != 2 || arg_all) {
                        log_error("Usage: jobsctl %s show JID", v->verb);
                        return EX_USAGE;
                }
        } else if (streq(args[0], "retry") || streq(args[0], "delete") || streq(args[0], "kill")) {
                if ((arg_all && n != 1) || (!arg_all && n != 2)) {
                        log_error("Usage: jobsctl %s %s JID|--all [--class CLASS]", v->verb, args[0]);
                        return EX_USAGE;
                }
                if (arg_class && !arg_all) {
                        log_error("--class applies to --all; a job id names one job already.");
                        return EX_USAGE;
                }
        } else {
                log_error("Unknown action '%s': use list, show, retry, delete or kill (jobsctl --help).", args[0]);
                return EX_USAGE;
        }

        k = ctl_connect(&r);
        if (k != EX_OK)
                return k;
        if (streq(args[0], "list"))
                return set_list(&r, v);
        if (streq(args[0], "show"))
                return set_show(&r, v, args[1]);
        if (streq(args[0], "kill") && v->kind == JOB_SET_DEAD)
                return dead_kill(&r, args[1]);
        a = streq(args[0], "retry") ? ACTION_RETRY : streq(args[0], "delete") ? ACTION_DELETE : ACTION_KILL;
        return arg_all ? act_all(&r, v, a) : act_one(&r, v, a, args[1]);
}
