/* SPDX-License-Identifier: MIT */
/* Sidekiq's counters: stat:processed (failures included) and stat:failed, total and per UTC day
 * (stat:processed:YYYY-MM-DD, kept five years), added with every heartbeat and when stopping, as
 * Sidekiq does, not per job. */

#include <inttypes.h>

#include "engine/worker-internal.h"
#include "redis/keys.h"

#define STATS_TTL_SEC (5 * 365 * 24 * 3600)

static void on_stats_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        Worker *w = privdata;
        const char *e = redis_async_reply_error(reply);

        w->stats_in_flight = false;
        if (e) {
                /* Not added: count them again in the next flush. */
                w->stat_processed += w->stats_sent_processed;
                w->stat_failed += w->stats_sent_failed;
                if (reply)
                        log_warning("Updating the statistics failed: %s", e);
        }
        w->stats_sent_processed = w->stats_sent_failed = 0;
}

/* INCRBY stat:<name> and stat:<name>:<date> by count, and keep the daily key five years. */
static int append_counter(Worker *w, const char *name, uint64_t count, const char *date) {
        char n[24];
        int r;

        if (count == 0)
                return 0;
        snprintf(n, sizeof n, "%" PRIu64, count);
        r = redis_async_command(w->redis, NULL, NULL, "INCRBY " REDIS_KEY_STAT_PREFIX "%s %s", name, n);
        if (r >= 0)
                r = redis_async_command(w->redis, NULL, NULL, "INCRBY " REDIS_KEY_STAT_PREFIX "%s:%s %s", name, date, n);
        if (r >= 0)
                r = redis_async_command(w->redis, NULL, NULL, "EXPIRE " REDIS_KEY_STAT_PREFIX "%s:%s %d", name, date, STATS_TTL_SEC);
        return r;
}

void stats_flush(Worker *w) {
        char date[16];
        time_t t = time(NULL);
        struct tm tm;
        int r = 0;

        if (w->stats_in_flight || (w->stat_processed == 0 && w->stat_failed == 0) || !redis_async_is_up(w->redis))
                return;
        if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%d", &tm) == 0)
                return;
        /* MULTI/EXEC so that one reply tells whether all of it was applied. */
        r = redis_async_command(w->redis, NULL, NULL, "MULTI");
        if (r >= 0)
                r = append_counter(w, "processed", w->stat_processed, date);
        if (r >= 0)
                r = append_counter(w, "failed", w->stat_failed, date);
        if (r >= 0)
                r = redis_async_command(w->redis, on_stats_reply, w, "EXEC");
        if (r < 0)
                return; /* connection lost mid-way: MULTI is discarded with it, counts kept */
        w->stats_sent_processed = w->stat_processed;
        w->stats_sent_failed = w->stat_failed;
        w->stat_processed = w->stat_failed = 0;
        w->stats_in_flight = true;
}
