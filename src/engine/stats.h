/* SPDX-License-Identifier: MIT */
/* The worker's counters of processed and failed jobs: since start (for STATUS=), and what Redis has
 * not added yet (Sidekiq's stat:* keys and the per-class ones of redis/class-stats.h, flushed with
 * the heartbeat and when stopping). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "redis/class-stats.h"
#include "redis/redis-async.h"

/* Classes counted between two flushes at most; a run of one more class waits for the next flush. */
#define STATS_CLASSES_MAX 256

typedef struct Stats {
        uint64_t processed, failed;             /* since start, failures included in processed */
        uint64_t unsent_processed, unsent_failed; /* not yet added in Redis */
        uint64_t sent_processed, sent_failed;   /* in the MULTI/EXEC awaiting its reply */
        ClassTally *classes, *sent_classes;     /* per class, unsent and awaiting the reply */
        size_t n_classes, n_sent_classes;
        bool in_flight;
} Stats;

void stats_init(Stats *s);
void stats_done(Stats *s);

/* One more job ended, ok or failed. */
void stats_count(Stats *s, bool ok);
/* Count a run of class that took usec in the per-class counters: -ENOBUFS when STATS_CLASSES_MAX
 * other classes wait for the next flush (call again after it), -ENOMEM. */
int stats_count_class(Stats *s, const char *class, bool ok, uint64_t usec);
/* Add what is unsent to Redis in one MULTI/EXEC, unless one is in flight or redis is down. */
void stats_flush(Stats *s, RedisAsync *redis);
