/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/unit-name.h"
#include "util/util.h"

static void test_parse_duration(void **state) {
        usec_t u;

        assert_int_equal(parse_duration("30s", &u), 0);
        assert_int_equal(u, 30 * USEC_PER_SEC);
        assert_int_equal(parse_duration("5min", &u), 0);
        assert_int_equal(u, 5 * USEC_PER_MINUTE);
        assert_int_equal(parse_duration("1h 30min", &u), 0);
        assert_int_equal(u, USEC_PER_HOUR + 30 * USEC_PER_MINUTE);
        assert_int_equal(parse_duration("1h30min", &u), 0);
        assert_int_equal(u, USEC_PER_HOUR + 30 * USEC_PER_MINUTE);
        assert_int_equal(parse_duration("2 days", &u), 0);
        assert_int_equal(u, 2 * USEC_PER_DAY);
        assert_int_equal(parse_duration("500ms", &u), 0);
        assert_int_equal(u, 500 * USEC_PER_MSEC);
        assert_int_equal(parse_duration("1.5s", &u), 0);
        assert_int_equal(u, 1500 * USEC_PER_MSEC);
        assert_int_equal(parse_duration("90", &u), 0);
        assert_int_equal(u, 90 * USEC_PER_SEC);
        assert_int_equal(parse_duration(" 1 minute ", &u), 0);
        assert_int_equal(u, USEC_PER_MINUTE);
        assert_int_equal(parse_duration("3m", &u), 0);
        assert_int_equal(u, 3 * USEC_PER_MINUTE);
        assert_int_equal(parse_duration("1w", &u), 0);
        assert_int_equal(u, 7 * USEC_PER_DAY);
        assert_int_equal(parse_duration("10us", &u), 0);
        assert_int_equal(u, 10);

        assert_int_equal(parse_duration("", &u), -EINVAL);
        assert_int_equal(parse_duration("min", &u), -EINVAL);
        assert_int_equal(parse_duration("5 parsecs", &u), -EINVAL);
        assert_int_equal(parse_duration("5mins", &u), -EINVAL);
        assert_int_equal(parse_duration("-5s", &u), -EINVAL);
        assert_int_equal(parse_duration("99999999999999999999s", &u), -ERANGE);
        assert_int_equal(parse_duration("999999999999y", &u), -ERANGE);
}

static void test_format_duration(void **state) {
        char buf[DURATION_MAX];

        assert_string_equal(format_duration(buf, sizeof buf, 0), "0");
        assert_string_equal(format_duration(buf, sizeof buf, 90 * USEC_PER_MINUTE), "1h 30min");
        assert_string_equal(format_duration(buf, sizeof buf, 1500 * USEC_PER_MSEC), "1s 500ms");
        assert_string_equal(format_duration(buf, sizeof buf, USEC_INFINITY), "infinity");

        /* what we print we can read back */
        usec_t u, v = 3 * USEC_PER_DAY + 4 * USEC_PER_HOUR + 5 * USEC_PER_SEC + 7;
        assert_int_equal(parse_duration(format_duration(buf, sizeof buf, v), &u), 0);
        assert_int_equal(u, v);
}

static void test_parse_numbers(void **state) {
        uint64_t v;
        unsigned u;

        assert_int_equal(parse_u64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_u64("", &v), -EINVAL);
        assert_int_equal(parse_u64("12a", &v), -EINVAL);
        assert_int_equal(parse_u64("-1", &v), -EINVAL);
        assert_int_equal(parse_u64(" 1", &v), -EINVAL);
        assert_int_equal(parse_unsigned("4294967295", &u), 0);
        assert_int_equal(parse_unsigned("4294967296", &u), -ERANGE);

        assert_int_equal(parse_boolean("yes"), 1);
        assert_int_equal(parse_boolean("TRUE"), 1);
        assert_int_equal(parse_boolean("off"), 0);
        assert_int_equal(parse_boolean("0"), 0);
        assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_strings(void **state) {
        char s[] = "  a b \t\n";
        uint8_t in[] = { 0x00, 0xab, 0xff };
        char hex[7];

        assert_string_equal(strstrip(s), "a b");
        hex_encode(in, sizeof in, hex);
        assert_string_equal(hex, "00abff");
        assert_true(string_is_charset("Foo::Bar_1", 64, ":_"));
        assert_false(string_is_charset("Foo/Bar", 64, ":_"));
        assert_false(string_is_charset("", 64, ":_"));
        assert_false(string_is_charset("abcdef", 5, NULL));
        assert_false(string_is_charset("caf\xc3\xa9", 64, NULL));
}

static void test_random(void **state) {
        uint8_t a[16] = {}, b[16] = {};

        assert_int_equal(random_bytes(a, sizeof a), 0);
        assert_int_equal(random_bytes(b, sizeof b), 0);
        assert_memory_not_equal(a, b, sizeof a);
}

static void test_read_full_file(void **state) {
        char path[] = "/tmp/test-util-XXXXXX";
        _cleanup_free_ char *buf = NULL;
        size_t n;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "hello\n", 6), 6);
        close(fd);
        assert_int_equal(read_full_file(path, 100, &buf, &n), 0);
        assert_int_equal(n, 6);
        assert_string_equal(buf, "hello\n");
        free(TAKE_PTR(buf));
        assert_int_equal(read_full_file(path, 5, &buf, &n), -EFBIG);
        assert_null(buf);
        unlink(path);
        assert_int_equal(read_full_file(path, 100, &buf, &n), -ENOENT);
}

static void test_base64(void **state) {
        static const struct { const char *in; size_t n; const char *out; } cases[] = {
                { "", 0, "" }, { "f", 1, "Zg==" }, { "fo", 2, "Zm8=" }, { "foo", 3, "Zm9v" },
                { "foobar", 6, "Zm9vYmFy" }, { "\xff\0A", 3, "/wBB" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = base64_encode(cases[i].in, cases[i].n);
                assert_string_equal(s, cases[i].out);
        }
}

static void test_unit_name_instance(void **state) {
        char buf[UNIT_NAME_MAX + 1];

        assert_true(unit_name_is_template("jobs-dead@.service"));
        assert_false(unit_name_is_template("jobs-dead.service"));
        assert_false(unit_name_is_template("@.service"));
        assert_false(unit_name_is_template("jobs-dead@x.service"));
        assert_int_equal(unit_name_instance("jobs-dead@.service", "0123456789abcdef01234567", buf, sizeof buf), 0);
        assert_string_equal(buf, "jobs-dead@0123456789abcdef01234567.service");
        /* as `systemd-escape --template=jobs-dead@.service '.a/b c-d_é:x'` prints it */
        assert_int_equal(unit_name_instance("jobs-dead@.service", ".a/b c-d_\xc3\xa9:x", buf, sizeof buf), 0);
        assert_string_equal(buf, "jobs-dead@\\x2ea-b\\x20c\\x2dd_\\xc3\\xa9:x.service");
        assert_int_equal(unit_name_instance("jobs-dead.service", "x", buf, sizeof buf), -EINVAL);
        assert_int_equal(unit_name_instance("jobs-dead@.service", "0123456789", buf, 20), -ENAMETOOLONG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_parse_numbers),  cmocka_unit_test(test_strings),
                cmocka_unit_test(test_unit_name_instance),
                cmocka_unit_test(test_random),         cmocka_unit_test(test_read_full_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
