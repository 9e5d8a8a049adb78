/* SPDX-License-Identifier: MIT */
/* One Redis connection as a byte transport: a non-blocking TCP or unix socket, TLS on it for
 * rediss://, hiredis' formatter for what goes out and its reader for what comes back.
 *
 * The connection never blocks and never waits: redis_conn_process() does what the socket allows
 * now (finish connecting, the TLS handshake, write, read) and redis_conn_events() says what to wait
 * for before calling it again. redis.c waits with poll() (redis_conn_wait()), redis-async.c on
 * sd-event. Commands may be queued before the connection is up; they leave once it is. */
#pragma once

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "redis/url.h"
#include "util/util.h"

typedef struct RedisConn RedisConn;

/* Start connecting to u (host or socket path, TLS for rediss://). An immediate failure (name not
 * found, connection refused) is a negative errno with the reason in err (never the password). */
int redis_conn_new(const RedisURL *u, RedisConn **ret, char *err, size_t errlen);
RedisConn *redis_conn_free(RedisConn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(RedisConn *, redis_conn_free);

int redis_conn_fd(const RedisConn *c);

/* Queue a command already in the protocol (redisFormatCommand*). 0 or -ENOMEM. */
int redis_conn_append(RedisConn *c, const char *cmd, size_t len);
/* Format and queue a command. 0, -ENOMEM or -EINVAL (bad format). */
int redis_conn_appendf(RedisConn *c, const char *fmt, ...) _printf_(2, 3);
int redis_conn_appendv(RedisConn *c, const char *fmt, va_list ap);
int redis_conn_append_argv(RedisConn *c, int argc, const char **argv, const size_t *argvlen);

/* Make progress: connect, handshake, write what is queued, read what has come. 0, or a negative
 * errno once the connection is unusable (redis_conn_error() says why; -ECONNRESET when the server
 * closed it). Once failed, it stays failed. */
int redis_conn_process(RedisConn *c);
/* Only write (and finish connecting): for callers that want replies read at a later turn. */
int redis_conn_flush(RedisConn *c);

/* The next complete reply: 1 with *ret (the caller frees it), 0 if none yet, -EPROTO if the
 * stream is not valid RESP. */
int redis_conn_take_reply(RedisConn *c, redisReply **ret);

/* EPOLLIN/EPOLLOUT to wait for before the next redis_conn_process(). */
uint32_t redis_conn_events(const RedisConn *c);
/* Block until the socket is ready for redis_conn_events(), at most timeout: 0 or -ETIMEDOUT. */
int redis_conn_wait(RedisConn *c, usec_t timeout);

/* Connected (and the TLS handshake done). */
bool redis_conn_is_ready(const RedisConn *c);
/* Commands queued but not yet written. */
bool redis_conn_has_output(const RedisConn *c);
/* Why the connection failed, or "". */
const char *redis_conn_error(const RedisConn *c);
