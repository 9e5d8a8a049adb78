/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/retry.h"

static json_t *job_from(const char *s) {
        const char *reason = NULL;
        json_t *j = NULL;

        assert_int_equal(job_parse(s, strlen(s), JOB_PAYLOAD_MAX_DEFAULT, &j, &reason), 0);
        return j;
}

#define JOB(extra) "{\"class\":\"A\",\"args\":[],\"queue\":\"q\",\"jid\":\"0123456789abcdef01234567\"" extra "}"

static void test_max_attempts(void **state) {
        assert_int_equal(retry_max_attempts((JobRetry) { JOB_RETRY_TRUE, 0 }), 25);
        assert_int_equal(retry_max_attempts((JobRetry) { JOB_RETRY_COUNT, 3 }), 3);
        assert_int_equal(retry_max_attempts((JobRetry) { JOB_RETRY_FALSE, 0 }), 0);
}

static void test_delay(void **state) {
        assert_true(retry_delay(0, 0) == 15);
        assert_true(retry_delay(0, 9) == 24);
        assert_true(retry_delay(1, 0) == 16);
        assert_true(retry_delay(2, 3) == 16 + 15 + 9);
        assert_true(retry_delay(24, 9) == 331776 + 15 + 225);
        /* rnd is taken modulo 10, as rand(10) never returns 10 */
        assert_true(retry_delay(0, 10) == 15);
}

/* A job allowed a million retries, near its last: the delay is clamped, the score stays a time a
 * clock reaches and its distance in microseconds fits in 64 bits. */
static void test_delay_clamped(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry\":1000000,\"retry_count\":999998"));
        RetryAction a;
        double at, now = 1764240000.0;

        assert_true(retry_delay(999999, 9) == RETRY_DELAY_MAX_SEC);
        assert_true(retry_delay(UINT32_MAX, 9) == RETRY_DELAY_MAX_SEC);
        assert_true(retry_delay(24, 9) < RETRY_DELAY_MAX_SEC);
        assert_int_equal(retry_apply(j, "E", "m", now, 9, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_RETRY);
        assert_true(at - now <= RETRY_DELAY_MAX_SEC);
        assert_true((at - now) * 1e6 < (double) UINT64_MAX);
}

/* At the largest retry_count a payload may carry the job is dead, and what goes to the dead set still
 * parses (found by the payload fuzzer: 999,999 became 1,000,000, which job_parse() refused). */
static void test_retry_count_limit(void **state) {
        static const char *const in[] = { JOB(",\"retry\":1000000,\"retry_count\":999999"),
                                          JOB(",\"retry\":2000000,\"retry_count\":1000000") };

        for (size_t i = 0; i < ELEMENTSOF(in); i++) {
                _cleanup_(json_decrefp) json_t *j = job_from(in[i]), *back = NULL;
                _cleanup_free_ char *text = NULL;
                const char *reason = NULL;
                RetryAction a;
                size_t len;
                double at;

                assert_int_equal(retry_apply(j, "E", "m", 1764240000.0, 0, &a, &at), 0);
                assert_int_equal(a, RETRY_ACTION_DEAD);
                assert_int_equal(job_get_retry_count(j), JOB_RETRY_COUNT_MAX);
                assert_int_equal(job_serialize(j, SIZE_MAX, &text, &len), 0);
                assert_int_equal(job_parse(text, len, SIZE_MAX, &back, &reason), 0);
        }
}

static void test_first_failure(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry\":true"));
        RetryAction a;
        double at;

        assert_int_equal(retry_apply(j, "Boom", "it broke", 1000.5, 4, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_RETRY);
        assert_true(at == 1000.5 + 15 + 4);
        assert_int_equal(job_get_retry_count(j), 0);
        assert_true(json_real_value(json_object_get(j, "failed_at")) == 1000.5);
        assert_null(json_object_get(j, "retried_at"));
        assert_string_equal(json_string_value(json_object_get(j, "error_class")), "Boom");
        assert_string_equal(json_string_value(json_object_get(j, "error_message")), "it broke");
        assert_string_equal(job_get_queue(j), "q");
}

static void test_later_failure_and_retry_queue(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry\":5,\"retry_count\":2,\"retry_queue\":\"slow\",\"failed_at\":1.5"));
        RetryAction a;
        double at;

        assert_int_equal(retry_apply(j, "E", "m", 2000, 1, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_RETRY);
        assert_int_equal(job_get_retry_count(j), 3);
        assert_true(at == 2000 + 81 + 15 + 1 * 4);
        assert_true(json_real_value(json_object_get(j, "retried_at")) == 2000);
        assert_true(json_real_value(json_object_get(j, "failed_at")) == 1.5);
        assert_string_equal(job_get_queue(j), "slow");
}

static void test_exhausted(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry\":2,\"retry_count\":0"));
        _cleanup_(json_decrefp) json_t *z = job_from(JOB(",\"retry\":0"));
        _cleanup_(json_decrefp) json_t *nd = job_from(JOB(",\"retry\":1,\"retry_count\":0,\"dead\":false"));
        RetryAction a;
        double at;

        assert_int_equal(retry_apply(j, "E", "m", 10, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_RETRY); /* count 1 < 2 */
        assert_int_equal(retry_apply(j, "E", "m", 20, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_DEAD);
        assert_true(at == 20);
        assert_int_equal(job_get_retry_count(j), 2);

        assert_int_equal(retry_apply(z, "E", "m", 10, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_DEAD);

        assert_int_equal(retry_apply(nd, "E", "m", 10, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_DROP);
}

static void test_retry_false(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry\":false"));
        RetryAction a;
        double at;

        assert_int_equal(retry_apply(j, "E", "m", 10, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_DROP);
        assert_null(json_object_get(j, "error_class"));
        assert_string_equal(retry_action_to_string(a), "drop");
}

static void test_default_is_25(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(",\"retry_count\":23"));
        RetryAction a;
        double at;

        assert_int_equal(retry_apply(j, "E", "m", 0, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_RETRY); /* 24 < 25 */
        assert_int_equal(retry_apply(j, "E", "m", 0, 0, &a, &at), 0);
        assert_int_equal(a, RETRY_ACTION_DEAD);
}

static void test_message_cut(void **state) {
        _cleanup_(json_decrefp) json_t *j = job_from(JOB(""));
        _cleanup_free_ char *m = malloc(30001);
        RetryAction a;
        double at;

        /* 15000 two-byte characters: cut to 10000 characters, never inside one */
        for (int i = 0; i < 30000; i += 2)
                m[i] = (char) 0xC3, m[i + 1] = (char) 0xA9;
        m[30000] = 0;
        assert_int_equal(retry_apply(j, "E", m, 0, 0, &a, &at), 0);
        assert_int_equal(json_string_length(json_object_get(j, "error_message")), 20000);
        assert_int_equal(retry_apply(j, NULL, "\xff\xfe", 0, 0, &a, &at), 0);
        assert_string_equal(json_string_value(json_object_get(j, "error_class")), "RuntimeError");
        assert_non_null(json_string_value(json_object_get(j, "error_message")));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_max_attempts),
                cmocka_unit_test(test_delay),
                cmocka_unit_test(test_delay_clamped),
                cmocka_unit_test(test_retry_count_limit),
                cmocka_unit_test(test_first_failure),
                cmocka_unit_test(test_later_failure_and_retry_queue),
                cmocka_unit_test(test_exhausted),
                cmocka_unit_test(test_retry_false),
                cmocka_unit_test(test_default_is_25),
                cmocka_unit_test(test_message_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
