/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/json-ruby.h"
#include "util/macro.h"
#include "util/util.h"

/* Expected texts are what Ruby 3.1's JSON.generate(Float) prints. */
static void test_format(void **state) {
        static const struct {
                double v;
                const char *ruby;
        } cases[] = {
                { 0.0, "0.0" },
                { -0.0, "-0.0" },
                { 1.0, "1.0" },
                { 1.5, "1.5" },
                { 3.0, "3.0" },
                { 100.0, "100.0" },
                { 0.1, "0.1" },
                { 1e-7, "1.0e-07" },
                { 1e-4, "0.0001" },
                { 0.001, "0.001" },
                { 1e-5, "1.0e-05" },
                { 2.5e-5, "2.5e-05" },
                { 0.00012345, "0.00012345" },
                { 123456789012345.0, "123456789012345.0" },
                { 1e15, "1.0e+15" },
                { 1e16, "1.0e+16" },
                { 1e17, "1.0e+17" },
                { 9007199254740993.0, "9.007199254740992e+15" },
                { 1234567890123456.7, "1234567890123456.8" },
                { 12345678901234567.0, "1.2345678901234568e+16" },
                { 1.7976931348623157e308, "1.7976931348623157e+308" },
                { -1.7976931348623157e308, "-1.7976931348623157e+308" },
                { 5e-324, "5.0e-324" },
                { -2.5e+300, "-2.5e+300" },
                { 1795778340.3090606, "1795778340.3090606" },
                { 1795778263.642053, "1795778263.642053" },
                { 1764240000.5, "1764240000.5" },
                { 1764240000.0, "1764240000.0" },
        };
        char buf[JSON_REAL_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int k = json_ruby_format_real(cases[i].v, buf);
                assert_string_equal(buf, cases[i].ruby);
                assert_int_equal(k, strlen(cases[i].ruby));
        }
        assert_int_equal(json_ruby_format_real(NAN, buf), -EDOM);
        assert_int_equal(json_ruby_format_real(INFINITY, buf), -EDOM);
}

/* Whatever the double, the text reads back as exactly that double and fits the buffer. */
static void test_round_trip(void **state) {
        char buf[JSON_REAL_MAX];

        for (unsigned i = 0; i < 20000; i++) {
                uint64_t bits;
                double v;

                assert_int_equal(random_bytes(&bits, sizeof bits), 0);
                memcpy(&v, &bits, sizeof v);
                if (!isfinite(v))
                        continue;
                int k = json_ruby_format_real(v, buf);
                assert_true(k > 0 && k < JSON_REAL_MAX);
                assert_true(strtod(buf, NULL) == v);
                assert_true(strchr(buf, '.') != NULL); /* always a Float to every reader */
        }
        /* epoch timestamps with microseconds, the values we write most */
        for (unsigned i = 0; i < 10000; i++) {
                double v = 1764240000.0 + (double) i * 12.345678;
                assert_true(json_ruby_format_real(v, buf) > 0);
                assert_true(strtod(buf, NULL) == v);
        }
}

static void test_rewrite(void **state) {
        const char *in = "{\"a\":0.10000000000000001,\"b\":[1,-2,3.0,9.9999999999999995e-08,1e+16,-0.0],"
                         "\"s\":\"0.10000000000000001 \\\"1.5e3\\\" \\\\\",\"i\":9007199254740993,\"t\":1764240000.5}";
        const char *want = "{\"a\":0.1,\"b\":[1,-2,3.0,1.0e-07,1.0e+16,-0.0],"
                           "\"s\":\"0.10000000000000001 \\\"1.5e3\\\" \\\\\",\"i\":9007199254740993,\"t\":1764240000.5}";
        char *s = strdup(in);
        size_t n = strlen(s);

        assert_non_null(s);
        assert_int_equal(json_ruby_rewrite(&s, &n), 0);
        assert_string_equal(s, want);
        assert_int_equal(n, strlen(want));
        free(s);

        /* control characters: jansson writes \u001F, Ruby \u001f */
        s = strdup("[\"a\\u001Fb\\u0001\\\\u00AB\",1.5]");
        n = strlen(s);
        assert_int_equal(json_ruby_rewrite(&s, &n), 0);
        assert_string_equal(s, "[\"a\\u001fb\\u0001\\\\u00AB\",1.5]");
        free(s);

        /* nothing to do: the same text */
        s = strdup("{\"a\":[1,2,\"3.5\"]}");
        n = strlen(s);
        assert_int_equal(json_ruby_rewrite(&s, &n), 0);
        assert_string_equal(s, "{\"a\":[1,2,\"3.5\"]}");
        free(s);

        /* an unterminated string is refused, the text left alone */
        s = strdup("[1.5,\"abc");
        n = strlen(s);
        assert_int_equal(json_ruby_rewrite(&s, &n), -EBADMSG);
        assert_string_equal(s, "[1.5,\"abc");
        free(s);
        s = strdup("[\"abc\\");
        n = strlen(s);
        assert_int_equal(json_ruby_rewrite(&s, &n), -EBADMSG);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_rewrite),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
