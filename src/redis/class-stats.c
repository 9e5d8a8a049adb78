/* SPDX-License-Identifier: MIT */
/* Per-class counters and a run-time histogram for jobsctl metrics. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "redis/class-stats.h"
#include "util/util.h"

const double class_stats_bounds[CLASS_STATS_BUCKETS] = { 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400 };

static const char record_script[] =
        "redis.call('SADD', '" REDIS_KEY_CLASSES "', ARGV[1])\n"
        "redis.call('HINCRBY', KEYS[1], 'processed', 1)\n"
        "if ARGV[2] == '0' then redis.call('HINCRBY', KEYS[1], 'failed', 1) end\n"
        "redis.call('HINCRBY', KEYS[1], ARGV[3], 1)\n"
        "redis.call('HINCRBY', KEYS[1], 'duration_usec', ARGV[4])\n";

void class_stats_bucket_field(size_t i, char buf[static 16]) {
        snprintf(buf, 16, "bucket:%zu", i);
}

int class_stats_record(RedisAsync *redis, const char *class, bool ok, uint64_t usec) {
        char key[sizeof REDIS_KEY_CLASS_PREFIX + 256], field[16], dur[24];
        double seconds = (double) usec / 1e6;
        size_t i = 0;

        if (!class || !*class || strlen(class) > 255)
                return -EINVAL;
        if (!redis_async_is_up(redis))
                return 0;
        while (i < CLASS_STATS_BUCKETS && seconds > class_stats_bounds[i])
                i++;
        class_stats_bucket_field(i, field);
        snprintf(key, sizeof key, REDIS_KEY_CLASS_PREFIX "%s", class);
        snprintf(dur, sizeof dur, "%" PRIu64, usec);
        const char *argv[] = { "EVAL", record_script, "1", key, class, ok ? "1" : "0", field, dur };
        size_t len[ELEMENTSOF(argv)];
        for (size_t k = 0; k < ELEMENTSOF(argv); k++)
                len[k] = strlen(argv[k]);
        return redis_async_command_argv(redis, NULL, NULL, (int) ELEMENTSOF(argv), argv, len);
}
