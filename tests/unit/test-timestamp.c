/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/timestamp.h"

static void test_timespan_short(void **state) {
        char b[TIMESTAMP_MAX];

        assert_string_equal(format_timespan_short(b, sizeof b, 0), "0");
        assert_string_equal(format_timespan_short(b, sizeof b, 999), "999us");
        assert_string_equal(format_timespan_short(b, sizeof b, 250 * USEC_PER_MSEC + 7), "250ms");
        assert_string_equal(format_timespan_short(b, sizeof b, 45 * USEC_PER_SEC + 300 * USEC_PER_MSEC), "45s");
        assert_string_equal(format_timespan_short(b, sizeof b, 3 * USEC_PER_MINUTE + 5 * USEC_PER_SEC), "3min 5s");
        assert_string_equal(format_timespan_short(b, sizeof b, 2 * USEC_PER_HOUR + 4 * USEC_PER_MINUTE + 9 * USEC_PER_SEC),
                            "2h 4min");
        assert_string_equal(format_timespan_short(b, sizeof b, USEC_PER_DAY + 2 * USEC_PER_HOUR), "1 day 2h");
        assert_string_equal(format_timespan_short(b, sizeof b, 3 * USEC_PER_DAY), "3 days");
        /* not adjacent units: the smaller one is dropped */
        assert_string_equal(format_timespan_short(b, sizeof b, USEC_PER_DAY + 5 * USEC_PER_MINUTE), "1 day");
        assert_string_equal(format_timespan_short(b, sizeof b, 15 * USEC_PER_DAY), "2 weeks 1 day");
        assert_string_equal(format_timespan_short(b, sizeof b, USEC_INFINITY), "infinity");
        /* a short buffer is cut, never overrun */
        assert_true(strlen(format_timespan_short(b, 4, 3 * USEC_PER_MINUTE + 5 * USEC_PER_SEC)) < 4);
}

static void test_relative(void **state) {
        char b[TIMESTAMP_MAX];
        usec_t now = 1800000000 * USEC_PER_SEC;

        assert_string_equal(format_timestamp_relative(b, sizeof b, now - 185 * USEC_PER_SEC, now), "3min 5s ago");
        assert_string_equal(format_timestamp_relative(b, sizeof b, now + 2 * USEC_PER_HOUR + 5 * USEC_PER_MINUTE, now),
                            "2h 5min left");
        assert_string_equal(format_timestamp_relative(b, sizeof b, now, now), "now");
        assert_string_equal(format_timestamp_relative(b, sizeof b, now - 500 * USEC_PER_MSEC, now), "now");
        assert_string_equal(format_timestamp_relative(b, sizeof b, 0, now), "n/a");
        assert_string_equal(format_timestamp_relative(b, sizeof b, USEC_INFINITY, now), "n/a");
}

static void test_absolute(void **state) {
        char b[TIMESTAMP_MAX];

        assert_string_equal(format_timestamp(b, sizeof b, 1700000000 * USEC_PER_SEC, true),
                            "Tue 2023-11-14 22:13:20 GMT");
        assert_string_equal(format_timestamp(b, sizeof b, 0, true), "n/a");
        assert_string_equal(format_timestamp(b, sizeof b, USEC_INFINITY, false), "n/a");
}

static void test_sidekiq_time(void **state) {
        /* float seconds (Sidekiq 6/7) */
        assert_int_equal(usec_from_sidekiq_time(1700000000.5, false), 1700000000500000ULL);
        /* integer milliseconds (Sidekiq 8) */
        assert_int_equal(usec_from_sidekiq_time(1700000000123.0, true), 1700000000123000ULL);
        /* integer seconds written by some other client */
        assert_int_equal(usec_from_sidekiq_time(1700000000.0, true), 1700000000000000ULL);
        assert_int_equal(usec_from_sidekiq_time(-1, false), 0);
        assert_int_equal(usec_from_sidekiq_time(0, false), 0);
        assert_int_equal(usec_from_sidekiq_time(1e300, false), 0);
        assert_int_equal(usec_from_sidekiq_time(0.0 / 0.0, false), 0);
}

static usec_t ts(const char *s, int want) {
        usec_t t = 42;
        assert_int_equal(parse_timestamp(s, 1800000000 * USEC_PER_SEC, &t), want);
        if (want < 0)
                assert_int_equal(t, 42); /* untouched on failure */
        return t;
}

static void test_parse(void **state) {
        assert_int_equal(ts("1767225600", 0), 1767225600 * USEC_PER_SEC);
        assert_int_equal(ts("1767225600.25", 0), 1767225600 * USEC_PER_SEC + 250000);
        assert_int_equal(ts("@1700000000", 0), 1700000000 * USEC_PER_SEC);
        assert_int_equal(ts("2026-12-24T18:00:00Z", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("2026-12-24 18:00 UTC", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("Thu 2026-12-24 18:00:00.5 UTC", 0), 1798135200 * USEC_PER_SEC + 500000);
        /* what format_timestamp() prints in UTC reads back */
        assert_int_equal(ts("Thu 2026-12-24 18:00:00 GMT", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("2026-12-24T19:30:00+01:30", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("2026-12-24 13:00-0500", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("2026-12-24Z", 0), 1798070400 * USEC_PER_SEC);
        assert_int_equal(ts("2024-02-29 00:00 UTC", 0), 1709164800 * USEC_PER_SEC);
        assert_int_equal(ts("9999-12-31 23:59:59 UTC", 0), TIMESTAMP_USEC_MAX);
        assert_int_equal(ts("now", 0), 1800000000 * USEC_PER_SEC);
        /* local time follows $TZ */
        setenv("TZ", "Europe/Berlin", 1);
        tzset();
        assert_int_equal(ts("2026-12-24 19:00", 0), 1798135200 * USEC_PER_SEC);
        assert_int_equal(ts("2026-07-24 20:00", 0), 1784916000 * USEC_PER_SEC); /* summer time */
        assert_int_equal(ts("tomorrow", 0) - ts("today", 0), USEC_PER_DAY);
        unsetenv("TZ");
        tzset();

        /* refused: the forms strtod() would have taken, bad dates, bad zones, out of range */
        static const char *const bad[] = { "0x10", "1e9", "-5", "+5", " 5", "5 ", "inf", "nan", "", "@",
                                           "@-1", "1.", "2026-13-01", "2026-02-29", "2026-12-24 24:00",
                                           "2026-12-24 18:60", "2026-12-24 18", "2026-12-24T", "Fri 2026-12-24",
                                           "2026-12-24 18:00 CET", "2026-12-24 18:00+25:00", "26-12-24",
                                           "2026-1-2", "2026-12-24 18:00:00.", "yesterday tomorrow" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ts(bad[i], -EINVAL);
        ts("253402300800", -ERANGE);
        ts("99999999999999999999999", -ERANGE);
        ts("9999-12-31 23:59:59-01:00", -ERANGE);
        ts("1969-12-31 23:59:59 UTC", -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_timespan_short),
                cmocka_unit_test(test_relative),
                cmocka_unit_test(test_absolute),
                cmocka_unit_test(test_sidekiq_time),
                cmocka_unit_test(test_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
