/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/poller.h"

#define S USEC_PER_SEC
#define A (5 * S) /* Sidekiq's average_scheduled_poll_interval, the default */

static void test_one_process(void **state) {
        /* 5 s on average, ±50 %: [2.5 s, 7.5 s). */
        assert_true(poll_interval_usec(A, 1, 0.0) == 5 * S / 2);
        assert_true(poll_interval_usec(A, 1, 0.5) == 5 * S);
        assert_true(poll_interval_usec(A, 1, 0.999999) < 15 * S / 2);
        assert_true(poll_interval_usec(A, 1, 0.999999) > 15 * S / 2 - S / 100);
}

static void test_empty_set_counts_as_one(void **state) {
        assert_true(poll_interval_usec(A, 0, 0.0) == poll_interval_usec(A, 1, 0.0));
        assert_true(poll_interval_usec(A, 0, 0.7) == poll_interval_usec(A, 1, 0.7));
}

static void test_scales_with_processes(void **state) {
        /* Small cluster: n × 5 s × rand + n × 5 s / 2, so the cluster still polls every 5 s. */
        assert_true(poll_interval_usec(A, 3, 0.0) == 15 * S / 2);
        assert_true(poll_interval_usec(A, 3, 0.5) == 15 * S);
        assert_true(poll_interval_usec(A, 9, 0.5) == 45 * S);
        /* From ten processes on: n × 5 s × rand, no floor. */
        assert_true(poll_interval_usec(A, 10, 0.0) == 0);
        assert_true(poll_interval_usec(A, 10, 0.5) == 25 * S);
        assert_true(poll_interval_usec(A, 30, 0.5) == 75 * S);
}

static void test_average(void **state) {
        /* Over a uniform spread of r, each process waits n × 5 s on average below ten processes, and half
         * that from ten on (Sidekiq drops the +avg/2 there, so large clusters poll a little more often). */
        const uint64_t counts[] = { 1, 2, 5, 9, 10, 11, 50 };

        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                double sum = 0, want = (double) (counts[c] * 5 * S) * (counts[c] < 10 ? 1.0 : 0.5);
                unsigned n = 10000;

                for (unsigned i = 0; i < n; i++)
                        sum += (double) poll_interval_usec(A, counts[c], (i + 0.5) / n);
                assert_true(sum / n > want * 0.999);
                assert_true(sum / n < want * 1.001);
        }
}

static void test_bad_input(void **state) {
        /* r outside [0, 1) is clamped; a huge process set is capped instead of overflowing. */
        assert_true(poll_interval_usec(A, 1, -1.0) == 5 * S / 2);
        assert_true(poll_interval_usec(A, 1, 0.0 / 0.0) == 5 * S / 2);
        assert_true(poll_interval_usec(A, 1, 7.0) < 15 * S / 2);
        assert_true(poll_interval_usec(A, UINT64_MAX, 0.5) == poll_interval_usec(A, 10000, 0.5));
        assert_true(poll_interval_usec(A, UINT64_MAX, 0.999) < 10000 * 5 * S);
}

static void test_other_average(void **state) {
        /* PollIntervalSec=200ms: the same shape around 200 ms, and the largest average times the most
         * processes does not overflow. */
        assert_true(poll_interval_usec(200 * USEC_PER_MSEC, 1, 0.0) == 100 * USEC_PER_MSEC);
        assert_true(poll_interval_usec(200 * USEC_PER_MSEC, 1, 0.5) == 200 * USEC_PER_MSEC);
        assert_true(poll_interval_usec(200 * USEC_PER_MSEC, 50, 0.5) == 5 * S);
        assert_true(poll_interval_usec(3600 * S, UINT64_MAX, 0.5) == 10000 * 1800 * S);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_process),
                cmocka_unit_test(test_empty_set_counts_as_one),
                cmocka_unit_test(test_scales_with_processes),
                cmocka_unit_test(test_average),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_other_average),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
