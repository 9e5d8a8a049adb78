/* SPDX-License-Identifier: MIT */
/* Calendar expressions checked by the real systemd-analyze (as jobsctl does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "units/calendar.h"

static void test_check(void **state) {
        /* valid ones printed with and without an "Original form:" line, invalid ones in between,
         * duplicates, and an argument that looks like an option */
        const char *exprs[] = {
                "*-*-* 02:00 Europe/London", "*-*-* 02:00:00", "bogus", "hourly", "Mon..Fri 09:00",
                "*-*-* 25:00", "-1", "hourly", "*-*-* 02:00 Nowhere/City", "*-*~07/1 00:00",
                "bogus",
        };
        const bool want[] = { true, true, false, true, true, false, false, true, false, true, false };
        bool valid[ELEMENTSOF(exprs)];

        assert_int_equal(calendar_check(exprs, ELEMENTSOF(exprs), valid), 0);
        for (size_t i = 0; i < ELEMENTSOF(exprs); i++) {
                if (valid[i] != want[i])
                        fail_msg("%s: expected %s", exprs[i], want[i] ? "valid" : "invalid");
        }
        assert_int_equal(calendar_check(exprs, 0, valid), 0);
}

static void test_many(void **state) {
        /* large outputs on both streams: thousands of blocks and refusals */
        enum { N = 3000 };
        char **exprs = calloc(N, sizeof(char *));
        bool *valid = calloc(N, sizeof(bool));

        assert_non_null(exprs);
        assert_non_null(valid);
        for (unsigned i = 0; i < N; i++) {
                /* a zone costs systemd-analyze a read of the zone list per expression: a few only */
                exprs[i] = i % 7 == 3 ? strdupf("*-*-* %u:%02u:%02u", 24 + i % 5, i / 60 % 60, i % 60)
                                      : strdupf("*-*-* %02u:%02u:%02u%s", i / 3600, i / 60 % 60, i % 60,
                                                i % 100 == 0 ? " Europe/Berlin" : "");
                assert_non_null(exprs[i]);
        }
        assert_int_equal(calendar_check((const char *const *) exprs, N, valid), 0);
        for (unsigned i = 0; i < N; i++) {
                if (valid[i] != (i % 7 != 3))
                        fail_msg("%s: wrong verdict", exprs[i]);
                free(exprs[i]);
        }
        free(exprs);
        free(valid);
}

/* text parsed as t.schedule (no parse error), its calendars checked; the errors sorted and printed */
static Schedule *checked(const char *text) {
        Schedule *s = schedule_new();

        assert_non_null(s);
        assert_int_equal(schedule_parse(s, "t.schedule", text, strlen(text)), 0);
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(calendar_check_schedule(s), 0);
        schedule_sort_errors(s);
        for (size_t i = 0; i < s->n_errors; i++)
                print_message("%s\n", s->errors[i].message);
        return s;
}

static void test_schedule(void **state) {
        const char text[] = "[Job]\nName=a\nClass=A\nOnCalendar=daily\nOnCalendar=Feb 30\nOnCalendar=*-02-28\n"
                            "[Job]\nName=b\nClass=B\nOnCalendar=*-*-* 02:00 Mars/Olympus\n"
                            "[Job]\nName=c\nClass=C\nOnCalendar=weekly\n";
        _cleanup_(schedule_freep) Schedule *s = checked(text);

        assert_int_equal(s->n_errors, 2);
        assert_non_null(strstr(s->errors[0].message, "t.schedule:5: OnCalendar=Feb 30: systemd does not accept"));
        assert_non_null(strstr(s->errors[1].message, "t.schedule:10: OnCalendar=*-*-* 02:00 Mars/Olympus: systemd"));
        assert_true(s->entries[0].broken);
        assert_true(s->entries[1].broken);
        assert_false(s->entries[2].broken);
}

static void test_not_evaluable(void **state) {
        /* systemd accepts the host zone's own abbreviation; the occurrence evaluator refuses it */
        const char text[] = "[Job]\nName=a\nClass=A\nOnCalendar=daily\nOnCalendar=daily CEST\n";

        assert_int_equal(setenv("TZ", "Europe/Berlin", 1), 0);
        tzset();
        _cleanup_(schedule_freep) Schedule *s = checked(text);
        assert_int_equal(s->n_errors, 1);
        assert_non_null(strstr(s->errors[0].message, "t.schedule:5: OnCalendar=daily CEST: systemd accepts this "
                                                     "calendar expression, but jobs cannot compute"));
        assert_true(s->entries[0].broken);
        assert_int_equal(unsetenv("TZ"), 0);
        tzset();
}

static void test_never_elapses(void **state) {
        /* dates no month has are refused; a one-off date that has passed, or Feb 29, is not */
        const char text[] = "[Job]\nName=a\nClass=A\nOnCalendar=*-02-30 02:00\n"
                            "[Job]\nName=b\nClass=B\nOnCalendar=2020-01-01 00:00\nOnCalendar=*-02-29\n"
                            "[Job]\nName=c\nClass=C\nOnCalendar=daily\nOnCalendar=*-04-31 Europe/London\n";
        _cleanup_(schedule_freep) Schedule *s = checked(text);

        assert_int_equal(s->n_errors, 2);
        assert_non_null(strstr(s->errors[0].message, "t.schedule:4: OnCalendar=*-02-30 02:00: no date matches"));
        assert_non_null(strstr(s->errors[1].message, "t.schedule:14: OnCalendar=*-04-31 Europe/London: no date"));
        assert_true(s->entries[0].broken);
        assert_false(s->entries[1].broken);
        assert_true(s->entries[2].broken);
}

static void test_missing_program(void **state) {
        const char *exprs[] = { "daily" };
        bool valid[1];

        setenv("JOBS_SYSTEMD_ANALYZE", "/nonexistent/systemd-analyze", 1);
        assert_int_equal(calendar_check(exprs, 1, valid), -ENOENT);
        /* a program that does not speak systemd-analyze's language */
        setenv("JOBS_SYSTEMD_ANALYZE", "false", 1);
        assert_int_equal(calendar_check(exprs, 1, valid), -EPROTO);
        unsetenv("JOBS_SYSTEMD_ANALYZE");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_many),
                cmocka_unit_test(test_schedule),
                cmocka_unit_test(test_not_evaluable),
                cmocka_unit_test(test_never_elapses),
                cmocka_unit_test(test_missing_program),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
