/* SPDX-License-Identifier: MIT */
/* Which Redis the services use, found the way they find it, for the tools run by hand (jobsctl,
 * jobs-enqueue): the URL from --redis, $REDIS_URL, worker.conf's Redis=, /etc/default/jobs's
 * REDIS_URL=, else the default; a password not in the URL from the redis-password credential,
 * else /etc/jobs/redis-password. */
#pragma once

#include "redis/url.h"

#define REDIS_SOURCE_FILE_MAX (256 * 1024)
#define REDIS_SOURCE_NOTES_MAX 4

typedef struct RedisSource {
        char *url;             /* the URL as found; may hold a password, never print it */
        char *origin;          /* "--redis", "$REDIS_URL", "/etc/jobs/worker.conf (Redis=)", ... */
        char *password_origin; /* NULL: no password; "the URL", or the file it was read from */
        char *notes[REDIS_SOURCE_NOTES_MAX]; /* sources skipped and why, for status */
        size_t n_notes;
} RedisSource;

/* The directory standing for /etc: $JOBS_SYSCONFDIR (tests, chroots), else the build's. */
const char *redis_source_sysconfdir(void);

/* Find the URL. explicit_url is --redis (or NULL). Unreadable or broken files are skipped with a
 * note. 0, or -ENOMEM. */
int redis_source_find(RedisSource *s, const char *explicit_url);

/* If u has no password, read it from $CREDENTIALS_DIRECTORY/redis-password, else from
 * <sysconfdir>/jobs/redis-password when readable. 0 none, 1 read, negative errno on a bad file. */
int redis_source_load_password(RedisSource *s, RedisURL *u);

/* "unix:///run/redis.sock (from $REDIS_URL; password from /etc/jobs/redis-password)", the password
 * masked. Returns a new string or NULL. */
char *redis_source_describe(const RedisSource *s);

void redis_source_done(RedisSource *s);
