/* SPDX-License-Identifier: MIT */
/* Per-class counters and a run-time histogram, kept by the worker for jobsctl metrics: a hash
 * jobs:class:<class> (processed, failed, duration_usec and one counter per bucket, not cumulative)
 * and the set jobs:classes naming them. One EVAL per finished job, its reply not awaited. */
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

/* Count one run of class that took usec (ok: succeeded). Best effort: nothing is sent while Redis
 * is away, and the reply is not awaited. */
int class_stats_record(RedisAsync *redis, const char *class, bool ok, uint64_t usec);
