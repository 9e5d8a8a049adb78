/* SPDX-License-Identifier: MIT */
/* Redis Sentinel: redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
 * [?sentinel_password=P[&sentinel_username=U]] names a set of sentinels and a master; a client asks
 * the sentinels in turn for the master's address (SENTINEL get-master-addr-by-name), connects
 * there as to any Redis, then checks that it is the master (ROLE), since a failover may be under
 * way. The sentinels are asked again at every new connection: that is how a failover is followed.
 * rediss+sentinel://... (same syntax, and ?verify=none) is TLS to the sentinels and to the master,
 * as rediss://: a sentinel's certificate is checked against its host as written in the URL, the
 * master's against the address the sentinel gave (usually an IP address).
 *
 * A sentinel is asked through redis/conn.h like any Redis connection (RedisSentinelQuery): the
 * blocking tools wait for it with poll() (redis_sentinel_resolve), the worker on its sd-event loop,
 * and both read the answer with the same code. */
#pragma once

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "redis/conn.h"
#include "redis/url.h"
#include "util/util.h"

#define REDIS_SENTINEL_SCHEME "redis+sentinel://"
#define REDISS_SENTINEL_SCHEME "rediss+sentinel://"
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

/* The part after "redis+sentinel://" (or "rediss+sentinel://", u->tls set before). -EINVAL with
 * *ret_reason. */
int redis_sentinel_url_parse(const char *rest, RedisURL *u, const char **ret_reason);
RedisSentinels *redis_sentinels_free(RedisSentinels *s);
int redis_sentinels_copy(const RedisSentinels *s, RedisSentinels **ret);

/* One sentinel being asked for the master's address. */
typedef struct RedisSentinelQuery {
        const RedisURL *url;  /* the sentinel URL; must outlive the query */
        size_t index;         /* which of url->sentinels */
        RedisConn *conn;
        bool auth_pending;    /* the reply to AUTH is still to come */
} RedisSentinelQuery;

/* Start connecting to sentinel i of u (TLS for rediss+sentinel://) with AUTH and the question
 * queued. An immediate failure is a negative errno with a sentence in error. */
int redis_sentinel_query_start(RedisSentinelQuery *q, const RedisURL *u, size_t i, char *error, size_t n);
/* redis_sentinel_query_start() on sentinel `from`, else on the next ones in turn (wrapping around
 * the list), `count` sentinels in all: 0 with q->index the one started, else the last one's error
 * (-ENOMEM at once). */
int redis_sentinel_query_start_any(RedisSentinelQuery *q, const RedisURL *u, size_t from, size_t count, char *error,
                                   size_t n);
/* Make progress (redis_conn_process) and read what the sentinel said: 0 while the answer is still
 * to come (wait for redis_conn_events(q->conn)), 1 with *ret the URL u naming the master (no
 * sentinels), or a negative errno with a sentence in error: -ENOENT (the sentinel does not know
 * the master), a TLS error of redis/redis-tls.h, -EINVAL (unusable TLS credentials), -ENOMEM,
 * else -EHOSTUNREACH. */
int redis_sentinel_query_step(RedisSentinelQuery *q, RedisURL *ret, char *error, size_t n);
/* The sentence for a sentinel that did not answer within timeout. */
void redis_sentinel_query_timed_out(const RedisSentinelQuery *q, usec_t timeout, char *error, size_t n);
void redis_sentinel_query_done(RedisSentinelQuery *q);

/* Ask the sentinels of u in turn (each within timeout), blocking, for the master's address; *ret is
 * u with that host and port and no sentinels. The last sentinel's error (see
 * redis_sentinel_query_step()), with a sentence in error. */
int redis_sentinel_resolve(const RedisURL *u, usec_t timeout, RedisURL *ret, char *error, size_t n);

/* A reply to ROLE: 0 if it says master, else -EAGAIN with the role in error. */
int redis_sentinel_check_role(const redisReply *reply, char *error, size_t n);
