/* SPDX-License-Identifier: MIT */
/* The sorted sets of jobs and the operator's actions on one entry. */

#include <stdint.h>

#include "model/job.h"
#include "redis/jobset.h"
#include "redis/keys.h"

static const char *const job_set_keys[_JOB_SET_KIND_MAX] = {
        [JOB_SET_RETRY] = REDIS_KEY_RETRY,
        [JOB_SET_SCHEDULE] = REDIS_KEY_SCHEDULE,
        [JOB_SET_DEAD] = REDIS_KEY_DEAD,
};

const char *job_set_key(JobSetKind k) {
        return k >= 0 && k < _JOB_SET_KIND_MAX ? job_set_keys[k] : NULL;
}

void job_set_entry_done(JobSetEntry *e) {
        free(e->member);
        *e = (JobSetEntry) {};
}

/* "*<jid>*" with the glob characters of jid escaped, for ZSCAN MATCH. */
static char *jid_pattern(const char *jid) {
        size_t n = strlen(jid), o = 0;
        char *p = malloc(2 * n + 3);

        if (!p)
                return NULL;
        p[o++] = '*';
        for (size_t i = 0; i < n; i++) {
                if (strchr("*?[]\\^", jid[i]))
                        p[o++] = '\\';
                p[o++] = jid[i];
        }
        p[o++] = '*';
        p[o] = 0;
        return p;
}

typedef enum JidMatch {
        JID_MATCH_NONE,
        JID_MATCH_PREFIX,
        JID_MATCH_EXACT,
} JidMatch;

/* How the member's "jid" field matches jid; its jid copied to ret_jid (JOB_JID_MAX + 1 bytes). */
static JidMatch member_jid_match(const char *member, size_t len, const char *jid, char *ret_jid) {
        json_auto_t *j = json_loadb(member, len, 0, NULL);
        const char *s;
        json_t *v;

        if (!json_is_object(j))
                return JID_MATCH_NONE;
        v = json_object_get(j, "jid");
        if (!json_is_string(v))
                return JID_MATCH_NONE;
        s = json_string_value(v);
        if (streq(s, jid))
                return JID_MATCH_EXACT;
        if (strncmp(s, jid, strlen(jid)) != 0 || strlen(s) > JOB_JID_MAX)
                return JID_MATCH_NONE;
        strcpy(ret_jid, s);
        return JID_MATCH_PREFIX;
}

/* Add jid to the comma-separated list unless it is there; the number of distinct jids in *list. */
static int candidates_add(char **list, unsigned *n, const char *jid) {
        char *l;

        if (*list) {
                for (const char *p = *list; (p = strstr(p, jid)); p += strlen(jid))
                        if ((p == *list || p[-1] == ' ') && (p[strlen(jid)] == ',' || p[strlen(jid)] == 0))
                                return 0;
        }
        (*n)++;
        if (*n > JOB_SET_CANDIDATES_MAX)
                return 0;
        l = *list ? strdupf("%s, %s", *list, jid) : strdup(jid);
        if (!l)
                return -ENOMEM;
        free(*list);
        *list = l;
        return 0;
}

static int find(Redis *r, JobSetKind k, const char *jid, bool prefix, JobSetEntry *ret, char **ret_candidates) {
        _cleanup_(job_set_entry_done) JobSetEntry first = {};
        _cleanup_free_ char *pattern = NULL, *candidates = NULL;
        char cursor[32] = "0";
        const char *key = job_set_key(k);
        unsigned n = 0;

        if (!key || !job_jid_is_valid(jid))
                return -EINVAL;
        pattern = jid_pattern(jid);
        if (!pattern)
                return -ENOMEM;

        do {
                _cleanup_reply_ redisReply *reply = NULL;
                redisReply *items;
                int q;

                q = redis_command(r, &reply, "ZSCAN %s %s MATCH %s COUNT 200", key, cursor, pattern);
                if (q < 0)
                        return q;
                if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
                    reply->element[0]->type != REDIS_REPLY_STRING ||
                    reply->element[0]->len >= sizeof cursor || reply->element[1]->type != REDIS_REPLY_ARRAY)
                        return -EPROTO;
                memcpy(cursor, reply->element[0]->str, reply->element[0]->len + 1);
                items = reply->element[1];
                for (size_t i = 0; i + 1 < items->elements; i += 2) {
                        redisReply *m = items->element[i], *s = items->element[i + 1];
                        char full[JOB_JID_MAX + 1];
                        JidMatch match;
                        char *copy;

                        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
                                return -EPROTO;
                        match = member_jid_match(m->str, m->len, jid, full);
                        if (match == JID_MATCH_NONE || (match == JID_MATCH_PREFIX && !prefix))
                                continue;
                        if (match == JID_MATCH_PREFIX) {
                                q = candidates_add(&candidates, &n, full);
                                if (q < 0)
                                        return q;
                                if (first.member)
                                        continue;
                        }
                        copy = malloc(m->len + 1);
                        if (!copy)
                                return -ENOMEM;
                        memcpy(copy, m->str, m->len);
                        copy[m->len] = 0;
                        job_set_entry_done(&first);
                        first = (JobSetEntry) { .member = copy, .len = m->len, .score = strtod(s->str, NULL) };
                        if (match == JID_MATCH_EXACT) {
                                *ret = first;
                                first = (JobSetEntry) {};
                                return 0;
                        }
                }
        } while (!streq(cursor, "0"));
        if (n == 0)
                return -ENOENT;
        if (n > 1) {
                if (ret_candidates) {
                        if (n > JOB_SET_CANDIDATES_MAX) {
                                char *l = strdupf("%s, … (%u in all)", candidates, n);
                                if (!l)
                                        return -ENOMEM;
                                free(candidates);
                                candidates = l;
                        }
                        *ret_candidates = TAKE_PTR(candidates);
                }
                return -ENOTUNIQ;
        }
        *ret = first;
        first = (JobSetEntry) {};
        return 0;
}

int job_set_find(Redis *r, JobSetKind k, const char *jid, JobSetEntry *ret) {
        return find(r, k, jid, false, ret, NULL);
}

int job_set_find_prefix(Redis *r, JobSetKind k, const char *jid, JobSetEntry *ret, char **ret_candidates) {
        return find(r, k, jid, true, ret, ret_candidates);
}

int job_set_prepare_requeue(const char *member, size_t len, bool decrement_retry_count, double now,
                            char **ret_json, size_t *ret_len, char **ret_queue, const char **ret_reason) {
        json_auto_t *job = NULL;
        _cleanup_free_ char *json = NULL, *queue = NULL;
        size_t json_len;
        json_t *count;
        int q;

        /* The member was accepted into Redis once; allow it whatever its size. */
        q = job_parse(member, len, SIZE_MAX, &job, ret_reason);
        if (q < 0)
                return q;
        count = json_object_get(job, "retry_count");
        if (decrement_retry_count && json_is_integer(count) &&
            json_integer_set(count, json_integer_value(count) - 1) < 0)
                return -ENOMEM;
        /* A job pushed now carries no "at" (Sidekiq's Client#atomic_push). */
        (void) json_object_del(job, "at");
        q = job_set_time(job, "enqueued_at", now);
        if (q < 0)
                return q;
        q = job_serialize(job, SIZE_MAX, &json, &json_len);
        if (q < 0)
                return q;
        queue = strdup(job_get_queue(job));
        if (!queue)
                return -ENOMEM;
        *ret_json = TAKE_PTR(json);
        *ret_len = json_len;
        *ret_queue = TAKE_PTR(queue);
        return 0;
}

static int reply_integer(redisReply *reply) {
        if (reply->type != REDIS_REPLY_INTEGER)
                return -EPROTO;
        return reply->integer > 0;
}

int job_set_requeue(Redis *r, JobSetKind k, const char *member, size_t len, const char *queue,
                    const char *json, size_t json_len) {
        static const char script[] =
                "if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then "
                "redis.call('sadd', KEYS[2], ARGV[2]) "
                "redis.call('lpush', KEYS[3], ARGV[3]) "
                "return 1 end return 0";
        _cleanup_reply_ redisReply *reply = NULL;
        _cleanup_free_ char *list = NULL;
        const char *key = job_set_key(k);
        int q;

        if (!key || !job_queue_is_valid(queue))
                return -EINVAL;
        list = strdupf(REDIS_KEY_QUEUE_PREFIX "%s", queue);
        if (!list)
                return -ENOMEM;
        const char *argv[] = { "EVAL", script, "3", key, REDIS_KEY_QUEUES, list, member, queue, json };
        const size_t argvlen[] = { 4, strlen(script), 1, strlen(key), 6, strlen(list), len, strlen(queue),
                                   json_len };
        q = redis_command_argv(r, &reply, (int) ELEMENTSOF(argv), argv, argvlen);
        if (q < 0)
                return q;
        return reply_integer(reply);
}

int job_set_kill(Redis *r, JobSetKind k, const char *member, size_t len, double now) {
        static const char script[] =
                "if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then "
                "redis.call('zadd', KEYS[2], ARGV[2], ARGV[1]) "
                "redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[3]) "
                "redis.call('zremrangebyrank', KEYS[2], 0, -tonumber(ARGV[4])) "
                "return 1 end return 0";
        _cleanup_reply_ redisReply *reply = NULL;
        char score[64], cutoff[64], max[32];
        const char *key = job_set_key(k);
        int q;

        if (!key)
                return -EINVAL;
        snprintf(score, sizeof score, "%.6f", now);
        snprintf(cutoff, sizeof cutoff, "%.6f", now - RETRY_DEAD_TIMEOUT_SEC);
        snprintf(max, sizeof max, "%d", RETRY_DEAD_MAX_JOBS);
        const char *argv[] = { "EVAL", script, "2", key, REDIS_KEY_DEAD, member, score, cutoff, max };
        const size_t argvlen[] = { 4, strlen(script), 1, strlen(key), 4, len, strlen(score), strlen(cutoff),
                                   strlen(max) };
        q = redis_command_argv(r, &reply, (int) ELEMENTSOF(argv), argv, argvlen);
        if (q < 0)
                return q;
        return reply_integer(reply);
}

int job_set_delete(Redis *r, JobSetKind k, const char *member, size_t len) {
        _cleanup_reply_ redisReply *reply = NULL;
        const char *key = job_set_key(k);
        int q;

        if (!key)
                return -EINVAL;
        q = redis_command(r, &reply, "ZREM %s %b", key, member, len);
        if (q < 0)
                return q;
        return reply_integer(reply);
}

int job_set_clear(Redis *r, JobSetKind k, long long *ret_count) {
        _cleanup_reply_ redisReply *reply = NULL;
        const char *key = job_set_key(k);
        int q;

        if (!key)
                return -EINVAL;
        /* ZCARD and UNLINK in one script: the count is exactly what was removed. */
        q = redis_command(r, &reply, "EVAL %s 1 %s",
                          "local n = redis.call('zcard', KEYS[1]) redis.call('unlink', KEYS[1]) return n", key);
        if (q < 0)
                return q;
        if (reply->type != REDIS_REPLY_INTEGER)
                return -EPROTO;
        *ret_count = reply->integer;
        return 0;
}
