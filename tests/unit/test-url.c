/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "redis/sentinel.h"
#include "redis/url.h"
#include "util/util.h"

static void test_tcp(void **state) {
        RedisURL u = {};
        const char *reason;
        char buf[128];

        assert_int_equal(redis_url_parse("redis://127.0.0.1:6379/0", &u, &reason), 0);
        assert_string_equal(u.host, "127.0.0.1");
        assert_int_equal(u.port, 6379);
        assert_int_equal(u.db, 0);
        assert_null(u.password);
        assert_null(u.path);
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis://:p%40ss%3Aw@redis.example:6380/5", &u, &reason), 0);
        assert_string_equal(u.host, "redis.example");
        assert_int_equal(u.port, 6380);
        assert_int_equal(u.db, 5);
        assert_string_equal(u.password, "p@ss:w");
        assert_null(u.username);
        assert_string_equal(redis_url_describe(&u, buf, sizeof buf), "redis.example:6380");
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis://app:secret@h", &u, &reason), 0);
        assert_string_equal(u.username, "app");
        assert_string_equal(u.password, "secret");
        assert_int_equal(u.port, 6379);
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis://[::1]:7000/2", &u, &reason), 0);
        assert_string_equal(u.host, "::1");
        assert_int_equal(u.port, 7000);
        assert_int_equal(u.db, 2);
        assert_string_equal(redis_url_describe(&u, buf, sizeof buf), "[::1]:7000");
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis://", &u, &reason), 0);
        assert_string_equal(u.host, "127.0.0.1");
        redis_url_done(&u);
}

static void test_unix(void **state) {
        RedisURL u = {};
        const char *reason;

        assert_int_equal(redis_url_parse("unix:///run/redis/redis.sock?db=3&password=a%26b", &u, &reason), 0);
        assert_string_equal(u.path, "/run/redis/redis.sock");
        assert_null(u.host);
        assert_int_equal(u.db, 3);
        assert_string_equal(u.password, "a&b");
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("unix:///tmp/r.sock?user=jobs&password=pw", &u, &reason), 0);
        assert_string_equal(u.username, "jobs");
        assert_string_equal(u.password, "pw");
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("unix:///tmp/r.sock", &u, &reason), 0);
        assert_string_equal(u.path, "/tmp/r.sock");
        assert_int_equal(u.db, 0);
        redis_url_done(&u);
}

static void test_tls(void **state) {
        RedisURL u = {}, copy = {};
        const char *reason = NULL;

        assert_int_equal(redis_url_parse("rediss://app:secret@redis.example:6380/2", &u, &reason), 0);
        assert_true(u.tls);
        assert_false(u.tls_no_verify);
        assert_string_equal(u.host, "redis.example");
        assert_int_equal(u.port, 6380);
        assert_string_equal(u.username, "app");
        assert_string_equal(u.password, "secret");
        assert_int_equal(u.db, 2);
        assert_int_equal(redis_url_copy(&u, &copy), 0);
        assert_true(copy.tls);
        assert_string_equal(copy.password, "secret");
        redis_url_done(&copy);
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("rediss://h/3?verify=none", &u, &reason), 0);
        assert_true(u.tls && u.tls_no_verify);
        assert_int_equal(u.db, 3);
        redis_url_done(&u);
        assert_int_equal(redis_url_parse("rediss://h:7000/?verify=none", &u, &reason), 0);
        assert_true(u.tls && u.tls_no_verify);
        assert_int_equal(u.db, 0);
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis://h/0", &u, &reason), 0);
        assert_false(u.tls);
        redis_url_done(&u);
}

static void test_errors(void **state) {
        static const struct {
                const char *url, *reason;
        } cases[] = {
                { "http://h", "redis://" },
                { "https://h", "rediss://" },
                { "rediss://h/0?verify=full", "verify=none" },
                { "redis://h:0", "port" },
                { "redis://h:65536", "port" },
                { "redis://h:abc", "port" },
                { "redis://h:/", "port" },
                { "redis://h/x", "database" },
                { "redis://h/1?ssl=1", "query" },
                { "redis://h/100001", "database" },
                { "redis://user@h", "credentials" },
                { "redis://:%zz@h", "escape" },
                { "redis://:%4@h", "escape" },
                { "redis://:%00@h", "escape" },
                { "redis://[::1", "]" },
                { "redis://h st", "host" },
                { "unix://relative.sock", "absolute" },
                { "unix:///s.sock?db=x", "db=" },
                { "unix:///s.sock?timeout=1", "unknown" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                RedisURL u = {};
                const char *reason = NULL;

                assert_int_equal(redis_url_parse(cases[i].url, &u, &reason), -EINVAL);
                assert_non_null(reason);
                if (!strstr(reason, cases[i].reason))
                        fail_msg("'%s': reason '%s' does not mention '%s'", cases[i].url, reason, cases[i].reason);
                assert_null(u.host);
                assert_null(u.password);
        }
}

static void test_pick(void **state) {
        unsetenv("REDIS_URL");
        assert_string_equal(redis_url_pick(NULL), REDIS_URL_DEFAULT);
        setenv("REDIS_URL", "redis://env:1/0", 1);
        assert_string_equal(redis_url_pick(NULL), "redis://env:1/0");
        assert_string_equal(redis_url_pick("redis://flag:2/0"), "redis://flag:2/0");
        setenv("REDIS_URL", "", 1);
        assert_string_equal(redis_url_pick(NULL), REDIS_URL_DEFAULT);
        unsetenv("REDIS_URL");
}

static void check_mask(const char *url, const char *expected) {
        _cleanup_free_ char *m = redis_url_mask(url);
        assert_non_null(m);
        assert_string_equal(m, expected);
}

static void test_mask(void **state) {
        (void) state;
        check_mask("redis://:s3cret@db:6379/2", "redis://:***@db:6379/2");
        check_mask("redis://app:p@ss@db/0", "redis://app:***@db/0");
        check_mask("rediss://app:p%40ss@db:6380/0?verify=none", "rediss://app:***@db:6380/0?verify=none");
        check_mask("redis://db:6379/0", "redis://db:6379/0");
        check_mask("redis://:@db", "redis://:@db");
        check_mask("unix:///run/r.sock?db=1&password=x%40y&z", "unix:///run/r.sock?db=1&password=***&z");
        check_mask("unix:///run/r.sock?password=x", "unix:///run/r.sock?password=***");
        check_mask("unix:///run/r.sock", "unix:///run/r.sock");
        check_mask("redis+sentinel://:pw@h1,h2:26380/m/1?sentinel_password=spw",
                   "redis+sentinel://:***@h1,h2:26380/m/1?sentinel_password=***");
        check_mask("redis+sentinel://h1/m?sentinel_username=u&sentinel_password=s",
                   "redis+sentinel://h1/m?sentinel_username=u&sentinel_password=***");
}

static void test_sentinel(void **state) {
        static const char *const bad[] = {
                "redis+sentinel://h1,h2",            /* no master name */
                "redis+sentinel://h1/",              /* empty master name */
                "redis+sentinel://h1,,h2/m",         /* empty address */
                "redis+sentinel://h1:0/m",           /* port */
                "redis+sentinel://h1/m x",           /* master name characters */
                "redis+sentinel://h1/m/x",           /* database */
                "redis+sentinel://h1/m?password=x",  /* unknown parameter */
                "redis+sentinel://h1/m?sentinel_password=",
                "redis+sentinel://1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17/m",
                "redis+sentinel://h1/m?verify=none", /* verify= without TLS */
                "rediss+sentinel://h1/m?verify=all",
        };
        RedisURL u = {}, c = {};
        const char *reason;
        char buf[128];

        (void) state;
        assert_int_equal(redis_url_parse("redis+sentinel://app:p%40ss@10.0.0.1,10.0.0.2:26380,[::1]:5000/my-master.1/3"
                                         "?sentinel_password=s%26p&sentinel_username=sen", &u, &reason), 0);
        assert_non_null(u.sentinels);
        assert_null(u.host);
        assert_string_equal(u.username, "app");
        assert_string_equal(u.password, "p@ss");
        assert_int_equal(u.db, 3);
        assert_string_equal(u.sentinels->master, "my-master.1");
        assert_int_equal(u.sentinels->n, 3);
        assert_string_equal(u.sentinels->hosts[0], "10.0.0.1");
        assert_int_equal(u.sentinels->ports[0], 26379);
        assert_string_equal(u.sentinels->hosts[1], "10.0.0.2");
        assert_int_equal(u.sentinels->ports[1], 26380);
        assert_string_equal(u.sentinels->hosts[2], "::1");
        assert_int_equal(u.sentinels->ports[2], 5000);
        assert_string_equal(u.sentinels->password, "s&p");
        assert_string_equal(u.sentinels->username, "sen");
        assert_string_equal(redis_url_describe(&u, buf, sizeof buf),
                            "master \"my-master.1\" of the sentinels at 10.0.0.1:26379,...");
        assert_int_equal(redis_url_copy(&u, &c), 0);
        assert_string_equal(c.sentinels->hosts[2], "::1");
        assert_string_equal(c.sentinels->password, "s&p");
        redis_url_done(&c);
        redis_url_done(&u);

        assert_int_equal(redis_url_parse("redis+sentinel://sentinel/mymaster", &u, &reason), 0);
        assert_null(u.password);
        assert_null(u.sentinels->password);
        assert_int_equal(u.db, 0);
        assert_int_equal(u.sentinels->n, 1);
        assert_false(u.tls);
        redis_url_done(&u);

        /* TLS to the sentinels and the master; verify=none beside the sentinels' parameters */
        assert_int_equal(redis_url_parse("rediss+sentinel://:pw@s1,s2:26380/m/2?sentinel_password=sp&verify=none", &u,
                                         &reason), 0);
        assert_true(u.tls);
        assert_true(u.tls_no_verify);
        assert_int_equal(u.db, 2);
        assert_string_equal(u.sentinels->password, "sp");
        assert_int_equal(u.sentinels->n, 2);
        redis_url_done(&u);
        assert_int_equal(redis_url_parse("rediss+sentinel://s1/m", &u, &reason), 0);
        assert_true(u.tls);
        assert_false(u.tls_no_verify);
        redis_url_done(&u);
        check_mask("rediss+sentinel://:pw@h1/m?verify=none&sentinel_password=spw",
                   "rediss+sentinel://:***@h1/m?verify=none&sentinel_password=***");

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                reason = NULL;
                if (redis_url_parse(bad[i], &u, &reason) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
                assert_non_null(reason);
        }
}

static void test_credential(void **state) {
        char dir[] = "/tmp/test-url-XXXXXX";
        _cleanup_free_ char *path = NULL;
        RedisURL u = {};
        const char *reason;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        path = strdupf("%s/redis-password", dir);
        setenv("CREDENTIALS_DIRECTORY", dir, 1);

        assert_int_equal(redis_url_parse("redis://h", &u, &reason), 0);
        assert_int_equal(redis_url_load_credential(&u), 0); /* no file: nothing to do */
        assert_null(u.password);

        f = fopen(path, "w");
        assert_non_null(f);
        fputs("from-credential\n", f);
        fclose(f);
        assert_int_equal(redis_url_load_credential(&u), 1);
        assert_string_equal(u.password, "from-credential");
        redis_url_done(&u);

        /* a password in the URL wins */
        assert_int_equal(redis_url_parse("redis://:inline@h", &u, &reason), 0);
        assert_int_equal(redis_url_load_credential(&u), 0);
        assert_string_equal(u.password, "inline");
        redis_url_done(&u);

        unlink(path);
        rmdir(dir);
        unsetenv("CREDENTIALS_DIRECTORY");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tcp),   cmocka_unit_test(test_unix),
                cmocka_unit_test(test_tls), cmocka_unit_test(test_errors), cmocka_unit_test(test_pick),
                cmocka_unit_test(test_credential), cmocka_unit_test(test_mask),
                cmocka_unit_test(test_sentinel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
