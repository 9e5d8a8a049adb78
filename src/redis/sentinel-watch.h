/* SPDX-License-Identifier: MIT */
/* Listening to the sentinels (redis/sentinel.h) on an sd-event loop: one connection to a sentinel
 * (the first of the URL's that answers; once lost, the next, with the backoff of redis-async.h),
 * subscribed to +switch-master. A failover is then heard the moment the sentinels announce it,
 * whatever the old master does: a master that is stopped or cut off by a partition never closes
 * its clients' connections, and a client waiting for that would stay on it until its own
 * timeouts.
 *
 * Each subscription starts with the question of redis_sentinel_query_start() (its AUTH, TLS and
 * timeout), so that a failover announced while no sentinel was listened to is heard too, then
 * SUBSCRIBE +switch-master. A PING every REDIS_SENTINEL_WATCH_PING_USEC finds a sentinel that went
 * silent the same way. */
#pragma once

#include <systemd/sd-event.h>

#include "redis/url.h"
#include "util/util.h"

#define REDIS_SENTINEL_WATCH_CHANNEL "+switch-master"
#define REDIS_SENTINEL_WATCH_PING_USEC (5 * USEC_PER_SEC) /* a sentinel's answer must come before the next */

typedef struct RedisSentinelWatch RedisSentinelWatch;

/* master: "host:port" of the master as the sentinels name it now: at each new subscription, then at
 * each +switch-master of the URL's master. Or master NULL and error: a sentinel refused the
 * subscription (an ACL without +subscribe or the channel, say); the next is tried after the backoff. */
typedef void (*RedisSentinelWatchFn)(RedisSentinelWatch *sw, const char *master, const char *error, void *userdata);

/* Start listening to the sentinels of u (a sentinel URL; copied). */
int redis_sentinel_watch_new(sd_event *e, const RedisURL *u, int64_t priority, RedisSentinelWatchFn fn,
                             void *userdata, RedisSentinelWatch **ret);
/* Close the connection, remove every source. */
RedisSentinelWatch *redis_sentinel_watch_free(RedisSentinelWatch *sw);
DEFINE_TRIVIAL_CLEANUP_FUNC(RedisSentinelWatch *, redis_sentinel_watch_free);

/* Subscribed now (the sentinel confirmed it). */
bool redis_sentinel_watch_is_subscribed(const RedisSentinelWatch *sw);
/* "subscribed to sentinel H:P", or why not. */
const char *redis_sentinel_watch_status(const RedisSentinelWatch *sw);
