/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>

#include "model/schedule.h"

#define F "test.schedule"

static Schedule *parse(const char *text) {
        Schedule *s = schedule_new();
        assert_non_null(s);
        assert_int_equal(schedule_parse(s, F, text, strlen(text)), 0);
        schedule_sort_errors(s);
        return s;
}

/* The schedule has an error that starts with "test.schedule:LINE: " and contains what. */
static void expect_error(const Schedule *s, unsigned line, const char *what) {
        char prefix[64];

        snprintf(prefix, sizeof prefix, F ":%u: ", line);
        for (size_t i = 0; i < s->n_errors; i++)
                if (strncmp(s->errors[i].message, prefix, strlen(prefix)) == 0 && strstr(s->errors[i].message, what))
                        return;
        for (size_t i = 0; i < s->n_errors; i++)
                print_message("  have: %s\n", s->errors[i].message);
        fail_msg("no error \"%s...%s\"", prefix, what);
}

/* Exactly one error, on that line, naming what. */
static void expect_only_error(const char *text, unsigned line, const char *what) {
        _cleanup_(schedule_freep) Schedule *s = parse(text);
        expect_error(s, line, what);
        if (s->n_errors != 1) {
                for (size_t i = 0; i < s->n_errors; i++)
                        print_message("  have: %s\n", s->errors[i].message);
                fail_msg("expected 1 error, got %zu", s->n_errors);
        }
}

#define JOB "[Job]\nName=a\nClass=A\nEvery=1min\n" /* lines 1-4 */

static void test_full_entry(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse(
                "# comment\n"
                "; another\n"
                "\n"
                "[Job]\n"
                "Name=nightly.report_2\n"
                "Description=Nightly 100% report\n"
                "Class=Reports::Nightly\n"
                "Queue=low\n"
                "Args=[ \"x\", 1, {\"k\": null} ]\n"
                "Retry=3\n"
                "OnCalendar=*-*-* 02:00 Europe/London\n"
                "OnCalendar=Sat *-*-* 12:00\n"
                "Persistent=yes\n"
                "RandomizedDelaySec=5min\n"
                "AccuracySec=30s\n"
                "ActiveJob=yes\n"
                "X-Owner=team-a\n");
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(s->n_entries, 1);
        const ScheduleEntry *e = &s->entries[0];
        assert_string_equal(e->name, "nightly.report_2");
        assert_string_equal(e->path, F);
        assert_int_equal(e->line, 4);
        assert_string_equal(e->description, "Nightly 100% report");
        assert_string_equal(e->class, "Reports::Nightly");
        assert_string_equal(schedule_entry_queue(e), "low");
        assert_string_equal(schedule_entry_args(e), "[\"x\",1,{\"k\":null}]");
        assert_true(e->retry_set);
        assert_int_equal(e->retry.kind, JOB_RETRY_COUNT);
        assert_int_equal(e->retry.count, 3);
        assert_int_equal(e->n_calendars, 2);
        assert_string_equal(e->calendars[0].expression, "*-*-* 02:00 Europe/London");
        assert_int_equal(e->calendars[0].line, 11);
        assert_string_equal(e->calendars[1].expression, "Sat *-*-* 12:00");
        assert_int_equal(e->persistent, 1);
        assert_int_equal(e->randomized_delay, 5 * USEC_PER_MINUTE);
        assert_int_equal(e->accuracy, 30 * USEC_PER_SEC);
        assert_true(e->active_job);
        assert_false(e->broken);
        assert_int_equal(schedule_count_good(s), 1);
}

static void test_args_numbers(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse(JOB "Args=[0.1, 1.5e3, -0, 1E2, 3.14159, 0.30000000000000004, "
                                                          "9007199254740993, -7, 1e-7, \"\\u00e9\\n\"]\n");
        assert_int_equal(s->n_errors, 0);
        /* numbers and strings as written, whitespace between tokens dropped */
        assert_string_equal(schedule_entry_args(&s->entries[0]),
                            "[0.1,1.5e3,-0,1E2,3.14159,0.30000000000000004,9007199254740993,-7,1e-7,\"\\u00e9\\n\"]");
        _cleanup_(schedule_freep) Schedule *t = parse(JOB "Args=[ \"a b\" ,\t{ \"k \\\" \" : [ ] } ]\n");
        assert_int_equal(t->n_errors, 0);
        assert_string_equal(schedule_entry_args(&t->entries[0]), "[\"a b\",{\"k \\\" \":[]}]");
}

static void test_defaults(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse(JOB);
        assert_int_equal(s->n_errors, 0);
        const ScheduleEntry *e = &s->entries[0];
        assert_string_equal(schedule_entry_queue(e), "default");
        assert_string_equal(schedule_entry_args(e), "[]");
        assert_false(e->retry_set);
        assert_int_equal(e->every, USEC_PER_MINUTE);
        assert_int_equal(e->persistent, -1);
        assert_int_equal(e->accuracy, USEC_INFINITY);
        assert_int_equal(e->randomized_delay, USEC_INFINITY);
        assert_null(e->description);
        assert_false(e->active_job);
}

static void test_syntax(void **state) {
        /* whitespace around keys and values, CRLF, a BOM, indented comments */
        _cleanup_(schedule_freep) Schedule *s = parse("\xef\xbb\xbf  [Job]  \r\n"
                                                      "   Name  =  b  \r\n"
                                                      "\t# indented comment\r\n"
                                                      "  ; and this\n"
                                                      "Class=\tB\t\n"
                                                      "Every = 5min\n"
                                                      "Queue=first\n"
                                                      "Queue=second\n"      /* the last one wins */
                                                      "OnCalendar=\n"       /* empty resets */
                                                      "X-Anything = ok\n"
                                                      "[X-Notes]\n"
                                                      "Whatever=ignored\n");
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(s->n_entries, 1);
        assert_string_equal(s->entries[0].name, "b");
        assert_string_equal(s->entries[0].class, "B");
        assert_string_equal(s->entries[0].queue, "second");
        assert_int_equal(s->entries[0].every, 5 * USEC_PER_MINUTE);
}

static void test_continuation(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse("[Job]\n"
                                                      "Name=c\n"
                                                      "Class=C\n"
                                                      "Args=[1, \\\n"
                                                      "# a comment inside a continuation is dropped\n"
                                                      "      2, \\\n"
                                                      "      3]\n"
                                                      "OnCalendar=*-*-* \\\n"
                                                      "  02:00\n"
                                                      "OnCalendar=Mon *-*-* 03:00\n"
                                                      "Description=ends in two backslashes \\\\\n"
                                                      "Queue=q\n");
        assert_int_equal(s->n_errors, 0);
        const ScheduleEntry *e = &s->entries[0];
        assert_string_equal(schedule_entry_args(e), "[1,2,3]");
        assert_string_equal(e->calendars[0].expression, "*-*-*    02:00");
        assert_int_equal(e->calendars[0].line, 8);
        assert_int_equal(e->calendars[1].line, 10);
        assert_string_equal(e->description, "ends in two backslashes \\\\");
        assert_string_equal(e->queue, "q");

        /* a continuation at the end of the file still counts */
        _cleanup_(schedule_freep) Schedule *t = parse("[Job]\nName=d\nClass=D\nEvery=1min\nQueue=x\\");
        assert_int_equal(t->n_errors, 0);
        assert_string_equal(t->entries[0].queue, "x");
}

static void test_syntax_errors(void **state) {
        expect_only_error("Class=A\n" JOB, 1, "Class=A: assignment outside of a [Job] section");
        expect_only_error(JOB "[Job\nName=b\n", 5, "[Job: invalid section header");
        expect_only_error(JOB "[Jobs]\nName=b\n", 5, "[Jobs]: unknown section; a schedule has only [Job] sections");
        expect_only_error(JOB "Queue\n", 5, "Queue: missing '='; lines are Key=Value");
        expect_only_error(JOB "=x\n", 5, "=x: empty key");
        expect_only_error(JOB "Clas=B\n", 5, "Clas=B: unknown key Clas=; allowed: Name=, Class=");
        expect_only_error(JOB "class=B\n", 5, "class=B: unknown key class=");
}

static void test_value_errors(void **state) {
        char longname[SCHEDULE_NAME_MAX + 2];

        expect_only_error("[Job]\nName=a b\nClass=A\nEvery=1min\n", 2, "Name=a b: entry names may use only A-Z a-z 0-9 _ . -");
        expect_only_error("[Job]\nName=-a\nClass=A\nEvery=1min\n", 2, "Name=-a: entry names");
        expect_only_error("[Job]\nName=a/b\nClass=A\nEvery=1min\n", 2, "Name=a/b: entry names");
        expect_only_error("[Job]\nName=a@b\nClass=A\nEvery=1min\n", 2, "Name=a@b: entry names");
        memset(longname, 'n', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        _cleanup_free_ char *t1 = strdupf("[Job]\nName=%s\nClass=A\nEvery=1min\n", longname);
        expect_only_error(t1, 2, "at most 242 bytes");
        longname[SCHEDULE_NAME_MAX] = 0; /* exactly the limit is fine */
        _cleanup_free_ char *t2 = strdupf("[Job]\nName=%s\nClass=A\nEvery=1min\n", longname);
        _cleanup_(schedule_freep) Schedule *s = parse(t2);
        assert_int_equal(s->n_errors, 0);

        expect_only_error(JOB "Class=-A\n", 5, "Class=-A: a class is 1-255 characters");
        expect_only_error(JOB "Class=A B\n", 5, "Class=A B: a class");
        expect_only_error(JOB "Queue=a/b\n", 5, "Queue=a/b: a queue is 1-128 characters");
        expect_only_error(JOB "Args=[1,\n", 5, "Args=[1,: not valid JSON (");
        expect_only_error(JOB "Args=[\"\x7f\"]\n", 5, "Args=[\"\x7f\"]: the arguments hold a control character");
        expect_only_error(JOB "Args={\"a\":1}\n", 5, "Args={\"a\":1}: Args= must be a JSON array");
        expect_only_error(JOB "Args=\"x\"\n", 5, "Args=\"x\": not valid JSON");
        expect_only_error(JOB "Args=[1] [2]\n", 5, "not valid JSON");
        expect_only_error(JOB "Args={\"a\":1,\"a\":2}\n", 5, "not valid JSON");
        expect_only_error(JOB "ActiveJob=maybe\n", 5, "ActiveJob=maybe: use yes or no");
        expect_only_error(JOB "Retry=maybe\n", 5, "Retry=maybe: use true, false or a number of retries from 0 to 1000");
        expect_only_error(JOB "Retry=1001\n", 5, "Retry=1001: use true, false");
        expect_only_error(JOB "Retry=-1\n", 5, "Retry=-1: use true");
        expect_only_error("[Job]\nName=a\nClass=A\nOnCalendar=*-*-* 02:00 \"x\"\n", 4,
                          "OnCalendar=*-*-* 02:00 \"x\": a calendar expression is at most 256 characters");
        expect_only_error("[Job]\nName=a\nClass=A\nOnCalendar=daily; rm -rf /\n", 4, "a calendar expression");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=soon\n", 4, "Every=soon: use a whole number of seconds from 1s to 366d");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=0\n", 4, "Every=0: use a whole number");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=500ms\n", 4, "Every=500ms: use a whole number");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=1.5s\n", 4, "Every=1.5s: use a whole number");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=400d\n", 4, "Every=400d: use a whole number");
        expect_only_error(JOB "Persistent=perhaps\n", 5, "Persistent=perhaps: use yes or no");
        expect_only_error(JOB "RandomizedDelaySec=x\n", 5, "RandomizedDelaySec=x: use a duration from 0 to 366d");
        expect_only_error(JOB "AccuracySec=-1s\n", 5, "AccuracySec=-1s: use a duration");
        expect_only_error(JOB "AccuracySec=400d\n", 5, "AccuracySec=400d: use a duration");
        expect_only_error(JOB "Description=tab\there\n", 5, "a description is at most 256 bytes of printable UTF-8");
        expect_only_error(JOB "Description=bad \xff utf8\n", 5, "printable UTF-8");
        expect_only_error(JOB "Description=overlong \xc0\xaf\n", 5, "printable UTF-8");
        expect_only_error(JOB "Description=a\\ \n", 5, "Description=a\\: a description may not end with an odd number of backslashes");
        _cleanup_(schedule_freep) Schedule *u = parse(JOB "Description=caf\xc3\xa9 \xe2\x80\x94 ok\n");
        assert_int_equal(u->n_errors, 0);
}

static void test_long_values(void **state) {
        /* messages show long values shortened */
        size_t n = SCHEDULE_ARGS_MAX + 100;
        _cleanup_free_ char *args = malloc(n + 16);
        assert_non_null(args);
        args[0] = '[';
        size_t k = 1;
        while (k < n)
                args[k++] = '1', args[k++] = ',';
        args[k - 1] = ']';
        args[k] = 0;
        _cleanup_free_ char *t = strdupf(JOB "Args=%s\n", args);
        _cleanup_(schedule_freep) Schedule *s = parse(t);
        expect_error(s, 5, "the arguments are");
        expect_error(s, 5, "...: ");
        assert_true(strlen(s->errors[0].message) < 400);

        /* a logical line over the limit, joined from continuations */
        _cleanup_free_ char *big = malloc(SCHEDULE_LINE_MAX + 100);
        assert_non_null(big);
        memset(big, 'x', SCHEDULE_LINE_MAX + 99);
        big[SCHEDULE_LINE_MAX + 99] = 0;
        big[SCHEDULE_LINE_MAX / 2] = '\\';
        big[SCHEDULE_LINE_MAX / 2 + 1] = '\n';
        _cleanup_free_ char *t2 = strdupf(JOB "Description=%s\nQueue=after\n", big);
        _cleanup_(schedule_freep) Schedule *s2 = parse(t2);
        expect_error(s2, 5, "the line is longer than 16384 bytes");
        assert_int_equal(s2->n_errors, 1);
        assert_string_equal(s2->entries[0].queue, "after"); /* parsing went on after it */
}

static void test_too_many_calendars(void **state) {
        _cleanup_free_ char *t = strdup("[Job]\nName=a\nClass=A\n");
        for (unsigned i = 0; i <= SCHEDULE_CALENDARS_MAX; i++) {
                char *n = strdupf("%sOnCalendar=*-*-* 01:%02u\n", t, i % 60);
                free(t);
                t = n;
        }
        _cleanup_(schedule_freep) Schedule *s = parse(t);
        expect_error(s, 4 + SCHEDULE_CALENDARS_MAX, "too many OnCalendar= lines, at most 64 per entry");
        assert_int_equal(s->n_errors, 1);
}

static void test_entry_errors(void **state) {
        expect_only_error("[Job]\nClass=A\nEvery=1min\n", 1, "[Job]: Name= is missing");
        expect_only_error("[Job]\nName=a\nEvery=1min\n", 1, "[Job] Name=a: Class= is missing");
        expect_only_error("[Job]\nName=a\nClass=A\n", 1, "[Job] Name=a: no OnCalendar= and no Every=");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=1min\nOnCalendar=daily\n", 1,
                          "[Job] Name=a: both OnCalendar= and Every= are set");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=7min\nPersistent=yes\n", 1,
                          "[Job] Name=a: Persistent=yes needs a calendar schedule, but Every=7min");
        /* a fleet entry needs occurrences every host agrees on; Scope=host does not */
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=7min\n", 1,
                          "[Job] Name=a: Every=7min does not divide a minute, an hour or a day");
        expect_only_error(JOB "Scope=everywhere\n", 5, "Scope=everywhere: use fleet");
        _cleanup_(schedule_freep) Schedule *h = parse("[Job]\nName=a\nClass=A\nEvery=7min\nScope=host\n");
        assert_int_equal(h->n_errors, 0);
        assert_true(h->entries[0].host_scope);
        _cleanup_(schedule_freep) Schedule *f = parse(JOB "Scope=fleet\n");
        assert_int_equal(f->n_errors, 0);
        assert_false(f->entries[0].host_scope);
        /* Persistent= with an Every= that maps onto the calendar is fine */
        _cleanup_(schedule_freep) Schedule *s = parse("[Job]\nName=a\nClass=A\nEvery=15min\nPersistent=yes\n");
        assert_int_equal(s->n_errors, 0);
        /* an empty OnCalendar= resets the list, so this has none */
        expect_only_error("[Job]\nName=a\nClass=A\nOnCalendar=daily\nOnCalendar=\n", 1, "no OnCalendar= and no Every=");
        /* a refused value does not also count as missing */
        expect_only_error("[Job]\nName=a b\nClass=A\nEvery=1min\n", 2, "Name=a b");
        expect_only_error("[Job]\nName=a\nClass=-A\nEvery=1min\n", 3, "Class=-A");
        expect_only_error("[Job]\nName=a\nClass=A\nEvery=x\n", 4, "Every=x");
}

static void test_duplicates(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse(JOB "[Job]\nName=b\nClass=B\nEvery=1h\n"
                                                          "[Job]\nName=a\nClass=C\nEvery=1d\n");
        expect_error(s, 9, "[Job] Name=a: the name is already used by the entry at " F ":1; names must be unique");
        assert_int_equal(s->n_errors, 1);
        assert_false(s->entries[0].broken);
        assert_false(s->entries[1].broken);
        assert_true(s->entries[2].broken);
        assert_int_equal(schedule_count_good(s), 2);

        /* across files parsed into one schedule: the later one loses */
        const char *other = "[Job]\nName=b\nClass=X\nEvery=1min\n";
        assert_int_equal(schedule_parse(s, "other.schedule", other, strlen(other)), 0);
        assert_true(s->entries[3].broken);
        assert_string_equal(s->entries[3].path, "other.schedule");
        bool found = false;
        for (size_t i = 0; i < s->n_errors; i++)
                found |= streq(s->errors[i].message, "other.schedule:1: [Job] Name=b: the name is already used by "
                                                     "the entry at " F ":5; names must be unique");
        assert_true(found);
}

static void test_broken_entry_isolated(void **state) {
        /* the bad entry is skipped, the others stay good: what the generator relies on */
        _cleanup_(schedule_freep) Schedule *s = parse(JOB "[Job]\nName=bad\nClass=B\nArgs=[\nEvery=1min\n"
                                                          "[Job]\nName=c\nClass=C\nEvery=1h\n");
        assert_int_equal(s->n_entries, 3);
        assert_false(s->entries[0].broken);
        assert_true(s->entries[1].broken);
        assert_false(s->entries[2].broken);
        expect_error(s, 8, "Args=[: not valid JSON");
}

static void test_too_many_entries(void **state) {
        size_t n = SCHEDULE_ENTRIES_MAX + 1, alloc = n * 48 + 1, off = 0;
        _cleanup_free_ char *t = malloc(alloc);
        assert_non_null(t);
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(t + off, alloc - off, "[Job]\nName=e%zu\nClass=A\nEvery=1min\n", i);
        _cleanup_(schedule_freep) Schedule *s = parse(t);
        assert_int_equal(s->n_entries, SCHEDULE_ENTRIES_MAX);
        expect_error(s, 4 * SCHEDULE_ENTRIES_MAX + 1, "too many entries; a schedule holds at most 10000");
        assert_int_equal(s->n_errors, 1);
        assert_int_equal(schedule_count_good(s), SCHEDULE_ENTRIES_MAX);
}

static void test_file_errors(void **state) {
        _cleanup_(schedule_freep) Schedule *s = schedule_new();
        const char nul[] = "[Job]\nName=a\0\n";

        assert_int_equal(schedule_parse(s, F, nul, sizeof nul - 1), 0);
        assert_int_equal(s->n_errors, 1);
        assert_string_equal(s->errors[0].message, F ": the file contains a NUL byte; a configuration file is text");

        assert_int_equal(schedule_load_file(s, "/nonexistent/x.schedule"), 0);
        assert_int_equal(s->n_errors, 2);
        assert_string_equal(s->errors[1].message, "/nonexistent/x.schedule: cannot read the file: No such file or directory");

        char path[] = "/tmp/test-schedule-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, SCHEDULE_FILE_MAX + 1), 0);
        close(fd);
        assert_int_equal(schedule_load_file(s, path), 0);
        assert_int_equal(s->n_errors, 3);
        assert_non_null(strstr(s->errors[2].message, "the file is larger than 8388608 bytes"));
        assert_int_equal(strncmp(s->errors[2].message, path, strlen(path)), 0);

        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, JOB, strlen(JOB)), (ssize_t) strlen(JOB));
        close(fd);
        assert_int_equal(schedule_load_file(s, path), 0);
        assert_int_equal(s->n_errors, 3);
        assert_int_equal(s->n_entries, 1);
        assert_string_equal(s->entries[0].path, path);
        unlink(path);
}

static void test_errors_sorted(void **state) {
        _cleanup_(schedule_freep) Schedule *s = parse("[Job]\nName=a\nEvery=1min\nRetry=x\n[Job]\nName=b\nClass=B\nEvery=y\n");
        assert_int_equal(s->n_errors, 3);
        /* the missing Class= of line 1 is found at the end of the section, but listed first */
        assert_non_null(strstr(s->errors[0].message, F ":1: [Job] Name=a: Class= is missing"));
        assert_non_null(strstr(s->errors[1].message, F ":4: Retry=x"));
        assert_non_null(strstr(s->errors[2].message, F ":8: Every=y"));
}

static void test_error_limit(void **state) {
        size_t n = SCHEDULE_ERRORS_MAX + 5, alloc = n * 16 + 64, off = 0;
        _cleanup_free_ char *t = malloc(alloc);
        assert_non_null(t);
        off += (size_t) snprintf(t, alloc, "%s", JOB);
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(t + off, alloc - off, "Bad=%zu\n", i);
        _cleanup_(schedule_freep) Schedule *s = parse(t);
        assert_int_equal(s->n_errors, SCHEDULE_ERRORS_MAX);
        assert_int_equal(s->n_errors_dropped, 5);
}

static void test_every_to_calendar(void **state) {
        static const struct {
                const char *every;
                const char *calendar;
        } table[] = {
                { "1s", "*-*-* *:*:*" },           { "5s", "*-*-* *:*:00/5" },
                { "30s", "*-*-* *:*:00/30" },      { "1min", "*-*-* *:*:00" },
                { "5min", "*-*-* *:00/5:00" },     { "15min", "*-*-* *:00/15:00" },
                { "30min", "*-*-* *:00/30:00" },   { "1h", "*-*-* *:00:00" },
                { "2h", "*-*-* 00/2:00:00" },      { "12h", "*-*-* 00/12:00:00" },
                { "1d", "*-*-* 00:00:00" },        { "1w", "Mon *-*-* 00:00:00" },
                { "7s", NULL },                    { "7min", NULL },
                { "90s", NULL },                   { "90min", NULL },
                { "5h", NULL },                    { "2d", NULL },
        };
        char buf[SCHEDULE_EVERY_CALENDAR_MAX];

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                usec_t u;
                assert_int_equal(parse_duration(table[i].every, &u), 0);
                const char *c = schedule_every_to_calendar(u, buf);
                if (table[i].calendar)
                        assert_string_equal(c, table[i].calendar);
                else
                        assert_null(c);
        }
}

static void test_names(void **state) {
        assert_true(schedule_name_is_valid("say-hello"));
        assert_true(schedule_name_is_valid("A.b_c-9"));
        assert_true(schedule_name_is_valid("9lives"));
        assert_false(schedule_name_is_valid(""));
        assert_false(schedule_name_is_valid(".hidden"));
        assert_false(schedule_name_is_valid("_x"));
        assert_false(schedule_name_is_valid("a:b"));
        assert_false(schedule_name_is_valid("a\\x2d"));
        assert_false(schedule_name_is_valid("caf\xc3\xa9"));
        assert_true(schedule_calendar_charset_ok("Mon..Fri *-*~07/1 09:00:00.5 America/Argentina/Buenos_Aires"));
        assert_true(schedule_calendar_charset_ok("@1700000000"));
        assert_false(schedule_calendar_charset_ok("daily\n"));
        assert_false(schedule_calendar_charset_ok("%H"));
        assert_false(schedule_calendar_charset_ok("$X"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_entry),        cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_args_numbers),
                cmocka_unit_test(test_syntax),            cmocka_unit_test(test_continuation),
                cmocka_unit_test(test_syntax_errors),     cmocka_unit_test(test_value_errors),
                cmocka_unit_test(test_long_values),       cmocka_unit_test(test_too_many_calendars),
                cmocka_unit_test(test_entry_errors),      cmocka_unit_test(test_duplicates),
                cmocka_unit_test(test_broken_entry_isolated), cmocka_unit_test(test_too_many_entries),
                cmocka_unit_test(test_file_errors),       cmocka_unit_test(test_errors_sorted),
                cmocka_unit_test(test_error_limit),       cmocka_unit_test(test_every_to_calendar),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
