/* SPDX-License-Identifier: MIT */
/* The Redis key names, Sidekiq's and ours, in one place. String literals, so they concatenate into
 * command formats ("LLEN " REDIS_KEY_QUEUE_PREFIX "%s") and Lua scripts. */
#pragma once

/* Sidekiq's layout */
#define REDIS_KEY_QUEUES "queues"              /* set: names of the queues in use */
#define REDIS_KEY_QUEUE_PREFIX "queue:"        /* list queue:<name>: jobs, pushed left, taken right */
#define REDIS_KEY_SCHEDULE "schedule"          /* sorted set: jobs enqueued for later, by time */
#define REDIS_KEY_RETRY "retry"                /* sorted set: failed jobs, by the time of their retry */
#define REDIS_KEY_DEAD "dead"                  /* sorted set: jobs out of retries, by the time they died */
#define REDIS_KEY_PROCESSES "processes"        /* set: identities of live worker processes */
#define REDIS_KEY_STAT_PREFIX "stat:"          /* stat:processed, stat:failed, stat:<name>:<YYYY-MM-DD> */
#define REDIS_KEY_WORK_SUFFIX ":work"          /* hash <identity>:work: jid → running job (Sidekiq >= 6.5) */
#define REDIS_KEY_WORKERS_SUFFIX ":workers"    /* the same, under Sidekiq 6.4's name */
#define REDIS_KEY_SIGNALS_SUFFIX "-signals"    /* list <identity>-signals: TSTP, TERM from the Web UI */

/* Ours: reliable fetch (see engine/fetch.c) */
#define REDIS_KEY_INFLIGHT "jobs:inflight"     /* hash: in-flight list key → the identity that owns it */
#define REDIS_KEY_OVERSIZED_PREFIX "jobs:oversized:" /* list of one payload above MaxPayload=, named in dead */
#define REDIS_KEY_INFLIGHT_PREFIX "jobs:inflight:" /* list jobs:inflight:<identity>:<queue> */
#define REDIS_KEY_ALIVE_PREFIX "jobs:alive:"   /* string jobs:alive:<identity>, expires when it dies */

/* Ours: one schedule on every host (see redis/claim.h) */
#define REDIS_KEY_CLAIM_PREFIX "jobs:claim:"   /* string jobs:claim:<entry>:<occurrence usec>: "host\njid", expires */
#define REDIS_KEY_ENTRY_PREFIX "jobs:entry:"   /* hash jobs:entry:<entry>: the entry's record, expires */
#define REDIS_KEY_ENTRIES "jobs:entries"       /* sorted set: entry names by claim time, bounded */
#define REDIS_KEY_RUN_NOW_PREFIX "jobs:run-now:" /* counter jobs:run-now:<entry>: manual runs asked for */
