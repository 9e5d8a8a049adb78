/* SPDX-License-Identifier: MIT */
/* The calendar evaluator on hand-picked cases; expected values are what systemd-analyze 252 prints
 * (the differential test tests/calendar/ compares thousands more). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/calendar-spec.h"
#include "model/occurrence.h"

static usec_t utc(int y, int mo, int d, int h, int mi, int s) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                         .tm_sec = s };
        return (usec_t) timegm(&tm) * USEC_PER_SEC;
}

static CalendarSpec *parse(const char *expr) {
        CalendarSpec *c = NULL;
        char *err = NULL;
        int r = calendar_spec_parse(expr, &c, &err);

        if (r < 0)
                fail_msg("%s: %d %s", expr, r, strempty(err));
        free(err);
        return c;
}

/* next() from base: the series want[0..n) */
static void check_series(const char *expr, usec_t base, const usec_t *want, size_t n) {
        _cleanup_(calendar_spec_freep) CalendarSpec *c = parse(expr);
        usec_t t = base;

        for (size_t i = 0; i < n; i++) {
                assert_int_equal(calendar_spec_next(c, t, &t), 0);
                if (t != want[i])
                        fail_msg("%s: elapse %zu is %llu, want %llu", expr, i, (unsigned long long) t,
                                 (unsigned long long) want[i]);
        }
}
#define SERIES(expr, base, ...)                                                 \
        do {                                                                    \
                const usec_t w_[] = { __VA_ARGS__ };                            \
                check_series(expr, base, w_, ELEMENTSOF(w_));                   \
        } while (0)

static void test_normalized(void **state) {
        static const char *const cases[][2] = {
                { "Sat,Thu,Mon..Wed,Sat..Sun", "Mon..Thu,Sat,Sun *-*-* 00:00:00" },
                { "Mon,Sun 12-*-* 2,1:23", "Mon,Sun 2012-*-* 01,02:23:00" },
                { "Wed *-1", "Wed *-*-01 00:00:00" },
                { "Wed..Wed,Wed *-1", "Wed *-*-01 00:00:00" },
                { "Wed, 17:48", "Wed *-*-* 17:48:00" },
                { "Wed..Sat,Tue 12-10-15 1:2:3", "Tue..Sat 2012-10-15 01:02:03" },
                { "12,14,13,12:20,10,30", "*-*-* 12,13,14:10,20,30:00" },
                { "mon,fri *-1/2-1,3 *:30:45", "Mon,Fri *-01/2-01,03 *:30:45" },
                { "05:40:23.4200004/3.1700005", "*-*-* 05:40:23.420000/3.170001" },
                { "2003-02..04-05", "2003-02..04-05 00:00:00" },
                { "2003-03-05 05:40 UTC", "2003-03-05 05:40:00 UTC" },
                { "minutely", "*-*-* *:*:00" },
                { "hourly", "*-*-* *:00:00" },
                { "daily UTC", "*-*-* 00:00:00 UTC" },
                { "weekly Pacific/Auckland", "Mon *-*-* 00:00:00 Pacific/Auckland" },
                { "quarterly", "*-01,04,07,10-01 00:00:00" },
                { "semiannually", "*-01,07-01 00:00:00" },
                { "ANNUALLY", "*-01-01 00:00:00" },
                { "*:2/3", "*-*-* *:02/3:00" },
                { "*-*~07/1", "*-*~07/1 00:00:00" },
                { "*:*:*", "*-*-* *:*:*" },
                { "*:*:55,24,0/1", "*-*-* *:*:*" },     /* "0/1" anywhere in the seconds: "*" */
                { "*:*:0/2,24", "*-*-* *:*:00/2,24" },
                { "@1700000000", "2023-11-14 22:13:20 UTC" },
                { "Mon..Sun 1..5..", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(calendar_spec_freep) CalendarSpec *c = NULL;
                _cleanup_free_ char *s = NULL, *err = NULL;
                int r = calendar_spec_parse(cases[i][0], &c, &err);

                if (!cases[i][1]) {
                        assert_int_equal(r, -EINVAL);
                        continue;
                }
                if (r < 0)
                        fail_msg("%s: %s", cases[i][0], strempty(err));
                assert_int_equal(calendar_spec_to_string(c, &s), 0);
                if (!streq(s, cases[i][1]))
                        fail_msg("%s: normalized to \"%s\", want \"%s\"", cases[i][0], s, cases[i][1]);
        }
}

static void test_refused(void **state) {
        /* refused by systemd 252 too; each error says what is wrong */
        static const char *const cases[][2] = {
                { "Sat..Mon", "backwards" },
                { "*-*-* 25:00", "hour \"25\" is out of range" },
                { "", "empty" },
                { "*-*-* 12:00 Mars/Olympus", "unexpected text" },
                { "*-*-* *:*:59/2", "second \"59/2\" is out of range" },
                { "*-1~10,15..21,21..27", "28, 25, 22" },
                { "*:0/0", "repetition of 0" },
                { "1969-01-01", "year" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(calendar_spec_freep) CalendarSpec *c = NULL;
                _cleanup_free_ char *err = NULL;

                assert_int_equal(calendar_spec_parse(cases[i][0], &c, &err), -EINVAL);
                assert_null(c);
                assert_non_null(err);
                if (!strstr(err, cases[i][1]))
                        fail_msg("%s: error \"%s\" does not say \"%s\"", cases[i][0], err, cases[i][1]);
        }
}

static void test_dst_berlin(void **state) {
        /* spring forward: 02:30 does not exist on 2024-03-31, the timer skips that day */
        SERIES("*-*-* 02:30 Europe/Berlin", utc(2024, 3, 30, 2, 0, 0), utc(2024, 4, 1, 0, 30, 0),
               utc(2024, 4, 2, 0, 30, 0));
        /* fall back: 02:30 happens twice on 2024-10-27, the timer fires at the first */
        SERIES("*-*-* 02:30 Europe/Berlin", utc(2024, 10, 26, 12, 0, 0), utc(2024, 10, 27, 0, 30, 0),
               utc(2024, 10, 28, 1, 30, 0));
}

static void test_dst_new_york(void **state) {
        SERIES("*-*-* 02:30 America/New_York", utc(2024, 3, 9, 12, 0, 0), utc(2024, 3, 11, 6, 30, 0),
               utc(2024, 3, 12, 6, 30, 0));
        /* the repeated hour is skipped by a running minutely timer */
        SERIES("minutely America/New_York", utc(2024, 11, 3, 5, 58, 30), utc(2024, 11, 3, 5, 59, 0),
               utc(2024, 11, 3, 7, 0, 0), utc(2024, 11, 3, 7, 1, 0));
}

static void test_prev_in_repeated_hour(void **state) {
        _cleanup_(calendar_spec_freep) CalendarSpec *m = parse("minutely America/New_York");
        _cleanup_(calendar_spec_freep) CalendarSpec *d = parse("*-*-* 02:30 Europe/Berlin");
        usec_t p;

        /* inside the repeated hour the occurrence is the last one before it */
        assert_int_equal(calendar_spec_prev(m, utc(2024, 11, 3, 6, 30, 0), &p), 0);
        assert_true(p == utc(2024, 11, 3, 5, 59, 0));
        assert_int_equal(calendar_spec_prev(m, utc(2024, 11, 3, 7, 0, 30), &p), 0);
        assert_true(p == utc(2024, 11, 3, 7, 0, 0));
        /* the second 02:30 (CET) is not an occurrence: the first one (CEST) stays current */
        assert_int_equal(calendar_spec_prev(d, utc(2024, 10, 27, 1, 45, 0), &p), 0);
        assert_true(p == utc(2024, 10, 27, 0, 30, 0));
        assert_int_equal(calendar_spec_prev(d, utc(2024, 10, 28, 1, 29, 0), &p), 0);
        assert_true(p == utc(2024, 10, 27, 0, 30, 0));
}

static void test_end_of_month_and_leap(void **state) {
        SERIES("*-02~01", utc(2023, 1, 1, 0, 0, 0), utc(2023, 2, 28, 0, 0, 0), utc(2024, 2, 29, 0, 0, 0),
               utc(2025, 2, 28, 0, 0, 0));
        /* the last Monday in May */
        SERIES("Mon *-05~07/1", utc(2024, 1, 1, 0, 0, 0), utc(2024, 5, 27, 0, 0, 0), utc(2025, 5, 26, 0, 0, 0));
        /* 2100 is no leap year */
        SERIES("*-02-29", utc(2097, 1, 1, 0, 0, 0), utc(2104, 2, 29, 0, 0, 0), utc(2108, 2, 29, 0, 0, 0));
        SERIES("*-02-29 12:00 UTC", utc(2024, 2, 29, 12, 0, 0), utc(2028, 2, 29, 12, 0, 0));
}

static void test_fractions(void **state) {
        SERIES("*:*:00/0.25 UTC", utc(2024, 1, 1, 0, 0, 0), utc(2024, 1, 1, 0, 0, 0) + 250000,
               utc(2024, 1, 1, 0, 0, 0) + 500000, utc(2024, 1, 1, 0, 0, 0) + 750000,
               utc(2024, 1, 1, 0, 0, 1));
}

static void test_never(void **state) {
        _cleanup_(calendar_spec_freep) CalendarSpec *c = parse("Sat,Sun 2024-*-* 12:00");
        _cleanup_(calendar_spec_freep) CalendarSpec *f = parse("*-02-30");
        usec_t t;

        assert_int_equal(calendar_spec_next(c, utc(2024, 12, 30, 0, 0, 0), &t), -ENOENT);
        assert_int_equal(calendar_spec_next(f, utc(2024, 1, 1, 0, 0, 0), &t), -ENOENT);
        assert_int_equal(calendar_spec_prev(f, utc(2024, 1, 1, 0, 0, 0), &t), -ENOENT);
        assert_int_equal(calendar_spec_prev(c, utc(2024, 1, 1, 0, 0, 0), &t), -ENOENT);
        assert_int_equal(calendar_spec_prev(c, utc(2024, 1, 7, 0, 0, 0), &t), 0);
        assert_true(t == utc(2024, 1, 6, 12, 0, 0));
}

static void test_local_zone_and_restore(void **state) {
        _cleanup_(calendar_spec_freep) CalendarSpec *local = parse("daily");
        _cleanup_(calendar_spec_freep) CalendarSpec *zoned = parse("daily Asia/Kolkata");
        usec_t t;

        /* no zone: the host's ($TZ) */
        assert_int_equal(setenv("TZ", ":Europe/Berlin", 1), 0);
        tzset();
        assert_int_equal(calendar_spec_next(local, utc(2024, 7, 1, 0, 0, 0), &t), 0);
        assert_true(t == utc(2024, 7, 1, 22, 0, 0));
        /* a zone is applied for the call only: $TZ is as before, and so is local time */
        assert_int_equal(calendar_spec_next(zoned, utc(2024, 7, 1, 0, 0, 0), &t), 0);
        assert_true(t == utc(2024, 7, 1, 18, 30, 0));
        assert_string_equal(getenv("TZ"), ":Europe/Berlin");
        assert_int_equal(calendar_spec_prev(local, utc(2024, 7, 2, 0, 0, 0), &t), 0);
        assert_true(t == utc(2024, 7, 1, 22, 0, 0));
        /* the host zone's own abbreviations are refused: systemd pins DST with them */
        _cleanup_free_ char *err = NULL;
        CalendarSpec *c = NULL;
        assert_int_equal(calendar_spec_parse("daily CEST", &c, &err), -EINVAL);
        assert_non_null(strstr(err, "abbreviation"));
        assert_int_equal(unsetenv("TZ"), 0);
        assert_int_equal(calendar_spec_next(zoned, utc(2024, 7, 1, 0, 0, 0), &t), 0);
        assert_null(getenv("TZ"));
        tzset();
}

/* next(prev(t)) > t, prev(t) <= t, prev(next(t)) == next(t), for all kinds of frequencies */
static void test_prev_next_consistent(void **state) {
        static const char *const exprs[] = {
                "*:*:*", "*:*:00/0.5", "minutely", "hourly Europe/Berlin", "daily America/New_York",
                "Mon..Fri 09:00 Europe/London", "*-*~01 23:59:59", "*-02-29 00:00 UTC", "quarterly",
                "2030-01-01 12:00 UTC", "Sat *-*-1..7 18:00 Australia/Lord_Howe", "*-*-* 02:30 Europe/Berlin",
        };
        uint64_t x = 88172645463325252ULL; /* xorshift, fixed seed */

        for (size_t i = 0; i < ELEMENTSOF(exprs); i++) {
                _cleanup_(calendar_spec_freep) CalendarSpec *c = parse(exprs[i]);

                for (unsigned k = 0; k < 25; k++) {
                        usec_t t, p, n, q;

                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        t = utc(2000, 1, 1, 0, 0, 0) + x % (40ULL * 365 * USEC_PER_DAY);
                        if (calendar_spec_next(c, t, &n) == -ENOENT) { /* a date in the past */
                                assert_int_equal(calendar_spec_prev(c, t, &p), 0);
                                continue;
                        }
                        assert_true(n > t);
                        assert_int_equal(calendar_spec_prev(c, n, &q), 0);
                        if (q != n)
                                fail_msg("%s: prev(next(%llu)) = %llu != %llu", exprs[i],
                                         (unsigned long long) t, (unsigned long long) q, (unsigned long long) n);
                        if (calendar_spec_prev(c, t, &p) == -ENOENT)
                                continue;
                        assert_true(p <= t);
                        assert_int_equal(calendar_spec_next(c, p, &q), 0);
                        if (q <= t)
                                fail_msg("%s: next(prev(%llu)) = %llu <= t", exprs[i], (unsigned long long) t,
                                         (unsigned long long) q);
                }
        }
}

/* prev(t) and next(t) for every t across the 2026 DST changes of zones with positive, negative
 * (Dublin: its winter time is the one flagged DST) and half-hour offsets, for a daily time that
 * always exists: the latest of the expected elapses at or before t, and the first one after it
 * (local times made with mktime()). From just after Dublin's midnight on the day the clocks go
 * forward, mktime() reads the skipped hour backwards and the search comes back behind its start:
 * it must go on to the next midnight, as Debian's systemd 252 does (2026-03-29 23:00 UTC). */
static void test_sweep_dst(void **state) {
        static const struct { const char *zone; int month, day; } cases[] = {
                { "Europe/Dublin", 3, 29 }, { "Europe/Dublin", 10, 25 }, { "Europe/London", 3, 29 },
                { "Europe/London", 10, 25 }, { "America/New_York", 3, 8 }, { "Australia/Lord_Howe", 4, 5 },
        };
        static const char *const times[] = { "00:00", "12:00" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (size_t j = 0; j < ELEMENTSOF(times); j++) {
                        _cleanup_free_ char *expr = strdupf("*-*-* %s %s", times[j], cases[i].zone);
                        _cleanup_(calendar_spec_freep) CalendarSpec *c = parse(expr);
                        _cleanup_free_ char *tz = strdupf(":%s", cases[i].zone);
                        char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
                        usec_t e[6];

                        /* the elapses: that time on the days around the change, in the zone */
                        assert_int_equal(setenv("TZ", tz, 1), 0);
                        tzset();
                        for (int d = 0; d < 6; d++) {
                                struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = cases[i].month - 1,
                                                 .tm_mday = cases[i].day - 2 + d, .tm_hour = j == 0 ? 0 : 12,
                                                 .tm_isdst = -1 };
                                e[d] = (usec_t) mktime(&tm) * USEC_PER_SEC;
                        }
                        if (old)
                                assert_int_equal(setenv("TZ", old, 1), 0);
                        else
                                assert_int_equal(unsetenv("TZ"), 0);
                        tzset();
                        free(old);

                        for (usec_t t = e[0]; t < e[5]; t += 7 * USEC_PER_MINUTE + 13 * USEC_PER_SEC) {
                                usec_t p = 0, n = 0, want = e[0];

                                for (int d = 0; d < 6; d++)
                                        if (e[d] <= t)
                                                want = e[d];
                                assert_int_equal(calendar_spec_prev(c, t, &p), 0);
                                if (p != want)
                                        fail_msg("%s: prev(%llu) = %llu, want %llu", expr, (unsigned long long) t,
                                                 (unsigned long long) p, (unsigned long long) want);
                                for (int d = 5; d >= 0; d--)
                                        if (e[d] > t)
                                                want = e[d];
                                assert_int_equal(calendar_spec_next(c, t, &n), 0);
                                if (n != want)
                                        fail_msg("%s: next(%llu) = %llu, want %llu", expr, (unsigned long long) t,
                                                 (unsigned long long) n, (unsigned long long) want);
                        }
                }
}

/* occurrence_prev_pair() against occurrence_prev() twice, for one and several calendars */
static void test_occurrence_pair(void **state) {
        static const char *const sets[][3] = {
                { "minutely" }, { "*:0/5" }, { "*-*-01 00:00" }, { "Sat *-*-* 12:00" },
                { "*-*-* 02:00 Europe/London", "Sat *-*-* 12:00" },
                { "Mon..Fri 09:00 America/New_York", "Sat,Sun 11:00", "*-*~01 23:00 UTC" },
        };
        uint64_t x = 2463534242ULL; /* xorshift, fixed seed */
        usec_t occ, before;

        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                CalendarSpec *specs[3] = {};
                size_t n = 0;

                while (n < 3 && sets[i][n])
                        specs[n] = parse(sets[i][n]), n++;
                for (unsigned k = 0; k < 40; k++) {
                        usec_t t, want_occ, want_before;

                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        t = utc(2001, 1, 1, 0, 0, 0) + x % (40ULL * 365 * USEC_PER_DAY);
                        assert_int_equal(occurrence_prev(specs, n, t, &want_occ), 0);
                        assert_int_equal(occurrence_prev(specs, n, want_occ - 1, &want_before), 0);
                        assert_int_equal(occurrence_prev_pair(specs, n, t, &occ, &before), 0);
                        if (occ != want_occ || before != want_before)
                                fail_msg("%s at %llu: %llu %llu, want %llu %llu", sets[i][0], (unsigned long long) t,
                                         (unsigned long long) occ, (unsigned long long) before,
                                         (unsigned long long) want_occ, (unsigned long long) want_before);
                }
                for (size_t j = 0; j < n; j++)
                        calendar_spec_free(specs[j]);
        }
        assert_int_equal(occurrence_prev_pair(NULL, 0, utc(2024, 1, 1, 0, 0, 0), &occ, &before), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalized),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_dst_berlin),
                cmocka_unit_test(test_dst_new_york),
                cmocka_unit_test(test_prev_in_repeated_hour),
                cmocka_unit_test(test_end_of_month_and_leap),
                cmocka_unit_test(test_fractions),
                cmocka_unit_test(test_never),
                cmocka_unit_test(test_local_zone_and_restore),
                cmocka_unit_test(test_prev_next_consistent),
                cmocka_unit_test(test_occurrence_pair),
                cmocka_unit_test(test_sweep_dst),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
