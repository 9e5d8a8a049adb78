/* SPDX-License-Identifier: MIT */
/* Per-class counters and a run-time histogram for jobsctl metrics. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "redis/class-stats.h"
#include "model/job.h"
#include "util/util.h"

const double class_stats_bounds[CLASS_STATS_BUCKETS] = { 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400 };

void class_stats_bucket_field(size_t i, char buf[static 16]) {
        snprintf(buf, 16, "bucket:%zu", i);
}

void class_tally_add(ClassTally *t, bool ok, uint64_t usec) {
        double seconds = (double) usec / 1e6;
        size_t i = 0;

        while (i < CLASS_STATS_BUCKETS && seconds > class_stats_bounds[i])
                i++;
        t->processed++;
        t->failed += !ok;
        t->duration_usec += usec;
        t->buckets[i]++;
}

void class_tally_merge(ClassTally *into, const ClassTally *from) {
        into->processed += from->processed;
        into->failed += from->failed;
        into->duration_usec += from->duration_usec;
        for (size_t i = 0; i <= CLASS_STATS_BUCKETS; i++)
                into->buckets[i] += from->buckets[i];
}

static int hincrby(RedisAsync *redis, const char *key, const char *field, uint64_t n) {
        char v[24];

        if (n == 0)
                return 0;
        snprintf(v, sizeof v, "%" PRIu64, n);
        const char *argv[] = { "HINCRBY", key, field, v };
        size_t len[ELEMENTSOF(argv)];
        for (size_t k = 0; k < ELEMENTSOF(argv); k++)
                len[k] = strlen(argv[k]);
        return redis_async_command_argv(redis, NULL, NULL, (int) ELEMENTSOF(argv), argv, len);
}

int class_tally_append(RedisAsync *redis, const ClassTally *t) {
        char key[sizeof REDIS_KEY_CLASS_PREFIX + JOB_CLASS_MAX], field[16];
        int r;

        snprintf(key, sizeof key, REDIS_KEY_CLASS_PREFIX "%s", t->class);
        const char *argv[] = { "SADD", REDIS_KEY_CLASSES, t->class };
        size_t len[ELEMENTSOF(argv)];
        for (size_t k = 0; k < ELEMENTSOF(argv); k++)
                len[k] = strlen(argv[k]);
        r = redis_async_command_argv(redis, NULL, NULL, (int) ELEMENTSOF(argv), argv, len);
        if (r >= 0)
                r = hincrby(redis, key, "processed", t->processed);
        if (r >= 0)
                r = hincrby(redis, key, "failed", t->failed);
        if (r >= 0)
                r = hincrby(redis, key, "duration_usec", t->duration_usec);
        for (size_t i = 0; r >= 0 && i <= CLASS_STATS_BUCKETS; i++) {
                class_stats_bucket_field(i, field);
                r = hincrby(redis, key, field, t->buckets[i]);
        }
        return r;
}
