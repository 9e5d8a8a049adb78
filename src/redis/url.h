/* SPDX-License-Identifier: MIT */
/* Where Redis is: redis://[[user]:password@]host[:port][/db], the same over TLS as
 * rediss://...[/db][?verify=none], unix:///path[?db=N][&user=U][&password=P], or a set of
 * sentinels and a master name (redis+sentinel://..., over TLS rediss+sentinel://..., see
 * redis/sentinel.h). */
#pragma once

#include <stdbool.h>

#define REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"
#define REDIS_URL_MAX 4096
#define REDIS_PASSWORD_FILE_MAX 4096

typedef struct RedisSentinels RedisSentinels; /* redis/sentinel.h */

typedef struct RedisURL {
        char *host;     /* NULL for unix sockets */
        unsigned port;
        char *path;     /* unix socket path, or NULL */
        char *username; /* Redis 6 ACL user, or NULL */
        char *password; /* never log this */
        unsigned db;
        RedisSentinels *sentinels; /* redis+sentinel://: host and port come from these, or NULL */
        bool tls;       /* rediss://, rediss+sentinel:// */
        bool tls_no_verify; /* ?verify=none of those: no certificate or host name check */
} RedisURL;

/* Parse a URL. -EINVAL with *ret_reason saying which part is wrong. */
int redis_url_parse(const char *s, RedisURL *ret, const char **ret_reason);

/* The URL to use: explicit (from --redis) if not NULL, else $REDIS_URL, else the default. */
const char *redis_url_pick(const char *explicit_url);

/* If the URL has no password, read the systemd credential "redis-password" from
 * $CREDENTIALS_DIRECTORY (trailing newline dropped); the sentinels' password likewise from
 * "redis-sentinel-password". 0 if none, 1 if read, negative on error. */
int redis_url_load_credential(RedisURL *u);

/* A password file (a credential) with its trailing newline dropped; -EINVAL if empty or binary. */
int redis_url_read_password(const char *path, char **ret);

/* host:port or the socket path, for messages; never includes the password. */
const char *redis_url_describe(const RedisURL *u, char *buf, size_t n);

/* The URL with any password replaced by SECRET_MASK (secret_mask()), for messages. A new string, or
 * NULL. */
char *redis_url_mask(const char *url);

/* A deep copy. -ENOMEM. */
int redis_url_copy(const RedisURL *u, RedisURL *ret);

void redis_url_done(RedisURL *u);
