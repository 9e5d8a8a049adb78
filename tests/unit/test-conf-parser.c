/* SPDX-License-Identifier: MIT */
/* systemd's Key=Value syntax: what the caller is told, in order, with line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "util/conf-parser.h"
#include "util/util.h"

typedef struct Log {
        char text[8192];
        size_t len;
        int ignore_section; /* return CONF_SECTION_IGNORE for a section of this name's first letter */
        int stop_at_line;   /* return -ECANCELED from the callback of this line */
} Log;

static int add(Log *l, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int add(Log *l, unsigned line, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        l->len += (size_t) vsnprintf(l->text + l->len, sizeof l->text - l->len, fmt, ap);
        va_end(ap);
        l->len += (size_t) snprintf(l->text + l->len, sizeof l->text - l->len, "\n");
        return (int) line == l->stop_at_line ? -ECANCELED : 0;
}

static int on_section(void *userdata, const char *section, unsigned line) {
        Log *l = userdata;
        int r = add(l, line, "%u [%s]", line, section);
        return r < 0 ? r : section[0] == l->ignore_section ? CONF_SECTION_IGNORE : 0;
}

static int on_assignment(void *userdata, const char *key, const char *value, unsigned line) {
        return add(userdata, line, "%u %s=<%s>", line, key, value);
}

static int on_error(void *userdata, ConfError error, unsigned line, const char *message) {
        return add(userdata, line, "%u error %d: %s", line, (int) error, message);
}

static int parse_n(Log *l, const char *text, size_t len, size_t line_max) {
        const ConfParser p = {
                .first_section = "[Main]",
                .line_max = line_max,
                .section = on_section,
                .assignment = on_assignment,
                .error = on_error,
                .userdata = l,
        };
        return conf_parse(&p, text, len);
}

static void expect(const char *text, const char *want) {
        Log l = { .stop_at_line = -1 };

        assert_int_equal(parse_n(&l, text, strlen(text), 64), 0);
        assert_string_equal(l.text, want);
}

static void test_basic(void **state) {
        expect("# comment\n; comment\n\n[Main]\n  Key = value with  spaces  \nEmpty=\nA=b=c\n",
               "4 [Main]\n5 Key=<value with  spaces>\n6 Empty=<>\n7 A=<b=c>\n");
        /* no newline at the end, CRLF, a BOM before the first header */
        expect("\xef\xbb\xbf[Main]\r\nK=v\r\nL=w", "1 [Main]\n2 K=<v>\n3 L=<w>\n");
        /* a BOM is only one at the start */
        expect("[Main]\n\xef\xbb\xbfK=v\n", "1 [Main]\n2 \xef\xbb\xbfK=<v>\n");
        expect("", "");
}

static void test_continuations(void **state) {
        /* the last backslash becomes a space; the logical line has the number of its first line */
        expect("[Main]\nQueue=a \\\n  b\nNext=1\n", "1 [Main]\n2 Queue=<a    b>\n4 Next=<1>\n");
        /* comment lines inside a continuation are dropped; an empty line ends it */
        expect("[Main]\nK=a\\\n# c\n; d\nb\\\n\nc\n",
               "1 [Main]\n2 K=<a b>\n7 error 4: c: missing '='; lines are Key=Value\n");
        /* an even run of backslashes is no continuation */
        expect("[Main]\nK=a\\\\\nL=b\n", "1 [Main]\n2 K=<a\\\\>\n3 L=<b>\n");
        /* a continuation at the end of the text */
        expect("[Main]\nK=a\\", "1 [Main]\n2 K=<a>\n");
}

static void test_extensions(void **state) {
        /* X- sections are skipped whole, X- keys anywhere, without a call */
        expect("[Main]\nX-Owner=me\nK=v\n[X-Notes]\nanything at all\n=x\n[Main]\nL=w\n",
               "1 [Main]\n3 K=<v>\n7 [Main]\n8 L=<w>\n");
}

static void test_errors(void **state) {
        expect("K=v\n[Main]\nNoEquals\n=v\n[Main\nIgnored=1\n[Other]\nL=w\n",
               "1 error 3: K=v: assignment outside of a [Main] section; start with a [Main] line\n"
               "2 [Main]\n"
               "3 error 4: NoEquals: missing '='; lines are Key=Value\n"
               "4 error 5: =v: empty key; lines are Key=Value\n"
               "5 error 2: [Main: invalid section header; write [Main]\n"
               "7 [Other]\n"
               "8 L=<w>\n");
}

static void test_sections_ignored_by_caller(void **state) {
        Log l = { .ignore_section = 'S', .stop_at_line = -1 };
        const char *text = "[Skip]\nK=v\nbad line\n[Main]\nL=w\n";

        assert_int_equal(parse_n(&l, text, strlen(text), 64), 0);
        assert_string_equal(l.text, "1 [Skip]\n4 [Main]\n5 L=<w>\n");
}

static void test_long_lines(void **state) {
        char text[512];
        Log l = { .stop_at_line = -1 };

        /* exactly line_max bytes pass; one more is an error at the line where it starts, then the
         * rest of that logical line (continuations included) is skipped */
        snprintf(text, sizeof text, "[Main]\nK=%s\nL=%s\\\n%s\nM=ok\n", "0123456789abcd", "01234567", "abcdef");
        assert_int_equal(parse_n(&l, text, strlen(text), 16), 0);
        assert_string_equal(l.text, "1 [Main]\n2 K=<0123456789abcd>\n"
                                    "3 error 1: the line is longer than 16 bytes (continuations joined); split "
                                    "the value or shorten it\n"
                                    "5 M=<ok>\n");
}

static void test_nul(void **state) {
        static const char text[] = "[Main]\nK=a\0b\n";
        Log l = { .stop_at_line = -1 };

        assert_int_equal(parse_n(&l, text, sizeof text - 1, 64), 0);
        assert_string_equal(l.text, "0 error 0: the file contains a NUL byte; a configuration file is text\n");
}

static void test_stop(void **state) {
        static const char text[] = "[Main]\nK=v\nL=w\nbad\n";
        Log l = { .stop_at_line = 3 };

        assert_int_equal(parse_n(&l, text, sizeof text - 1, 64), -ECANCELED);
        assert_string_equal(l.text, "1 [Main]\n2 K=<v>\n3 L=<w>\n");

        Log e = { .stop_at_line = 4 };
        assert_int_equal(parse_n(&e, text, sizeof text - 1, 64), -ECANCELED);
        assert_string_equal(e.text, "1 [Main]\n2 K=<v>\n3 L=<w>\n4 error 4: bad: missing '='; lines are Key=Value\n");
}

static void test_shown_and_set_string(void **state) {
        char buf[CONF_VALUE_SHOWN_MAX + 4], v[200];
        _cleanup_free_ char *s = NULL;

        assert_string_equal(conf_value_shown("short", buf), "short");
        memset(v, 'a', sizeof v);
        memcpy(v + CONF_VALUE_SHOWN_MAX - 1, "\xc3\xa9", 2); /* é across the cut */
        v[sizeof v - 1] = 0;
        assert_int_equal(strlen(conf_value_shown(v, buf)), CONF_VALUE_SHOWN_MAX - 1 + 3);

        assert_int_equal(conf_set_string(&s, "x"), 0);
        assert_string_equal(s, "x");
        assert_int_equal(conf_set_string(&s, ""), 0); /* empty: back to the default */
        assert_null(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic),
                cmocka_unit_test(test_continuations),
                cmocka_unit_test(test_extensions),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_sections_ignored_by_caller),
                cmocka_unit_test(test_long_lines),
                cmocka_unit_test(test_nul),
                cmocka_unit_test(test_stop),
                cmocka_unit_test(test_shown_and_set_string),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
