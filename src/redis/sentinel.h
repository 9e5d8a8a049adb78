/* SPDX-License-Identifier: MIT */
/* Redis Sentinel: redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
 * [?sentinel_password=P[&sentinel_username=U]] names a set of sentinels and a master; a client asks
 * the sentinels in turn for the master's address (SENTINEL get-master-addr-by-name), connects
 * there as to any Redis, then checks that it is the master (ROLE), since a failover may be under
 * way. The sentinels are asked again at every new connection: that is how a failover is followed. */
#pragma once

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "redis/url.h"
#include "util/util.h"

#define REDIS_SENTINEL_SCHEME "redis+sentinel://"
#define REDIS_SENTINELS_MAX 16
#define REDIS_SENTINEL_PORT_DEFAULT 26379
#define REDIS_SENTINEL_MASTER_MAX 255

struct RedisSentinels {
        char *master;                      /* the master's name, as the sentinels know it */
        char *hosts[REDIS_SENTINELS_MAX];
        unsigned ports[REDIS_SENTINELS_MAX];
        size_t n;
        char *username, *password;         /* the sentinels' own AUTH, or NULL */
};

/* The part after "redis+sentinel://". -EINVAL with *ret_reason. */
int redis_sentinel_url_parse(const char *rest, RedisURL *u, const char **ret_reason);
RedisSentinels *redis_sentinels_free(RedisSentinels *s);
int redis_sentinels_copy(const RedisSentinels *s, RedisSentinels **ret);

/* Ask the sentinels of u in turn (each within timeout) for the master's address; *ret is u with
 * that host and port and no sentinels. -EHOSTUNREACH (no sentinel answered), -ENOENT (none knows
 * the master), with a sentence in error. */
int redis_sentinel_resolve(const RedisURL *u, usec_t timeout, RedisURL *ret, char *error, size_t n);

/* A reply to ROLE: 0 if it says master, else -EAGAIN with the role in error. */
int redis_sentinel_check_role(const redisReply *reply, char *error, size_t n);
