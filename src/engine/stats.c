/* SPDX-License-Identifier: MIT */
/* Sidekiq's counters: stat:processed (failures included) and stat:failed, total and per UTC day
 * (stat:processed:YYYY-MM-DD, kept five years), added with every heartbeat and when stopping, as
 * Sidekiq does, not per job. */

#include <inttypes.h>

#include "engine/stats.h"
#include "util/log.h"

#define STATS_TTL_SEC (5 * 365 * 24 * 3600)

void stats_init(Stats *s) {
        *s = (Stats) {};
}

void stats_done(Stats *s) {
        /* Nothing is owned; a reply in flight was answered (NULL) when the connection was freed. */
        *s = (Stats) {};
}

void stats_count(Stats *s, bool ok) {
        s->processed++;
        s->unsent_processed++;
        if (!ok) {
                s->failed++;
                s->unsent_failed++;
        }
}

static void on_stats_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        Stats *s = privdata;
        const char *e = redis_async_reply_error(reply);

        s->in_flight = false;
        if (e) {
                /* Not added: count them again in the next flush. */
                s->unsent_processed += s->sent_processed;
                s->unsent_failed += s->sent_failed;
                if (reply)
                        log_warning("Updating the statistics failed: %s", e);
        }
        s->sent_processed = s->sent_failed = 0;
}

/* INCRBY stat:<name> and stat:<name>:<date> by count, and keep the daily key five years. */
static int append_counter(RedisAsync *redis, const char *name, uint64_t count, const char *date) {
        char n[24];
        int r;

        if (count == 0)
                return 0;
        snprintf(n, sizeof n, "%" PRIu64, count);
        r = redis_async_command(redis, NULL, NULL, "INCRBY stat:%s %s", name, n);
        if (r >= 0)
                r = redis_async_command(redis, NULL, NULL, "INCRBY stat:%s:%s %s", name, date, n);
        if (r >= 0)
                r = redis_async_command(redis, NULL, NULL, "EXPIRE stat:%s:%s %d", name, date, STATS_TTL_SEC);
        return r;
}

void stats_flush(Stats *s, RedisAsync *redis) {
        char date[16];
        time_t t = time(NULL);
        struct tm tm;
        int r = 0;

        if (s->in_flight || (s->unsent_processed == 0 && s->unsent_failed == 0) || !redis_async_is_up(redis))
                return;
        if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%d", &tm) == 0)
                return;
        /* MULTI/EXEC so that one reply tells whether all of it was applied. */
        r = redis_async_command(redis, NULL, NULL, "MULTI");
        if (r >= 0)
                r = append_counter(redis, "processed", s->unsent_processed, date);
        if (r >= 0)
                r = append_counter(redis, "failed", s->unsent_failed, date);
        if (r >= 0)
                r = redis_async_command(redis, on_stats_reply, s, "EXEC");
        if (r < 0)
                return; /* connection lost mid-way: MULTI is discarded with it, counts kept */
        s->sent_processed = s->unsent_processed;
        s->sent_failed = s->unsent_failed;
        s->unsent_processed = s->unsent_failed = 0;
        s->in_flight = true;
}
