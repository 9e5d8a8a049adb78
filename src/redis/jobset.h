/* SPDX-License-Identifier: MIT */
/* The sorted sets of jobs (retry, schedule, dead) and what an operator does to one entry, with the
 * same effect in Redis as Sidekiq's API (SortedEntry#retry, #add_to_queue, #kill, #delete). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "redis/redis.h"
#include "model/retry.h" /* the dead set's limits, RETRY_DEAD_TIMEOUT_SEC and RETRY_DEAD_MAX_JOBS */

typedef enum JobSetKind {
        JOB_SET_RETRY,
        JOB_SET_SCHEDULE,
        JOB_SET_DEAD,
        _JOB_SET_KIND_MAX,
        _JOB_SET_KIND_INVALID = -EINVAL,
} JobSetKind;

/* The Redis key: "retry", "schedule", "dead". */
const char *job_set_key(JobSetKind k);

/* One member exactly as stored (the bytes ZREM needs) and its score. */
typedef struct JobSetEntry {
        char *member;
        size_t len;
        double score;
} JobSetEntry;

void job_set_entry_done(JobSetEntry *e);


/* Find the member whose "jid" field is jid (ZSCAN MATCH *jid*, then compare the parsed field).
 * 0 and *ret filled, -ENOENT if there is none, or a Redis error. */
int job_set_find(Redis *r, JobSetKind k, const char *jid, JobSetEntry *ret);

#define JOB_SET_CANDIDATES_MAX 10 /* jids named when a prefix is ambiguous */

/* The same, also by a unique prefix of the jid (as git takes a short hash): the entry whose jid is
 * jid, else the one whose jid starts with it. -ENOTUNIQ if several jids start with it, with
 * *ret_candidates (if not NULL) naming up to JOB_SET_CANDIDATES_MAX of them, comma-separated (free it). */
int job_set_find_prefix(Redis *r, JobSetKind k, const char *jid, JobSetEntry *ret, char **ret_candidates);

/* The payload to push when an entry goes back to its queue: a copy with enqueued_at = now and, if
 * decrement_retry_count (retry and dead sets: manual retries do not count), retry_count - 1.
 * -EBADMSG with *ret_reason if the member is not a valid job. */
int job_set_prepare_requeue(const char *member, size_t len, bool decrement_retry_count, double now,
                            char **ret_json, size_t *ret_len, char **ret_queue, const char **ret_reason);

/* Atomically (one Lua script): ZREM member from the set and, only if it was there, SADD queues
 * <queue> + LPUSH queue:<queue> json. Returns 1 if moved, 0 if the member was gone already. */
int job_set_requeue(Redis *r, JobSetKind k, const char *member, size_t len, const char *queue,
                    const char *json, size_t json_len);

/* Atomically: ZREM member and, only if it was there, ZADD dead <now> member, then trim the dead set
 * by age and count as Sidekiq does. 1 if moved, 0 if gone already. */
int job_set_kill(Redis *r, JobSetKind k, const char *member, size_t len, double now);

/* ZREM member. 1 if removed, 0 if gone already. */
int job_set_delete(Redis *r, JobSetKind k, const char *member, size_t len);

/* Empty the whole set in one step (Sidekiq's JobSet#clear): returns how many entries it held. */
int job_set_clear(Redis *r, JobSetKind k, long long *ret_count);
