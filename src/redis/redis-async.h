/* SPDX-License-Identifier: MIT */
/* A non-blocking Redis connection on an sd-event loop (redis/conn.h: TCP, unix socket or TLS), which
 * authenticates, selects its database and reconnects with backoff when the connection is lost.
 * Reply callbacks have hiredis' type; their context argument is always NULL.
 *
 * Commands are only accepted while connected (-ENOTCONN otherwise). When the connection drops, every
 * pending callback receives a NULL reply, then the state callback says "down"; after a successful
 * reconnect (AUTH + SELECT + PING answered) it says "up" again. Commands issued during one loop
 * iteration leave in one write: pipelining is free. */
#pragma once

#include <hiredis/async.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "redis/url.h"
#include "util/util.h"

typedef struct RedisAsync RedisAsync;

/* up: true once ready, false once lost; error is a readable sentence when up is false. */
typedef void (*RedisAsyncStateFn)(RedisAsync *ra, bool up, const char *error, void *userdata);

#define REDIS_ASYNC_BACKOFF_MIN (100 * USEC_PER_MSEC)
#define REDIS_ASYNC_BACKOFF_MAX (5 * USEC_PER_SEC)
#define REDIS_ASYNC_BACKOFF_SENTINEL_MAX USEC_PER_SEC      /* through sentinels */
#define REDIS_ASYNC_SENTINEL_TIMEOUT (250 * USEC_PER_MSEC) /* each sentinel asked, connect and answer */
#define REDIS_ASYNC_MASTER_TIMEOUT (5 * USEC_PER_SEC)    /* through sentinels: the master named, connect and
                                                          * handshake (a stopped old master that a sentinel
                                                          * not yet told of a failover still names) */

/* Start connecting at once; u is copied. */
int redis_async_new(sd_event *e, const RedisURL *u, const char *name, RedisAsyncStateFn cb,
                    void *userdata, RedisAsync **ret);
RedisAsync *redis_async_free(RedisAsync *ra);
/* The sd-event priority of the connection's sources, these and those it adds later. */
void redis_async_set_priority(RedisAsync *ra, int64_t priority);
DEFINE_TRIVIAL_CLEANUP_FUNC(RedisAsync *, redis_async_free);

bool redis_async_is_up(const RedisAsync *ra);
/* A connection is being made: neither up nor failed yet. */
bool redis_async_connecting(const RedisAsync *ra);
/* The last handshake failed on the URL itself (SELECT of a database the server does not have):
 * reconnecting will not help. */
bool redis_async_config_error(const RedisAsync *ra);
/* "connected", or why not ("Connection refused, retrying in 400ms"). */
const char *redis_async_status(const RedisAsync *ra);
unsigned redis_async_attempts(const RedisAsync *ra);
/* Through sentinels: "host:port" of the master they named for this connection (the last one
 * asked), "" before they named one or without sentinels. */
const char *redis_async_master(const RedisAsync *ra);

/* Send a command; fn (may be NULL) gets the reply, or NULL if the connection was lost first.
 * -ENOTCONN when not up, -ENOMEM. */
int redis_async_command(RedisAsync *ra, redisCallbackFn *fn, void *privdata, const char *fmt, ...);
int redis_async_command_argv(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc,
                             const char **argv, const size_t *argvlen);

/* Send a command whose reply Redis does not send (CLIENT REPLY SKIP), followed by a PING: fn gets
 * the PONG once the command has finished. For blocking commands whose reply could be large (a
 * BLMOVE of a list onto itself waits for a job without moving or reading it). */
int redis_async_command_unanswered(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc, const char **argv);

/* Drop the connection now (pending callbacks get NULL) and reconnect after the backoff; safe to
 * call from inside a reply callback. Used to cancel a blocking command. */
void redis_async_reset(RedisAsync *ra);
/* Waiting out the backoff after a failed attempt: try again now (the sentinels just named a new
 * master). Nothing otherwise. */
void redis_async_retry_now(RedisAsync *ra);
/* Write what the commands queued so far, now (else it goes at the next turn of the loop). */
void redis_async_flush(RedisAsync *ra);

/* Stop for good: drop the connection, do not reconnect. */
void redis_async_close(RedisAsync *ra);

/* A readable error for a reply (NULL reply = connection lost), or NULL if it is not an error. */
const char *redis_async_reply_error(const redisReply *reply);
