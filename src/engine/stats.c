/* SPDX-License-Identifier: MIT */
/* Sidekiq's counters: stat:processed (failures included) and stat:failed, total and per UTC day
 * (stat:processed:YYYY-MM-DD, kept five years), and the per-class ones of jobsctl metrics
 * (jobs:class:<class>), added with every heartbeat and when stopping, as Sidekiq does, not per job. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stats.h"
#include "model/job.h"
#include "redis/keys.h"
#include "util/log.h"

#define STATS_TTL_SEC (5 * 365 * 24 * 3600)

void stats_init(Stats *s) {
        *s = (Stats) {};
}

static void tallies_free(ClassTally *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(t[i].class);
        free(t);
}

void stats_done(Stats *s) {
        /* A reply in flight was answered (NULL) when the connection was freed. */
        tallies_free(s->classes, s->n_classes);
        tallies_free(s->sent_classes, s->n_sent_classes);
        *s = (Stats) {};
}

/* The unsent tally of class, made if missing (NULL: no room or no memory, r says which). */
static ClassTally *tally_get(Stats *s, const char *class, int *r) {
        for (size_t i = 0; i < s->n_classes; i++)
                if (!strcmp(s->classes[i].class, class))
                        return &s->classes[i];
        *r = -ENOBUFS;
        if (s->n_classes >= STATS_CLASSES_MAX)
                return NULL;
        *r = -ENOMEM;
        if (!s->classes && !(s->classes = calloc(STATS_CLASSES_MAX, sizeof *s->classes)))
                return NULL;
        ClassTally *t = &s->classes[s->n_classes];
        *t = (ClassTally) { .class = strdup(class) };
        if (!t->class)
                return NULL;
        s->n_classes++;
        return t;
}

int stats_count_class(Stats *s, const char *class, bool ok, uint64_t usec) {
        ClassTally *t;
        int r;

        if (!class || !*class || strlen(class) > JOB_CLASS_MAX)
                return -EINVAL;
        if (!(t = tally_get(s, class, &r)))
                return r;
        class_tally_add(t, ok, usec);
        return 0;
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
                for (size_t i = 0; i < s->n_sent_classes; i++) {
                        int r;
                        ClassTally *t = tally_get(s, s->sent_classes[i].class, &r);
                        if (t)
                                class_tally_merge(t, &s->sent_classes[i]);
                }
                if (reply)
                        log_warning("Updating the statistics failed: %s", e);
        }
        s->sent_processed = s->sent_failed = 0;
        tallies_free(s->sent_classes, s->n_sent_classes);
        s->sent_classes = NULL;
        s->n_sent_classes = 0;
}

/* INCRBY stat:<name> and stat:<name>:<date> by count, and keep the daily key five years. */
static int append_counter(RedisAsync *redis, const char *name, uint64_t count, const char *date) {
        char n[24];
        int r;

        if (count == 0)
                return 0;
        snprintf(n, sizeof n, "%" PRIu64, count);
        r = redis_async_command(redis, NULL, NULL, "INCRBY " REDIS_KEY_STAT_PREFIX "%s %s", name, n);
        if (r >= 0)
                r = redis_async_command(redis, NULL, NULL, "INCRBY " REDIS_KEY_STAT_PREFIX "%s:%s %s", name, date, n);
        if (r >= 0)
                r = redis_async_command(redis, NULL, NULL, "EXPIRE " REDIS_KEY_STAT_PREFIX "%s:%s %d", name, date, STATS_TTL_SEC);
        return r;
}

void stats_flush(Stats *s, RedisAsync *redis) {
        char date[16];
        time_t t = time(NULL);
        struct tm tm;
        int r = 0;

        if (s->in_flight || (s->unsent_processed == 0 && s->unsent_failed == 0 && s->n_classes == 0) ||
            !redis_async_is_up(redis))
                return;
        if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%d", &tm) == 0)
                return;
        /* MULTI/EXEC so that one reply tells whether all of it was applied. */
        r = redis_async_command(redis, NULL, NULL, "MULTI");
        if (r >= 0)
                r = append_counter(redis, "processed", s->unsent_processed, date);
        if (r >= 0)
                r = append_counter(redis, "failed", s->unsent_failed, date);
        for (size_t i = 0; r >= 0 && i < s->n_classes; i++)
                r = class_tally_append(redis, &s->classes[i]);
        if (r >= 0)
                r = redis_async_command(redis, on_stats_reply, s, "EXEC");
        if (r < 0)
                return; /* connection lost mid-way: MULTI is discarded with it, counts kept */
        s->sent_processed = s->unsent_processed;
        s->sent_failed = s->unsent_failed;
        s->unsent_processed = s->unsent_failed = 0;
        s->sent_classes = TAKE_PTR(s->classes);
        s->n_sent_classes = s->n_classes;
        s->n_classes = 0;
        s->in_flight = true;
}
