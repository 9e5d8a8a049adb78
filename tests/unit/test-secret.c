/* SPDX-License-Identifier: MIT */
/* No Redis password is ever shown: URL userinfo and password= parameters are masked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/secret.h"
#include "util/util.h"

static void expect(const char *in, const char *want) {
        char buf[256];

        assert_int_equal(secret_present(in), !streq(in, want));
        assert_true(secret_mask(in, buf, sizeof buf));
        assert_string_equal(buf, want);
}

static void test_mask(void **state) {
        expect("redis://:Hunter2PW@db.example:6379/2", "redis://:***@db.example:6379/2");
        expect("Redis redis://:Hunter2PW@host: missing '='", "Redis redis://:***@host: missing '='");
        expect("redis://app:s3cr:et@h", "redis://app:***@h");
        expect("redis://onlyuser@h", "redis://***@h"); /* a password written without its ':' */
        expect("rediss://u:p%40ss@h/0 and redis://:two@h2", "rediss://u:***@h/0 and redis://:***@h2");
        expect("unix:///run/redis.sock?db=1&password=Hunter2PW", "unix:///run/redis.sock?db=1&password=***");
        expect("unix:///s?password=x#frag", "unix:///s?password=***#frag");
        expect("redis+sentinel://h1/m?sentinel_username=u&sentinel_password=s",
               "redis+sentinel://h1/m?sentinel_username=u&sentinel_password=***");
        expect("redis+sentinel://h1/m?sentinel_password=s&x", "redis+sentinel://h1/m?sentinel_password=***&x");
        /* nothing to hide */
        expect("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0");
        expect("unix:///run/redis.sock", "unix:///run/redis.sock");
        expect("mail me@host, see http://x/a@b", "mail me@host, see http://x/a@b");
        expect("password=plain text", "password=plain text");
        expect("sentinel_password=plain", "sentinel_password=plain");
        expect("?xsentinel_password=s", "?xsentinel_password=s");
        expect("redis://:@h", "redis://:@h");
        expect("", "");
}

static void test_truncated(void **state) {
        char buf[16];

        assert_false(secret_mask("redis://:Hunter2PW@some.long.host.name", buf, sizeof buf));
        assert_string_equal(buf, "redis://:***@so");
        assert_false(secret_mask("redis://:Hunter2PW@h", buf, 12)); /* the mask never half-written */
        assert_string_equal(buf, "redis://:");
        assert_false(secret_mask("ab\xc3\xa9", buf, 4)); /* é not cut in half */
        assert_string_equal(buf, "ab");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mask),
                cmocka_unit_test(test_truncated),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
