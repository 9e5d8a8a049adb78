/* SPDX-License-Identifier: MIT */
/* The generated units compared byte for byte with tests/golden/ (JOBS_UPDATE_GOLDEN=1 rewrites them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "units/emit.h"

static const char schedule_text[] =
        "[Job]\n"
        "Name=say-hello\n"
        "Class=SayHello\n"
        "Args=[\"world\"]\n"
        "Every=1min\n"
        "\n"
        "[Job]\n"
        "Name=nightly-report\n"
        "Description=Nightly report, 100% of it\n"
        "Class=Reports::Nightly\n"
        "Queue=reports\n"
        "Retry=3\n"
        "OnCalendar=*-*-* 02:00 Europe/London\n"
        "OnCalendar=Sat *-*-* 12:00\n"
        "Persistent=yes\n"
        "RandomizedDelaySec=5min\n"
        "ActiveJob=yes\n"
        "\n"
        "[Job]\n"
        "Name=every-7min\n"
        "Class=Poll\n"
        "Retry=false\n"
        "Every=7min\n"
        "AccuracySec=0\n"
        "Scope=host\n"
        "\n"
        "[Job]\n"
        "Name=quoting\n"
        "Class=Quote\n"
        "Args=[\"it's\", \"$HOME\", \"100%\", \"back\\\\slash\", \"tab\\t\", \"caf\xc3\xa9\", {\"a b\": [1, 2.5, null]}]\n"
        "Retry=0\n"
        "OnCalendar=hourly\n";

static const EmitOptions opts = {
        .source_path = "/usr/share/jobs/test.schedule",
        .enqueue_path = "/usr/bin/jobs-enqueue",
};

static void compare_golden(const char *name, const char *text) {
        const char *src = getenv("JOBS_SOURCE_DIR");
        _cleanup_free_ char *path = NULL, *want = NULL;
        size_t len;

        assert_non_null(src);
        path = strdupf("%s/tests/golden/%s", src, name);
        assert_non_null(path);
        if (getenv("JOBS_UPDATE_GOLDEN")) {
                FILE *f = fopen(path, "we");
                assert_non_null(f);
                fputs(text, f);
                assert_int_equal(fclose(f), 0);
        }
        assert_int_equal(read_full_file(path, 1024 * 1024, &want, &len), 0);
        if (len != strlen(text) || memcmp(want, text, len) != 0) {
                print_message("--- %s\n%s--- generated\n%s", path, want, text);
                fail_msg("%s differs from its golden file", name);
        }
}

static Schedule *load(void) {
        Schedule *s = schedule_new();
        assert_non_null(s);
        assert_int_equal(schedule_parse(s, "units/test.schedule", schedule_text, strlen(schedule_text)), 0);
        for (size_t i = 0; i < s->n_errors; i++)
                print_message("%s\n", s->errors[i].message);
        assert_int_equal(s->n_errors, 0);
        assert_int_equal(s->n_entries, 4);
        return s;
}

static void test_golden(void **state) {
        _cleanup_(schedule_freep) Schedule *s = load();

        for (size_t i = 0; i < s->n_entries; i++) {
                _cleanup_free_ char *tname = NULL, *sname = NULL, *timer = NULL, *service = NULL, *again = NULL;
                assert_int_equal(emit_unit_name(&s->entries[i], ".timer", &tname), 0);
                assert_int_equal(emit_unit_name(&s->entries[i], ".service", &sname), 0);
                assert_int_equal(emit_timer(&s->entries[i], &opts, &timer), 0);
                assert_int_equal(emit_service(&s->entries[i], &opts, &service), 0);
                compare_golden(tname, timer);
                compare_golden(sname, service);
                /* deterministic */
                assert_int_equal(emit_service(&s->entries[i], &opts, &again), 0);
                assert_string_equal(again, service);
        }
        _cleanup_free_ char *target = NULL;
        assert_int_equal(emit_target(&target), 0);
        compare_golden("jobs.target", target);
}

static char *word(const char *w) {
        char *buf = NULL;
        size_t n;
        FILE *f = open_memstream(&buf, &n);
        assert_non_null(f);
        int r = emit_exec_word(f, w);
        fclose(f);
        if (r < 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void test_exec_word(void **state) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "SayHello", "SayHello" },
                { "Foo::Bar", "Foo::Bar" },
                { "[]", "[]" },
                { "[1,2]", "[1,2]" },
                { "/usr/bin/jobs-enqueue", "/usr/bin/jobs-enqueue" },
                { "[\"world\"]", "'[\"world\"]'" },
                { "a b", "'a b'" },
                { "it's", "\"it's\"" },
                { "[\"it's \\\"x\\\"\"]", "\"[\\\"it's \\\\\\\"x\\\\\\\"\\\"]\"" },
                { "$HOME", "'$$HOME'" },
                { "100%", "'100%%'" },
                { "a\\b", "'a\\\\b'" },
                { ";", "';'" },
                { "", "''" },
                { "caf\xc3\xa9", "'caf\xc3\xa9'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *w = word(table[i].in);
                assert_non_null(w);
                assert_string_equal(w, table[i].out);
        }
        assert_null(word("new\nline"));
        assert_null(word("trailing\\"));
        assert_null(word("tab\there"));
}

static void test_refused(void **state) {
        _cleanup_(schedule_freep) Schedule *s = load();
        char *out = NULL;

        EmitOptions relative = { .source_path = "units/test.schedule", .enqueue_path = "/usr/bin/jobs-enqueue" };
        assert_int_equal(emit_timer(&s->entries[0], &relative, &out), -EINVAL);
        EmitOptions ctl = { .source_path = "/a\nb", .enqueue_path = "/usr/bin/jobs-enqueue" };
        assert_int_equal(emit_service(&s->entries[0], &ctl, &out), -EINVAL);
        EmitOptions bs = { .source_path = "/a\\", .enqueue_path = "/usr/bin/jobs-enqueue" };
        assert_int_equal(emit_timer(&s->entries[0], &bs, &out), -EINVAL);
        EmitOptions enq = { .source_path = "/a", .enqueue_path = "jobs-enqueue" };
        assert_int_equal(emit_service(&s->entries[0], &enq, &out), -EINVAL);
        assert_null(out);

        /* SourcePath= with a % is escaped, spaces are kept */
        EmitOptions pct = { .source_path = "/srv/my app/100%.schedule", .enqueue_path = "/opt/my jobs/jobs-enqueue" };
        _cleanup_free_ char *t = NULL, *svc = NULL;
        assert_int_equal(emit_timer(&s->entries[0], &pct, &t), 0);
        assert_non_null(strstr(t, "\nSourcePath=/srv/my app/100%%.schedule\n"));
        assert_int_equal(emit_service(&s->entries[0], &pct, &svc), 0);
        assert_non_null(strstr(svc, "\nExecStart='/opt/my jobs/jobs-enqueue' --queue default"));
}

static void test_unit_names(void **state) {
        assert_true(emit_is_our_unit_name("jobs-a.timer"));
        assert_true(emit_is_our_unit_name("jobs-a.service"));
        assert_true(emit_is_our_unit_name("jobs.target"));
        assert_false(emit_is_our_unit_name("jobs-worker"));
        assert_false(emit_is_our_unit_name("jobs-.timerx"));
        assert_false(emit_is_our_unit_name("other.timer"));
        assert_false(emit_is_our_unit_name("jobs.target.wants"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden),
                cmocka_unit_test(test_exec_word),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_unit_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
