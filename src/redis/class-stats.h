/* SPDX-License-Identifier: MIT */
/* Per-class counters and a run-time histogram, kept by the worker for jobsctl metrics: a hash
 * jobs:class:<class> (processed, failed, duration_usec and one counter per bucket, not cumulative)
 * and the set jobs:classes naming them. The worker adds them up per class and sends them with
 * Sidekiq's counters (engine/stats.h), not per job. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis/redis-async.h"

#define REDIS_KEY_CLASS_PREFIX "jobs:class:" /* hash jobs:class:<class>: counters of the class */
#define REDIS_KEY_CLASSES "jobs:classes"     /* set: classes that have a jobs:class:<class> hash */
#define CLASS_STATS_CLASSES_MAX 1000          /* classes jobsctl metrics reports at most */

/* Upper bounds of the run-time buckets, in seconds; a last bucket (+Inf) takes the rest. */
#define CLASS_STATS_BUCKETS 12
extern const double class_stats_bounds[CLASS_STATS_BUCKETS];

/* The hash field counting runs that fell into bucket i (0..CLASS_STATS_BUCKETS, the last +Inf). */
void class_stats_bucket_field(size_t i, char buf[static 16]);

/* What runs of one class added up to, not yet in Redis. */
typedef struct ClassTally {
        char *class;
        uint64_t processed, failed, duration_usec;
        uint64_t buckets[CLASS_STATS_BUCKETS + 1];
} ClassTally;

/* Count one run that took usec (ok: succeeded) in t. */
void class_tally_add(ClassTally *t, bool ok, uint64_t usec);
/* Add the counts of from to into (same class). */
void class_tally_merge(ClassTally *into, const ClassTally *from);
/* Append to redis' pipeline the commands that add t to its hash (for a MULTI the caller opened). */
int class_tally_append(RedisAsync *redis, const ClassTally *t);
