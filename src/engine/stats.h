/* SPDX-License-Identifier: MIT */
/* The worker's counters of processed and failed jobs: since start (for STATUS=), and what Redis has
 * not added yet (Sidekiq's stat:* keys, flushed with the heartbeat and when stopping). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "redis/redis-async.h"

typedef struct Stats {
        uint64_t processed, failed;             /* since start, failures included in processed */
        uint64_t unsent_processed, unsent_failed; /* not yet added in Redis */
        uint64_t sent_processed, sent_failed;   /* in the MULTI/EXEC awaiting its reply */
        bool in_flight;
} Stats;

void stats_init(Stats *s);
void stats_done(Stats *s);

/* One more job ended, ok or failed. */
void stats_count(Stats *s, bool ok);
/* Add what is unsent to Redis in one MULTI/EXEC, unless one is in flight or redis is down. */
void stats_flush(Stats *s, RedisAsync *redis);
