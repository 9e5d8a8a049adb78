/* SPDX-License-Identifier: MIT */
/* A blocking Redis connection (redis/conn.h, waited on with poll()) that carries its own last error,
 * and the Sidekiq pushes.
 *
 * Errors are negative errno: -ECONNREFUSED/-ENOENT/-EHOSTUNREACH... when Redis cannot be reached,
 * -ETIMEDOUT for a timeout, -EACCES when authentication is refused,
 * -EKEYREJECTED when the server's TLS certificate fails verification, -ENOKEY when the server
 * refuses our TLS client certificate (or its absence), -EAGAIN when Redis answers
 * LOADING/BUSY/TRYAGAIN/MASTERDOWN, -ENXIO when the URL's database index does not exist there
 * (a configuration error), -EPROTO for any other error reply, -ECONNRESET when the
 * connection dropped. r->error always holds a readable sentence (never the password). */
#pragma once

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "redis/conn.h"
#include "redis/url.h"
#include "util/util.h"

#define REDIS_TIMEOUT_DEFAULT (2 * USEC_PER_SEC)

typedef struct Redis {
        RedisConn *conn;
        usec_t timeout;
        char where[256]; /* "127.0.0.1:6379" or the socket path */
        char error[512];
} Redis;

static inline void freeReplyObjectp(redisReply **r) {
        if (*r)
                freeReplyObject(*r);
}
#define _cleanup_reply_ _cleanup_(freeReplyObjectp)

/* Connect, AUTH and SELECT in one round trip; timeout applies to connecting and to each command. */
int redis_open(Redis *r, const RedisURL *u, usec_t timeout);
void redis_done(Redis *r);

/* Run one command. Error replies become negative errors (see above) with r->error set; on success
 * *ret (if not NULL) receives the reply, which the caller frees. */
int redis_command(Redis *r, redisReply **ret, const char *fmt, ...);
int redis_command_argv(Redis *r, redisReply **ret, int argc, const char **argv, const size_t *argvlen);

/* Queue several commands, then read their replies in order: one round trip. */
int redis_append(Redis *r, const char *fmt, ...);
int redis_append_argv(Redis *r, int argc, const char **argv, const size_t *argvlen);
int redis_get_reply(Redis *r, redisReply **ret);

/* Replicas a push waits for: Redis WAIT, queued behind the push's commands (still one round trip).
 * Replication stays asynchronous; WAIT only says how many replicas have the push. */
typedef struct RedisWait {
        unsigned replicas;     /* 0: do not wait */
        usec_t timeout;        /* how long Redis waits for them (at least 1 ms: WAIT 0 waits forever) */
        unsigned acked;        /* out: how many replicas confirmed the push */
} RedisWait;

#define REDIS_WAIT_REPLICAS_MAX 100U
#define REDIS_WAIT_TIMEOUT_DEFAULT (1 * USEC_PER_SEC)
#define REDIS_WAIT_TIMEOUT_MAX (10 * 60 * USEC_PER_SEC)

/* Queue WAIT after the commands of a push (nothing when w is NULL or asks for no replica). */
int redis_append_wait(Redis *r, const RedisWait *w);
/* Once the push's replies are read, k their outcome: on success read WAIT's reply into w->acked
 * (its timeout is added to the connection's); on failure drop the connection rather than wait for
 * it. Returns k, or WAIT's own error. */
int redis_finish_wait(Redis *r, int k, RedisWait *w);

/* Enqueue now: SADD queues <q> + LPUSH queue:<q> <json>, pipelined, then WAIT if w asks. */
int redis_push_job(Redis *r, const char *queue, const char *json, size_t len, RedisWait *w);
/* Enqueue later: ZADD schedule <at> <json>, then WAIT if w asks. */
int redis_schedule_job(Redis *r, double at, const char *json, size_t len, RedisWait *w);

/* Map an error reply to a negative errno, filling r->error. */
int redis_reply_error(Redis *r, const redisReply *reply);
