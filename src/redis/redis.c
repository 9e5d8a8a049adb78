/* SPDX-License-Identifier: MIT */
/* A blocking Redis connection that carries its own last error, and the Sidekiq pushes. */

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "redis/redis.h"
#include "redis/keys.h"
#include "redis/sentinel.h"

static int set_error(Redis *r, int err, const char *fmt, ...) _printf_(3, 4);
static int set_error(Redis *r, int err, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        return err;
}

/* The connection failed (or a wait timed out): r->error says so, the connection is dropped. */
static int conn_error(Redis *r, int err) {
        char why[sizeof r->error];

        snprintf(why, sizeof why, "%s", r->conn ? redis_conn_error(r->conn) : "");
        redis_done(r);
        if (err == -ETIMEDOUT)
                return set_error(r, err, "Redis at %s did not answer in time", r->where);
        if (err == -ENOMEM)
                return set_error(r, err, "out of memory talking to Redis at %s", r->where);
        return set_error(r, err, "Redis at %s: %s", r->where, why[0] ? why : strerror(-err));
}

static bool prefix(const char *s, size_t n, const char *p) {
        size_t l = strlen(p);
        return n >= l && !strncmp(s, p, l) && (n == l || s[l] == ' ');
}

int redis_reply_error(Redis *r, const redisReply *reply) {
        const char *s = reply->str;
        size_t n = reply->len;
        int err = EPROTO;

        if (prefix(s, n, "NOAUTH") || prefix(s, n, "WRONGPASS") || prefix(s, n, "NOPERM") ||
            (prefix(s, n, "ERR") && (strstr(s, "password") || strstr(s, "AUTH"))))
                err = EACCES;
        else if (prefix(s, n, "LOADING") || prefix(s, n, "BUSY") || prefix(s, n, "TRYAGAIN") ||
                 prefix(s, n, "MASTERDOWN") || prefix(s, n, "CLUSTERDOWN") || prefix(s, n, "READONLY") ||
                 /* min-replicas-to-write: the master has lost its replicas (cut off, or failing over) */
                 prefix(s, n, "NOREPLICAS"))
                err = EAGAIN;
        else if (prefix(s, n, "ERR") && strstr(s, "DB index"))
                err = ENXIO; /* SELECT of a database the server does not have */
        return set_error(r, -err, "Redis at %s answered: %.*s", r->where, (int) MIN(n, 300), s);
}

static int check_reply(Redis *r, redisReply *reply, redisReply **ret) {
        _cleanup_reply_ redisReply *owned = reply;

        if (reply->type == REDIS_REPLY_ERROR)
                return redis_reply_error(r, reply);
        if (ret)
                *ret = TAKE_PTR(owned);
        return 0;
}

/* Through the sentinels: the master's address, the usual connection there, then its ROLE. */
static int redis_open_sentinel(Redis *r, const RedisURL *u, usec_t timeout) {
        _cleanup_(redis_url_done) RedisURL master = {};
        _cleanup_reply_ redisReply *role = NULL;
        char why[256];
        int k;

        redis_done(r);
        k = redis_sentinel_resolve(u, timeout, &master, why, sizeof why);
        if (k < 0) {
                redis_url_describe(u, r->where, sizeof r->where);
                snprintf(r->error, sizeof r->error, "cannot find the Redis master: %.400s", why);
                return k;
        }
        k = redis_open(r, &master, timeout);
        if (k < 0)
                return k;
        k = redis_command(r, &role, "ROLE");
        if (k >= 0)
                k = redis_sentinel_check_role(role, why, sizeof why);
        if (k < 0) {
                snprintf(r->error, sizeof r->error, "Redis at %.200s, named master by the sentinels: %.200s", r->where, why);
                redis_done(r);
        }
        return k;
}

int redis_open(Redis *r, const RedisURL *u, usec_t timeout) {
        int n = 0, k;

        if (u->sentinels)
                return redis_open_sentinel(r, u, timeout);
        redis_done(r);
        redis_url_describe(u, r->where, sizeof r->where);
        r->error[0] = 0;
        r->timeout = timeout;

        k = redis_conn_new(u, &r->conn, r->error, sizeof r->error);
        if (k < 0) {
                char why[sizeof r->error];
                snprintf(why, sizeof why, "%s", r->error[0] ? r->error : strerror(-k));
                return set_error(r, k, "Redis at %s: %s", r->where, why);
        }
        /* Queued while connecting, sent in one write: one round trip. */
        if (u->password) {
                k = u->username ? redis_append(r, "AUTH %s %s", u->username, u->password)
                                : redis_append(r, "AUTH %s", u->password);
                if (k < 0)
                        goto fail;
                n++;
        }
        if (u->db != 0) {
                k = redis_append(r, "SELECT %u", u->db);
                if (k < 0)
                        goto fail;
                n++;
        }
        /* Wait for the connection (and the TLS handshake) even when nothing is queued. */
        while (!redis_conn_is_ready(r->conn)) {
                k = redis_conn_flush(r->conn);
                if (k < 0)
                        return conn_error(r, k);
                if (redis_conn_is_ready(r->conn))
                        break;
                k = redis_conn_wait(r->conn, timeout);
                if (k < 0)
                        return conn_error(r, k);
        }
        for (int i = 0; i < n; i++) {
                k = redis_get_reply(r, NULL);
                if (k < 0)
                        goto fail;
        }
        return 0;

fail:
        redis_done(r);
        return k;
}

void redis_done(Redis *r) {
        r->conn = redis_conn_free(r->conn);
}

int redis_command(Redis *r, redisReply **ret, const char *fmt, ...) {
        va_list ap;
        int k;

        if (!r->conn)
                return conn_error(r, -ENOTCONN);
        va_start(ap, fmt);
        k = redis_conn_appendv(r->conn, fmt, ap);
        va_end(ap);
        if (k < 0)
                return conn_error(r, k);
        return redis_get_reply(r, ret);
}

int redis_command_argv(Redis *r, redisReply **ret, int argc, const char **argv, const size_t *argvlen) {
        int k = redis_append_argv(r, argc, argv, argvlen);
        return k < 0 ? k : redis_get_reply(r, ret);
}

int redis_append(Redis *r, const char *fmt, ...) {
        va_list ap;
        int k;

        if (!r->conn)
                return conn_error(r, -ENOTCONN);
        va_start(ap, fmt);
        k = redis_conn_appendv(r->conn, fmt, ap);
        va_end(ap);
        return k < 0 ? conn_error(r, k) : 0;
}

int redis_append_argv(Redis *r, int argc, const char **argv, const size_t *argvlen) {
        int k;

        if (!r->conn)
                return conn_error(r, -ENOTCONN);
        k = redis_conn_append_argv(r->conn, argc, argv, argvlen);
        return k < 0 ? conn_error(r, k) : 0;
}

int redis_get_reply(Redis *r, redisReply **ret) {
        redisReply *reply = NULL;
        int k;

        if (!r->conn)
                return conn_error(r, -ENOTCONN);
        for (;;) {
                k = redis_conn_take_reply(r->conn, &reply);
                if (k == 0) {
                        k = redis_conn_process(r->conn);
                        if (k >= 0)
                                k = redis_conn_take_reply(r->conn, &reply);
                }
                if (k > 0)
                        return check_reply(r, reply, ret);
                if (k == 0)
                        k = redis_conn_wait(r->conn, r->timeout);
                if (k < 0)
                        return conn_error(r, k);
        }
}

int redis_append_wait(Redis *r, const RedisWait *w) {
        if (!w || w->replicas == 0)
                return 0;
        return redis_append(r, "WAIT %u %llu", w->replicas,
                            (unsigned long long) MAX((w->timeout + USEC_PER_MSEC - 1) / USEC_PER_MSEC, 1ULL));
}

int redis_finish_wait(Redis *r, int k, RedisWait *w) {
        _cleanup_reply_ redisReply *reply = NULL;
        usec_t timeout = r->timeout;

        if (!w || w->replicas == 0)
                return k;
        w->acked = 0;
        if (k < 0) {
                redis_done(r);
                return k;
        }
        /* Redis answers when enough replicas confirmed or its own timeout ended. */
        r->timeout = timeout + w->timeout;
        k = redis_get_reply(r, &reply);
        r->timeout = timeout;
        if (k < 0)
                return k;
        if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0)
                return set_error(r, -EPROTO, "Redis at %s did not answer WAIT with a count of replicas", r->where);
        w->acked = (unsigned) MIN(reply->integer, (long long) UINT_MAX);
        return 0;
}

int redis_push_job(Redis *r, const char *queue, const char *json, size_t len, RedisWait *w) {
        int k, k2;

        k = redis_append(r, "SADD " REDIS_KEY_QUEUES " %s", queue);
        if (k < 0)
                return k;
        k = redis_append(r, "LPUSH " REDIS_KEY_QUEUE_PREFIX "%s %b", queue, json, len);
        if (k < 0)
                return k;
        k = redis_append_wait(r, w);
        if (k < 0)
                return k;
        /* read both replies even if the first failed, so the connection stays in step */
        k = redis_get_reply(r, NULL);
        if (k < 0 && !r->conn)
                return k;
        k2 = redis_get_reply(r, NULL);
        return redis_finish_wait(r, k2 < 0 ? k2 : k, w);
}

int redis_schedule_job(Redis *r, double at, const char *json, size_t len, RedisWait *w) {
        char score[64];
        int k;

        /* "%.6f": microseconds, always a decimal point, as Sidekiq's Float scores */
        snprintf(score, sizeof score, "%.6f", at);
        k = redis_append(r, "ZADD " REDIS_KEY_SCHEDULE " %s %b", score, json, len);
        if (k >= 0)
                k = redis_append_wait(r, w);
        if (k >= 0)
                k = redis_get_reply(r, NULL);
        return redis_finish_wait(r, k, w);
}
