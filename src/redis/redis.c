/* SPDX-License-Identifier: MIT */
/* A blocking Redis connection that carries its own last error, and the Sidekiq pushes. */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

#include "redis/redis.h"
#include "redis/keys.h"

static int set_error(Redis *r, int err, const char *fmt, ...) _printf_(3, 4);
static int set_error(Redis *r, int err, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        return err;
}

int redis_context_error(Redis *r) {
        redisContext *c = r->ctx;
        int saved = errno, err;

        if (!c)
                return set_error(r, -ENOMEM, "out of memory connecting to Redis at %s", r->where);
        switch (c->err) {
        case REDIS_ERR_IO:
                err = saved > 0 ? saved : EIO;
                if (err == EAGAIN || err == EINPROGRESS)
                        err = ETIMEDOUT;
                break;
        case REDIS_ERR_EOF:
                err = ECONNRESET;
                break;
        case REDIS_ERR_PROTOCOL:
                err = EPROTO;
                break;
        case REDIS_ERR_OOM:
                err = ENOMEM;
                break;
        default: /* name resolution and the like */
                err = EHOSTUNREACH;
                break;
        }
        if (err == ETIMEDOUT)
                return set_error(r, -err, "Redis at %s did not answer in time", r->where);
        return set_error(r, -err, "Redis at %s: %s", r->where, c->errstr[0] ? c->errstr : strerror(err));
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
                 prefix(s, n, "MASTERDOWN") || prefix(s, n, "CLUSTERDOWN") || prefix(s, n, "READONLY"))
                err = EAGAIN;
        else if (prefix(s, n, "ERR") && strstr(s, "DB index"))
                err = ENXIO; /* SELECT of a database the server does not have */
        return set_error(r, -err, "Redis at %s answered: %.*s", r->where, (int) MIN(n, 300), s);
}

static int check_reply(Redis *r, redisReply *reply, redisReply **ret) {
        _cleanup_reply_ redisReply *owned = reply;

        if (!reply)
                return redis_context_error(r);
        if (reply->type == REDIS_REPLY_ERROR)
                return redis_reply_error(r, reply);
        if (ret)
                *ret = TAKE_PTR(owned);
        return 0;
}

int redis_open(Redis *r, const RedisURL *u, usec_t timeout) {
        struct timeval tv = { .tv_sec = (time_t) (timeout / USEC_PER_SEC),
                              .tv_usec = (suseconds_t) (timeout % USEC_PER_SEC) };
        int n = 0, k;

        redis_done(r);
        redis_url_describe(u, r->where, sizeof r->where);
        r->error[0] = 0;

        errno = 0;
        r->ctx = u->path ? redisConnectUnixWithTimeout(u->path, tv)
                         : redisConnectWithTimeout(u->host, (int) u->port, tv);
        if (!r->ctx || r->ctx->err) {
                k = redis_context_error(r);
                redis_done(r);
                return k;
        }
        /* hiredis 0.14 does not open its socket with O_CLOEXEC; handlers must not inherit it. */
        (void) fcntl(r->ctx->fd, F_SETFD, FD_CLOEXEC);
        if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
                k = redis_context_error(r);
                redis_done(r);
                return k;
        }

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
        if (r->ctx)
                redisFree(r->ctx);
        r->ctx = NULL;
}

int redis_command(Redis *r, redisReply **ret, const char *fmt, ...) {
        va_list ap;
        redisReply *reply;

        va_start(ap, fmt);
        reply = redisvCommand(r->ctx, fmt, ap);
        va_end(ap);
        return check_reply(r, reply, ret);
}

int redis_command_argv(Redis *r, redisReply **ret, int argc, const char **argv, const size_t *argvlen) {
        return check_reply(r, redisCommandArgv(r->ctx, argc, argv, argvlen), ret);
}

int redis_append(Redis *r, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = redisvAppendCommand(r->ctx, fmt, ap);
        va_end(ap);
        return k == REDIS_OK ? 0 : redis_context_error(r);
}

int redis_append_argv(Redis *r, int argc, const char **argv, const size_t *argvlen) {
        return redisAppendCommandArgv(r->ctx, argc, argv, argvlen) == REDIS_OK ? 0 : redis_context_error(r);
}

int redis_get_reply(Redis *r, redisReply **ret) {
        void *reply = NULL;

        if (redisGetReply(r->ctx, &reply) != REDIS_OK)
                return redis_context_error(r);
        return check_reply(r, reply, ret);
}

int redis_push_job(Redis *r, const char *queue, const char *json, size_t len) {
        int k, k2;

        k = redis_append(r, "SADD " REDIS_KEY_QUEUES " %s", queue);
        if (k < 0)
                return k;
        k = redis_append(r, "LPUSH " REDIS_KEY_QUEUE_PREFIX "%s %b", queue, json, len);
        if (k < 0)
                return k;
        /* read both replies even if the first failed, so the connection stays in step */
        k = redis_get_reply(r, NULL);
        if (k < 0 && r->ctx->err)
                return k;
        k2 = redis_get_reply(r, NULL);
        return k2 < 0 ? k2 : k;
}

int redis_schedule_job(Redis *r, double at, const char *json, size_t len) {
        char score[64];

        /* "%.6f": microseconds, always a decimal point, as Sidekiq's Float scores */
        snprintf(score, sizeof score, "%.6f", at);
        return redis_command(r, NULL, "ZADD " REDIS_KEY_SCHEDULE " %s %b", score, json, len);
}
