/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <locale.h>

#include "programs/table.h"

static char *print(Table *t, size_t width, bool color, bool header) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        assert_non_null(f);
        assert_int_equal(table_print(t, f, width, color, header), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_alignment(void **state) {
        _cleanup_(table_freep) Table *t = table_new(3, (const char *[]) { "QUEUE", "SIZE", "LATENCY" });
        _cleanup_free_ char *out = NULL, *bare = NULL;

        assert_non_null(t);
        table_set_align_right(t, 1, true);
        assert_int_equal(table_add_cell(t, "default", NULL), 0);
        assert_int_equal(table_add_cellf(t, NULL, "%d", 12345), 0);
        assert_int_equal(table_add_cell(t, "3min 5s", NULL), 0);
        assert_int_equal(table_add_cell(t, "critical-long", NULL), 0);
        assert_int_equal(table_add_cell(t, "7", NULL), 0);
        assert_int_equal(table_add_cell(t, NULL, NULL), 0);
        assert_int_equal(table_get_rows(t), 2);

        out = print(t, 0, false, true);
        assert_string_equal(out, "QUEUE          SIZE LATENCY\n"
                                 "default       12345 3min 5s\n"
                                 "critical-long     7 -\n");
        bare = print(t, 0, false, false);
        assert_string_equal(bare, "default       12345 3min 5s\n"
                                  "critical-long     7 -\n");
}

static void test_utf8_and_sanitize(void **state) {
        _cleanup_(table_freep) Table *t = table_new(2, (const char *[]) { "A", "B" });
        _cleanup_free_ char *out = NULL, *s = NULL;

        assert_int_equal(utf8_width("Zürich"), 6);
        assert_int_equal(utf8_width("\xff"), 1);
        /* escape sequences, newlines and invalid UTF-8 from Redis never reach the terminal */
        s = string_sanitize("a\x1b[31mb\nc\xff\xc2\x9b", 100);
        assert_string_equal(s, "a?[31mb c???");

        assert_int_equal(table_add_cell(t, "Zürich", NULL), 0);
        assert_int_equal(table_add_cell(t, "x", NULL), 0);
        assert_int_equal(table_add_cell(t, "ab", NULL), 0);
        assert_int_equal(table_add_cell(t, "y", NULL), 0);
        /* Japanese characters take two screen columns each */
        assert_int_equal(table_add_cell(t, "日本", NULL), 0);
        assert_int_equal(table_add_cell(t, "z", NULL), 0);
        out = print(t, 0, false, false);
        assert_string_equal(out, "Zürich x\nab     y\n日本   z\n");
}

static void test_shrink(void **state) {
        _cleanup_(table_freep) Table *t = table_new(3, (const char *[]) { "JID", "ARGS", "ERROR" });
        _cleanup_free_ char *out = NULL, *wide = NULL, *ja = NULL;

        table_set_shrink_column(t, 1);
        table_set_shrink_column(t, 2);
        table_set_min_width(t, 2, 16);
        assert_int_equal(table_add_cell(t, "abc", NULL), 0);
        assert_int_equal(table_add_cell(t, "[\"日本語の引数です\"]", NULL), 0);
        assert_int_equal(table_add_cell(t, "RuntimeError: something went badly wrong", NULL), 0);
        out = print(t, 30, false, true);
        /* the row fits 30 screen columns: ARGS, marked first, gives up all it can (down to its
         * header), then ERROR; a cut ends in an ellipsis and never splits 日 (two columns) */
        assert_string_equal(out, "JID ARGS ERROR\n"
                                 "abc [\"…  RuntimeError: someth…\n");
        wide = print(t, 200, false, true);
        assert_string_equal(wide, "JID ARGS                 ERROR\n"
                                  "abc [\"日本語の引数です\"] RuntimeError: something went badly wrong\n");
}

static void test_color(void **state) {
        _cleanup_(table_freep) Table *t = table_new(1, (const char *[]) { "X" });
        _cleanup_free_ char *on = NULL, *off = NULL;

        assert_int_equal(table_add_cell(t, "dead", ANSI_RED), 0);
        on = print(t, 0, true, true);
        assert_non_null(strstr(on, ANSI_UNDERLINE "X"));
        assert_non_null(strstr(on, ANSI_RED "dead" ANSI_NORMAL));
        off = print(t, 0, false, true);
        assert_string_equal(off, "X\ndead\n");
}

static void test_bad_arguments(void **state) {
        assert_null(table_new(0, (const char *[]) { "X" }));
        assert_null(table_new(TABLE_COLUMNS_MAX + 1, (const char *[TABLE_COLUMNS_MAX + 1]) {}));
        assert_int_equal(table_add_cell(NULL, "x", NULL), -EINVAL);
        assert_null(table_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alignment), cmocka_unit_test(test_utf8_and_sanitize),
                cmocka_unit_test(test_shrink),    cmocka_unit_test(test_color),
                cmocka_unit_test(test_bad_arguments),
        };
        /* Screen columns of UTF-8 text are counted as a terminal in a UTF-8 locale shows them. */
        assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
