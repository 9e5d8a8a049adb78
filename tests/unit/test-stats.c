/* SPDX-License-Identifier: MIT */
/* The worker's per-class counters: one run lands in its class's tally and bucket, and the tallies
 * waiting for a flush are bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/stats.h"

static bool has(const Stats *s, const char *class) {
        for (size_t i = 0; i < s->n_classes; i++)
                if (!strcmp(s->classes[i].class, class))
                        return true;
        return false;
}

static const ClassTally *find(const Stats *s, const char *class) {
        static const ClassTally none;

        for (size_t i = 0; i < s->n_classes; i++)
                if (!strcmp(s->classes[i].class, class))
                        return &s->classes[i];
        fail_msg("no tally for class %s", class);
        return &none;
}

static void test_tally(void **state) {
        Stats s;
        const ClassTally *t;

        stats_init(&s);
        assert_int_equal(stats_count_class(&s, "Quick", true, 5000), 0);   /* 5 ms: bucket 0 (<= 10 ms) */
        assert_int_equal(stats_count_class(&s, "Quick", false, 2000000), 0); /* 2 s: bucket 4 (<= 5 s) */
        assert_int_equal(stats_count_class(&s, "Slow", true, 5ULL * 3600 * 1000000), 0); /* 5 h: +Inf */
        assert_int_equal(s.n_classes, 2);
        t = find(&s, "Quick");
        assert_int_equal(t->processed, 2);
        assert_int_equal(t->failed, 1);
        assert_int_equal(t->duration_usec, 2005000);
        assert_int_equal(t->buckets[0], 1);
        assert_int_equal(t->buckets[4], 1);
        t = find(&s, "Slow");
        assert_int_equal(t->buckets[CLASS_STATS_BUCKETS], 1);
        assert_int_equal(stats_count_class(&s, "", true, 1), -EINVAL);
        stats_done(&s);
}

static void test_bounded(void **state) {
        char name[32];
        Stats s;

        stats_init(&s);
        for (unsigned i = 0; i < STATS_CLASSES_MAX; i++) {
                snprintf(name, sizeof name, "C%u", i);
                assert_int_equal(stats_count_class(&s, name, true, 1), 0);
        }
        assert_int_equal(stats_count_class(&s, "OneMore", true, 1), -ENOBUFS);
        assert_int_equal(stats_count_class(&s, "C7", true, 1), 0); /* known classes still counted */
        assert_int_equal(find(&s, "C7")->processed, 2);
        assert_false(has(&s, "OneMore"));
        stats_done(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tally),
                cmocka_unit_test(test_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
