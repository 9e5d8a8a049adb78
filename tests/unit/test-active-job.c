/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/active-job.h"
#include "util/util.h"

static json_t *parse(const char *s) {
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        return j;
}

static char *dump(json_t *j) {
        char *s = json_dumps(j, JSON_COMPACT);
        assert_non_null(s);
        return s;
}

static void test_class_and_arguments(void **state) {
        json_t *j = parse("{\"class\":\"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper\",\"wrapped\":\"HelloJob\","
                          "\"args\":[{\"job_class\":\"Other\",\"arguments\":[1,\"a\"]}],\"jid\":\"x\"}");
        assert_string_equal(active_job_class(j), "HelloJob");
        char *s = dump(active_job_arguments(j));
        assert_string_equal(s, "[1,\"a\"]");
        free(s);
        json_decref(j);

        /* Sidekiq 7's wrapper; without "wrapped", the serialization's job_class */
        j = parse("{\"class\":\"Sidekiq::ActiveJob::Wrapper\",\"args\":[{\"job_class\":\"Mail::Deliver\",\"arguments\":[]}]}");
        assert_string_equal(active_job_class(j), "Mail::Deliver");
        json_decref(j);

        /* not a wrapper, a bad class name, a name cut by \u0000, no arguments array */
        j = parse("{\"class\":\"HelloJob\",\"wrapped\":\"Other\",\"args\":[{\"arguments\":[1]}]}");
        assert_null(active_job_class(j));
        assert_null(active_job_arguments(j));
        json_decref(j);
        j = parse("{\"class\":\"Sidekiq::ActiveJob::Wrapper\",\"wrapped\":\"../x\",\"args\":[]}");
        assert_null(active_job_class(j));
        json_decref(j);
        j = json_loads("{\"class\":\"Sidekiq::ActiveJob::Wrapper\",\"wrapped\":\"A\\u0000B\",\"args\":[]}", JSON_ALLOW_NUL, NULL);
        assert_null(active_job_class(j));
        json_decref(j);
        j = parse("{\"class\":\"Sidekiq::ActiveJob::Wrapper\",\"wrapped\":\"A\",\"args\":[{\"arguments\":{}}]}");
        assert_string_equal(active_job_class(j), "A");
        assert_null(active_job_arguments(j));
        json_decref(j);
}

static void test_serialize_arguments(void **state) {
        json_t *in = parse("[1,\"two\",3.0,null,true,{\"a\":{\"b\":[{}]}},{\"_aj_globalid\":\"gid://app/User/1\"}]");
        json_t *out = NULL;
        const char *reason = NULL;

        assert_int_equal(active_job_serialize_arguments(in, &out, &reason), 0);
        char *s = dump(out);
        assert_string_equal(s, "[1,\"two\",3.0,null,true,{\"a\":{\"b\":[{\"_aj_symbol_keys\":[]}],\"_aj_symbol_keys\":[]},"
                               "\"_aj_symbol_keys\":[]},{\"_aj_globalid\":\"gid://app/User/1\"}]");
        free(s);
        json_decref(out);
        json_decref(in);

        in = parse("{}");
        assert_int_equal(active_job_serialize_arguments(in, &out, &reason), -EINVAL);
        assert_non_null(reason);
        json_decref(in);

        /* nesting beyond the limit */
        char deep[2 * (ACTIVE_JOB_NESTING_MAX + 3) + 1];
        for (size_t i = 0; i < ACTIVE_JOB_NESTING_MAX + 3; i++) {
                deep[i] = '[';
                deep[ACTIVE_JOB_NESTING_MAX + 3 + i] = ']';
        }
        deep[sizeof deep - 1] = 0;
        in = parse(deep);
        reason = NULL;
        assert_int_equal(active_job_serialize_arguments(in, &out, &reason), -EINVAL);
        assert_non_null(reason);
        json_decref(in);
}

static void test_new(void **state) {
        json_t *args = parse("[42,{\"k\":\"v\"}]"), *j = NULL;
        const char *reason = NULL, *k;
        JobRetry retry = { JOB_RETRY_COUNT, 3 };
        static const char *const order[] = { "retry", "queue", "class", "wrapped", "args", "jid", "created_at", "enqueued_at" };
        static const char *const data_order[] = { "job_class", "job_id", "provider_job_id", "queue_name", "priority", "arguments",
                                                  "executions", "exception_executions", "locale", "timezone", "enqueued_at" };
        size_t i = 0;
        json_t *v;

        assert_int_equal(active_job_new("HelloJob", "mail", args, &retry, 1796178052.75, &j, &reason), 0);
        json_object_foreach(j, k, v)
                assert_string_equal(k, order[i++]);
        assert_int_equal(i, ELEMENTSOF(order));
        assert_int_equal(json_integer_value(json_object_get(j, "retry")), 3);
        assert_string_equal(json_string_value(json_object_get(j, "class")), ACTIVE_JOB_WRAPPER_RAILS);
        assert_string_equal(active_job_class(j), "HelloJob");
        assert_true(json_real_value(json_object_get(j, "created_at")) == 1796178052.75);

        json_t *d = json_array_get(json_object_get(j, "args"), 0);
        i = 0;
        json_object_foreach(d, k, v)
                assert_string_equal(k, data_order[i++]);
        assert_int_equal(i, ELEMENTSOF(data_order));
        assert_string_equal(json_string_value(json_object_get(d, "job_class")), "HelloJob");
        assert_string_equal(json_string_value(json_object_get(d, "queue_name")), "mail");
        assert_string_equal(json_string_value(json_object_get(d, "enqueued_at")), "2026-12-02T02:20:52Z");
        assert_true(json_is_null(json_object_get(d, "provider_job_id")) && json_is_null(json_object_get(d, "priority")));
        const char *id = json_string_value(json_object_get(d, "job_id"));
        assert_int_equal(strlen(id), ACTIVE_JOB_ID_LEN);
        assert_true(id[8] == '-' && id[13] == '-' && id[14] == '4' && id[18] == '-' && strchr("89ab", id[19]) && id[23] == '-');
        char *s = dump(active_job_arguments(j));
        assert_string_equal(s, "[42,{\"k\":\"v\",\"_aj_symbol_keys\":[]}]");
        free(s);
        json_decref(j);

        /* the job class is checked as any class */
        assert_int_equal(active_job_new("../x", NULL, NULL, NULL, 0, &j, &reason), -EINVAL);
        json_decref(args);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_class_and_arguments),
                cmocka_unit_test(test_serialize_arguments),
                cmocka_unit_test(test_new),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
