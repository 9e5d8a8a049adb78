/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/job.h"

static void test_names(void **state) {
        assert_true(job_class_is_valid("SayHello"));
        assert_true(job_class_is_valid("Reports::Nightly"));
        assert_true(job_class_is_valid("say-hello.v2_x"));
        assert_false(job_class_is_valid(""));
        assert_false(job_class_is_valid(NULL));
        assert_false(job_class_is_valid("../etc/passwd"));
        assert_false(job_class_is_valid("a/b"));
        assert_false(job_class_is_valid(".hidden"));
        assert_false(job_class_is_valid("-rf"));
        assert_false(job_class_is_valid("a b"));
        char long_class[JOB_CLASS_MAX + 2];
        memset(long_class, 'A', sizeof long_class - 1);
        long_class[sizeof long_class - 1] = 0;
        assert_false(job_class_is_valid(long_class));
        long_class[JOB_CLASS_MAX] = 0;
        assert_true(job_class_is_valid(long_class));

        assert_true(job_queue_is_valid("default"));
        assert_true(job_queue_is_valid("low-priority.mail:x"));
        assert_false(job_queue_is_valid(""));
        assert_false(job_queue_is_valid("a b"));
        assert_false(job_queue_is_valid("a/b"));
        assert_false(job_queue_is_valid("q\n"));
}

static void test_retry_from_string(void **state) {
        JobRetry r;

        assert_int_equal(job_retry_from_string("true", &r), 0);
        assert_int_equal(r.kind, JOB_RETRY_TRUE);
        assert_int_equal(r.count, 25);
        assert_int_equal(job_retry_from_string("false", &r), 0);
        assert_int_equal(r.kind, JOB_RETRY_FALSE);
        assert_int_equal(job_retry_from_string("5", &r), 0);
        assert_int_equal(r.kind, JOB_RETRY_COUNT);
        assert_int_equal(r.count, 5);
        assert_int_equal(job_retry_from_string("0", &r), 0);
        assert_int_equal(r.count, 0);
        assert_int_equal(job_retry_from_string("1001", &r), -ERANGE);
        assert_int_equal(job_retry_from_string("-1", &r), -EINVAL);
        assert_int_equal(job_retry_from_string("yes", &r), -EINVAL);
        assert_int_equal(job_retry_from_string("", &r), -EINVAL);
}

static void test_jid(void **state) {
        char a[JOB_JID_LEN + 1], b[JOB_JID_LEN + 1];

        assert_int_equal(job_new_jid(a), 0);
        assert_int_equal(job_new_jid(b), 0);
        assert_int_equal(strlen(a), 24);
        assert_int_equal(strspn(a, "0123456789abcdef"), 24);
        assert_string_not_equal(a, b);
}

static void test_new_and_serialize(void **state) {
        _cleanup_(json_decrefp) json_t *job = NULL, *args = json_pack("[i, s]", 1, "two");
        _cleanup_free_ char *s = NULL;
        JobRetry retry = { JOB_RETRY_COUNT, 3 };
        const char *reason = NULL;
        char expect[512];
        size_t n;

        assert_int_equal(job_new("SayHello", "critical", args, &retry, 1764240000.5, &job, &reason), 0);
        assert_int_equal(job_serialize(job, 4096, &s, &n), 0);
        snprintf(expect, sizeof expect,
                 "{\"class\":\"SayHello\",\"args\":[1,\"two\"],\"retry\":3,\"queue\":\"critical\","
                 "\"jid\":\"%s\",\"created_at\":1764240000.5,\"enqueued_at\":1764240000.5}",
                 job_get_jid(job));
        assert_string_equal(s, expect);
        assert_int_equal(n, strlen(expect));
        /* args is shared, not stolen */
        assert_int_equal(args->refcount, 2);

        /* whole seconds still have a decimal point: Sidekiq 8 reads integers as milliseconds */
        json_decref(TAKE_PTR(job));
        free(TAKE_PTR(s));
        assert_int_equal(job_new("X", NULL, NULL, NULL, 1764240000.0, &job, &reason), 0);
        assert_int_equal(job_serialize(job, 4096, &s, NULL), 0);
        assert_non_null(strstr(s, "\"created_at\":1764240000.0,"));
        assert_non_null(strstr(s, "\"args\":[]"));
        assert_non_null(strstr(s, "\"retry\":true"));
        assert_non_null(strstr(s, "\"queue\":\"default\""));

        /* the size limit applies to the serialized payload */
        free(TAKE_PTR(s));
        assert_int_equal(job_serialize(job, 50, &s, NULL), -EMSGSIZE);
        assert_null(s);
}

static void test_new_errors(void **state) {
        _cleanup_(json_decrefp) json_t *obj = json_object();
        json_t *job = NULL;
        const char *reason = NULL;

        assert_int_equal(job_new("a/b", NULL, NULL, NULL, 0, &job, &reason), -EINVAL);
        assert_non_null(strstr(reason, "class"));
        assert_int_equal(job_new("A", "bad queue", NULL, NULL, 0, &job, &reason), -EINVAL);
        assert_non_null(strstr(reason, "queue"));
        assert_int_equal(job_new("A", NULL, obj, NULL, 0, &job, &reason), -EINVAL);
        assert_non_null(strstr(reason, "array"));
        assert_null(job);
}

static void test_round_trip_keeps_unknown_fields(void **state) {
        const char *in = "{\"class\":\"Mailer\",\"args\":[{\"to\":\"a@b\"}],\"retry\":true,\"queue\":\"mail\","
                         "\"jid\":\"0123456789abcdef01234567\",\"created_at\":1764240000.123456,"
                         "\"enqueued_at\":1764240001.25,\"tags\":[\"x\"],\"bid\":\"batch-1\","
                         "\"wrapped\":\"MyActiveJob\",\"retry_count\":2,\"error_class\":\"RuntimeError\"}";
        _cleanup_(json_decrefp) json_t *job = NULL;
        _cleanup_free_ char *out = NULL;
        const char *reason = NULL;

        assert_int_equal(job_parse(in, strlen(in), 4096, &job, &reason), 0);
        assert_string_equal(job_get_class(job), "Mailer");
        assert_string_equal(job_get_queue(job), "mail");
        assert_string_equal(job_get_jid(job), "0123456789abcdef01234567");
        assert_int_equal(job_get_retry_count(job), 2);
        assert_int_equal(job_get_retry(job).kind, JOB_RETRY_TRUE);
        assert_int_equal(job_serialize(job, 4096, &out, NULL), 0);
        assert_string_equal(out, in);
}

static void test_set_time(void **state) {
        _cleanup_(json_decrefp) json_t *job = json_object();
        _cleanup_free_ char *s = NULL;

        assert_int_equal(job_set_time(job, "failed_at", 1764240000.0), 0);
        assert_int_equal(job_set_time(job, "x", -1), -EINVAL);
        s = json_dumps(job, JSON_COMPACT);
        assert_string_equal(s, "{\"failed_at\":1764240000.0}");
}

static void test_parse_errors(void **state) {
        static const struct {
                const char *json;
                int error;
                const char *reason;
        } cases[] = {
                { "not json", -EBADMSG, "not valid JSON" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"class\":\"B\"}", -EBADMSG, "not valid JSON" },
                { "[1,2]", -EBADMSG, "not a JSON object" },
                { "{\"args\":[],\"jid\":\"j\"}", -EBADMSG, "\"class\"" },
                { "{\"class\":5,\"args\":[],\"jid\":\"j\"}", -EBADMSG, "\"class\"" },
                { "{\"class\":\"../x\",\"args\":[],\"jid\":\"j\"}", -EBADMSG, "\"class\"" },
                { "{\"class\":\"A\",\"jid\":\"j\"}", -EBADMSG, "\"args\"" },
                { "{\"class\":\"A\",\"args\":{},\"jid\":\"j\"}", -EBADMSG, "\"args\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":\"a b\"}", -EBADMSG, "\"queue\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":1}", -EBADMSG, "\"queue\"" },
                { "{\"class\":\"A\",\"args\":[]}", -EBADMSG, "\"jid\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"\"}", -EBADMSG, "\"jid\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"retry\":\"yes\"}", -EBADMSG, "\"retry\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"retry\":-1}", -EBADMSG, "\"retry\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"retry_count\":\"1\"}", -EBADMSG, "\"retry_count\"" },
                { "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"enqueued_at\":\"now\"}", -EBADMSG, "timestamp" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *job = NULL;
                const char *reason = NULL;

                assert_int_equal(job_parse(cases[i].json, strlen(cases[i].json), 4096, &job, &reason),
                                 cases[i].error);
                assert_null(job);
                assert_non_null(reason);
                if (!strstr(reason, cases[i].reason))
                        fail_msg("case %zu: reason '%s' does not mention '%s'", i, reason, cases[i].reason);
        }

        /* the size limit is checked before parsing */
        json_t *job = NULL;
        const char *reason = NULL, *ok = "{\"class\":\"A\",\"args\":[],\"jid\":\"j\"}";
        assert_int_equal(job_parse(ok, strlen(ok), 10, &job, &reason), -EMSGSIZE);
        assert_int_equal(job_parse(ok, strlen(ok), strlen(ok), &job, &reason), 0);
        assert_string_equal(job_get_queue(job), "default"); /* missing queue reads as default */
        json_decref(job);
}

static void test_jid_any_text(void **state) {
        char long_jid[JOB_JID_MAX + 2];

        assert_true(job_jid_is_valid("order:42"));
        assert_true(job_jid_is_valid("a b/c*?"));
        assert_true(job_jid_is_valid("0123456789abcdef01234567"));
        assert_false(job_jid_is_valid(""));
        assert_false(job_jid_is_valid(NULL));
        assert_false(job_jid_is_valid("a\nb"));
        memset(long_jid, 'j', sizeof long_jid - 1);
        long_jid[sizeof long_jid - 1] = 0;
        assert_false(job_jid_is_valid(long_jid));
        long_jid[JOB_JID_MAX] = 0;
        assert_true(job_jid_is_valid(long_jid));

        json_t *job = NULL;
        const char *reason = NULL, *in = "{\"class\":\"A\",\"args\":[],\"jid\":\"order:42\"}";
        assert_int_equal(job_parse(in, strlen(in), 4096, &job, &reason), 0);
        assert_string_equal(job_get_jid(job), "order:42");
        json_decref(job);
}

/* "\u0000" is valid JSON (Ruby writes it): kept in args, written back as Ruby writes it; a NUL in a
 * name field is refused; raw bytes after the object make it invalid, whatever strlen() would see. */
static void test_nul(void **state) {
        static const char in[] = "{\"class\":\"A\",\"args\":[\"before\\u0000after\"],\"jid\":\"nul\"}";
        _cleanup_(json_decrefp) json_t *job = NULL;
        _cleanup_free_ char *out = NULL;
        const char *reason = NULL;
        json_t *a;
        size_t n;

        assert_int_equal(job_parse(in, strlen(in), 4096, &job, &reason), 0);
        a = json_array_get(json_object_get(job, "args"), 0);
        assert_int_equal(json_string_length(a), 12);
        assert_memory_equal(json_string_value(a), "before\0after", 12);
        assert_int_equal(job_serialize(job, 4096, &out, &n), 0);
        assert_string_equal(out, in);
        assert_int_equal(n, strlen(in));

        static const char *const bad_names[] = {
                "{\"class\":\"A\\u0000B\",\"args\":[],\"jid\":\"j\"}",
                "{\"class\":\"A\",\"args\":[],\"jid\":\"j\\u0000k\"}",
                "{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":\"q\\u0000\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                json_t *j = NULL;
                assert_int_equal(job_parse(bad_names[i], strlen(bad_names[i]), 4096, &j, &reason), -EBADMSG);
                assert_null(j);
        }

        static const char junk[] = "{\"class\":\"Good\",\"args\":[],\"jid\":\"nul1\"}\0junk";
        json_t *j = NULL;
        assert_int_equal(job_parse(junk, sizeof junk - 1, 4096, &j, &reason), -EBADMSG);
        assert_null(j);
}

static void test_big_integer(void **state) {
        static const struct {
                const char *json;
                int error, index;
        } cases[] = {
                { "{\"class\":\"A\",\"args\":[1,18446744073709551616],\"jid\":\"j\"}", -ERANGE, 1 },
                { "{\"class\":\"A\",\"args\":[\"x,]\",{\"n\":[-9223372036854775809]}],\"jid\":\"j\"}", -ERANGE, 1 },
                { "{\"class\":\"A\",\"args\":[9223372036854775808],\"jid\":\"j\"}", -ERANGE, 0 },
                { "{\"class\":\"A\",\"x\":[99999999999999999999],\"args\":[],\"jid\":\"j\"}", -ERANGE, -ENOENT },
                { "{\"class\":\"A\",\"args\":[9223372036854775807,-9223372036854775808,1.5e300],\"jid\":\"j\"}", 0, -ENOENT },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *job = NULL;
                const char *reason = NULL;
                size_t n = strlen(cases[i].json);

                if (job_parse(cases[i].json, n, 4096, &job, &reason) != cases[i].error)
                        fail_msg("case %zu: expected %d, reason %s", i, cases[i].error, strna(reason));
                json_decref(job);
                assert_int_equal(job_find_big_integer(cases[i].json, n), cases[i].index);
        }
}

static void test_invalid_entry(void **state) {
        static const char nul_junk[] = "{\"class\":\"Good\",\"args\":[],\"jid\":\"nul1\"}\0junk";
        static const char binary[] = "\xff\0A";
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        _cleanup_(json_decrefp) json_t *ja = NULL, *jb = NULL, *jc = NULL, *jd = NULL;
        size_t n;

        /* not JSON, but text: wrapped whole, NUL included, with the reason */
        assert_int_equal(job_invalid_entry(nul_junk, sizeof nul_junk - 1, "default", "payload is not valid JSON", 5.0, &a, &n), 0);
        assert_int_equal(n, strlen(a));
        ja = json_loads(a, JSON_ALLOW_NUL, NULL);
        assert_non_null(ja);
        assert_string_equal(job_get_class(ja), "JobsInvalidPayload");
        assert_string_equal(json_string_value(json_object_get(ja, "error_message")), "payload is not valid JSON");
        assert_true(json_is_false(json_object_get(ja, "retry")));
        assert_int_equal(json_string_length(json_object_get(ja, "payload")), sizeof nul_junk - 1);
        assert_memory_equal(json_string_value(json_object_get(ja, "payload")), nul_junk, sizeof nul_junk - 1);

        /* two payloads that differ after a NUL stay two entries (fresh jids, too) */
        assert_int_equal(job_invalid_entry("\0A", 2, "default", "r", 5.0, &b, NULL), 0);
        assert_int_equal(job_invalid_entry("\0B", 2, "default", "r", 5.0, &c, NULL), 0);
        assert_string_not_equal(b, c);
        jb = json_loads(b, JSON_ALLOW_NUL, NULL);
        assert_memory_equal(json_string_value(json_object_get(jb, "payload")), "\0A", 2);

        /* not UTF-8: base64 */
        assert_int_equal(job_invalid_entry(binary, 3, "q", "r", 5.0, &d, NULL), 0);
        jd = json_loads(d, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(jd, "payload_base64")), "/wBB");
        assert_string_equal(job_get_queue(jd), "q");

        /* a JSON object keeps its fields and gains the reason */
        free(TAKE_PTR(a));
        static const char obj[] = "{\"class\":\"../x\",\"k\":1}";
        assert_int_equal(job_invalid_entry(obj, sizeof obj - 1, "q", "bad class", 5.0, &a, NULL), 0);
        assert_string_equal(a, "{\"class\":\"../x\",\"k\":1,\"error_class\":\"JobsInvalidPayload\","
                               "\"error_message\":\"bad class\",\"failed_at\":5.0}");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_retry_from_string),
                cmocka_unit_test(test_jid),
                cmocka_unit_test(test_new_and_serialize),
                cmocka_unit_test(test_new_errors),
                cmocka_unit_test(test_round_trip_keeps_unknown_fields),
                cmocka_unit_test(test_set_time),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_jid_any_text),
                cmocka_unit_test(test_nul),
                cmocka_unit_test(test_big_integer),
                cmocka_unit_test(test_invalid_entry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
