/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "util/log.h"
#include "util/util.h"

/* Run fn with stderr redirected to a pipe; return what it wrote. */
static char *capture(void (*fn)(void)) {
        static char buf[8192];
        int p[2], saved;
        ssize_t n;

        assert_int_equal(pipe(p), 0);
        saved = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        fn();
        dup2(saved, STDERR_FILENO);
        close(saved);
        n = read(p[0], buf, sizeof buf - 1);
        close(p[0]);
        buf[n > 0 ? n : 0] = 0;
        return buf;
}

static void log_plain(void) {
        const char *fields[] = { "JOB_ID=abc", "JOB_CLASS=SayHello", NULL };

        assert_int_equal(log_fields(LOG_INFO, 0, fields, "job %s done", "abc"), 0);
        assert_int_equal(log_debug("hidden"), 0);
        assert_int_equal(log_error_errno(-ENOENT, "open failed: %m"), -ENOENT);
        assert_int_equal(log_error_errno(EACCES, "positive errors come back negative"), -EACCES);
}

static void test_stderr(void **state) {
        unsetenv("JOURNAL_STREAM");
        unsetenv("JOBS_LOG_FIELDS");
        unsetenv("JOBS_LOG_LEVEL");
        log_open("test-log", "test");
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
        assert_string_equal(capture(log_plain),
                            "test-log: job abc done\n"
                            "test-log: open failed: No such file or directory\n"
                            "test-log: positive errors come back negative\n");
}

static void test_fields_and_level(void **state) {
        setenv("JOBS_LOG_FIELDS", "1", 1);
        setenv("JOBS_LOG_LEVEL", "debug", 1);
        log_open("test-log", "test");
        assert_string_equal(capture(log_plain),
                            "test-log: job abc done JOB_ID=abc JOB_CLASS=SayHello\n"
                            "test-log: hidden\n"
                            "test-log: open failed: No such file or directory\n"
                            "test-log: positive errors come back negative\n");
        setenv("JOBS_LOG_LEVEL", "err", 1);
        log_open("test-log", "test");
        assert_int_equal(log_get_max_level(), LOG_ERR);
        assert_string_equal(capture(log_plain),
                            "test-log: open failed: No such file or directory\n"
                            "test-log: positive errors come back negative\n");
        unsetenv("JOBS_LOG_FIELDS");
        unsetenv("JOBS_LOG_LEVEL");
}

static void test_journal_stream(void **state) {
        char env[64];
        struct stat st;
        int p[2], saved;
        char buf[512];
        ssize_t n;

        /* stderr is the stream named by JOURNAL_STREAM: "<N>" priority prefixes */
        assert_int_equal(pipe(p), 0);
        saved = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        assert_int_equal(fstat(STDERR_FILENO, &st), 0);
        snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        setenv("JOURNAL_STREAM", env, 1);
        log_open("test-log", "test");
        LogTarget t = log_get_target();
        log_warning("careful");
        dup2(saved, STDERR_FILENO);
        close(saved);
        n = read(p[0], buf, sizeof buf - 1);
        close(p[0]);
        buf[n > 0 ? n : 0] = 0;
        assert_int_equal(t, LOG_TARGET_STREAM);
        assert_string_equal(buf, "<4>careful\n");

        /* a JOURNAL_STREAM inherited by a process whose stderr is elsewhere is ignored */
        setenv("JOURNAL_STREAM", "1:1", 1);
        log_open("test-log", "test");
        assert_int_equal(log_get_target(), LOG_TARGET_STDERR);
        unsetenv("JOURNAL_STREAM");
}

static char sunk[2048];
static void sink(const struct iovec *iov, size_t n) {
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(sunk + off, sizeof sunk - off, "%.*s|", (int) iov[i].iov_len,
                                         (const char *) iov[i].iov_base);
}

static void test_journal_fields(void **state) {
        const char *fields[] = { "JOB_ID=abc", "JOB_STATUS=done", NULL };

        log_open("test-log", "worker");
        log_set_sink(sink);
        log_set_target(LOG_TARGET_JOURNAL);
        log_fields(LOG_NOTICE, -EIO, fields, "finished");
        assert_string_equal(sunk, "MESSAGE=finished|PRIORITY=5|SYSLOG_IDENTIFIER=test-log|JOBS_SERVICE=worker|"
                                  "ERRNO=5|JOB_ID=abc|JOB_STATUS=done|");
        log_set_target(LOG_TARGET_STDERR);
}

static void log_secret(void) {
        log_error("Cannot connect to redis://:Hunter2PW@db.example:6379: %s", "refused");
}

static void test_secret_masked(void **state) {
        unsetenv("JOURNAL_STREAM");
        log_open("test-log", "test");
        assert_string_equal(capture(log_secret), "test-log: Cannot connect to redis://:***@db.example:6379: refused\n");
}

static void test_level_names(void **state) {
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("WARNING"), LOG_WARNING);
        assert_int_equal(log_level_from_string("error"), LOG_ERR);
        assert_int_equal(log_level_from_string("loud"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stderr),         cmocka_unit_test(test_fields_and_level),
                cmocka_unit_test(test_journal_stream), cmocka_unit_test(test_journal_fields),
                cmocka_unit_test(test_level_names), cmocka_unit_test(test_secret_masked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
