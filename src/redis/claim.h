/* SPDX-License-Identifier: MIT */
/* The claim of one occurrence of a schedule entry, fleet-wide: one Lua script that either finds the
 * occurrence claimed (and names the host and jid that hold it) or claims it, pushes the job as
 * redis_push_job() does and updates the entry's record. One round trip, atomic in Redis.
 *
 * Keys (all bounded):
 *   jobs:claim:<entry>:<occurrence usec>  string "host\njid", expires after the claim TTL
 *   jobs:entry:<entry>                    hash: the entry's record (see CLAIM_FIELD_*), expires
 *                                         CLAIM_RECORD_TTL_SEC after its last claim
 *   jobs:run-now:<entry>                  counter of manual runs asked for by jobsctl run-now, expires
 *                                         after CLAIM_RUN_NOW_TTL_SEC; a run that finds it > 0
 *                                         decrements it and pushes without a claim
 *   jobs:entries                          sorted set: entry name by claim time, at most
 *                                         CLAIM_ENTRIES_MAX members (the oldest are dropped) */
#pragma once

#include <stdbool.h>

#include "model/job.h"
#include "redis/keys.h"
#include "redis/redis.h"

#define CLAIM_RUN_NOW_TTL_SEC 120LL

/* Fields of the record jobs:entry:<entry>. */
#define CLAIM_FIELD_LAST "last"           /* occurrence claimed last, usec since the epoch */
#define CLAIM_FIELD_HOST "host"           /* the host that claimed it */
#define CLAIM_FIELD_JID "jid"             /* the job it pushed */
#define CLAIM_FIELD_CLAIMED_AT "claimed_at" /* when, float epoch seconds */
#define CLAIM_FIELD_MISSED "missed"       /* occurrences no host claimed, counted so far */
#define CLAIM_FIELD_QUEUE "queue"
#define CLAIM_FIELD_CLASS "class"
#define CLAIM_FIELD_CALENDARS "calendars" /* the entry's calendar expressions, one per line */
#define CLAIM_FIELD_OUTCOME "outcome"     /* done | failed, written by jobs-worker for the last jid */
#define CLAIM_FIELD_DURATION "duration_usec"
#define CLAIM_FIELD_FINISHED_AT "finished_at"

/* The job payload field that names the entry a job was enqueued for (Sidekiq keeps unknown fields). */
#define CLAIM_JOB_FIELD "jobs_entry"

#define CLAIM_ENTRIES_MAX 10000U                   /* entries recorded (a schedule holds at most 10,000) */
#define CLAIM_RECORD_TTL_SEC (400LL * 24 * 3600)   /* a yearly entry keeps its record between runs */
#define CLAIM_TTL_MIN_SEC 60LL
#define CLAIM_TTL_MAX_SEC CLAIM_RECORD_TTL_SEC
#define CLAIM_TTL_DEFAULT_SEC (24LL * 3600)        /* when the next occurrence is unknown */
#define CLAIM_MISSED_WINDOW 16U                    /* missed occurrences counted per claim, at most */
#define CLAIM_HOST_MAX 255U

typedef struct ClaimRequest {
        const char *entry;         /* schedule entry name */
        usec_t occurrence;         /* the scheduled time this run stands for */
        const char *host;
        const char *jid;
        double now;                /* claimed_at, epoch seconds */
        long long ttl_sec;         /* life of the claim key */
        const char *queue, *class;
        const char *calendars;     /* recorded for jobsctl schedule; may be NULL */
        const char *payload;
        size_t payload_len;
        usec_t previous;           /* the expected occurrence before this one; 0: unknown */
} ClaimRequest;

typedef struct ClaimResult {
        bool claimed;              /* true: this call pushed the job */
        bool manual;               /* ... as a manual run (jobsctl run-now), without a claim */
        usec_t missed_after;       /* claimed, and previous is later than this last claimed
                                    * occurrence: the ones in between were missed; else 0 */
        char holder_host[CLAIM_HOST_MAX + 1]; /* else: who holds the occurrence (or a later one) */
        char holder_jid[JOB_JID_MAX + 1];
        usec_t holder_occurrence;
} ClaimResult;

/* Claim (entry, occurrence) and push, or report the holder. An occurrence at or before the one
 * recorded last is never pushed again, whatever the claim keys' age. With wait (may be NULL),
 * WAIT follows in the same round trip; wait->acked then counts the replicas that have the claim
 * and its job, whichever run pushed them. */
int redis_claim_push(Redis *r, const ClaimRequest *req, RedisWait *wait, ClaimResult *ret);

/* Add n to the entry's missed count (after a claim that reported missed_after). */
int redis_claim_add_missed(Redis *r, const char *entry, unsigned n);

/* Key names into buf; false when they do not fit. */
bool claim_record_key(char *buf, size_t n, const char *entry);
bool claim_run_now_key(char *buf, size_t n, const char *entry);
