/* SPDX-License-Identifier: MIT */
/* libFuzzer: durations ("1h 30min") and points in time ("2026-12-24 18:00", "@1700000000") as the
 * command line and the config files take them. A parsed duration formats and parses back to itself;
 * a parsed time is within the stated limits. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/timestamp.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);
        char buf[256];
        usec_t u, back;

        if (!s)
                return 0;
        if (parse_duration(s, &u) >= 0 && u != USEC_INFINITY) {
                format_duration(buf, sizeof buf, u);
                assert(parse_duration(buf, &back) >= 0);
                assert(back == u);
                format_timespan_short(buf, sizeof buf, u);
        }
        if (parse_timestamp(s, 1800000000ULL * USEC_PER_SEC, &u) >= 0 && u >= USEC_PER_SEC) {
                assert(u <= TIMESTAMP_USEC_MAX);
                format_timestamp(buf, sizeof buf, u, true);
                /* what we print reads back (to the second); the epoch itself is printed "n/a" */
                assert(parse_timestamp(buf, 0, &back) >= 0);
                assert(back == u - u % USEC_PER_SEC);
        }
        return 0;
}
