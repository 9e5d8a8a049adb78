/* SPDX-License-Identifier: MIT */
/* The public API's promises to an embedder: arguments and state checked (never a crash, -EINVAL /
 * -EBUSY), the error text kept on the worker, a worker that runs once without leaking, the cleanup
 * helper, the version macros in step with the project version. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "engine/worker-internal.h"
#include "jobs/jobs.h"

static int handler(JobsJob *job, void *userdata) {
        return 0;
}

static void assert_errstr_has(const JobsWorker *w, const char *needle) {
        if (!strstr(jobs_worker_errstr(w), needle))
                fail_msg("\"%s\" not in jobs_worker_errstr(): \"%s\"", needle, jobs_worker_errstr(w));
}

static void test_version(void **state) {
        char v[64];

        snprintf(v, sizeof v, "%d.%d.%d", JOBS_VERSION_MAJOR, JOBS_VERSION_MINOR, JOBS_VERSION_PATCH);
        assert_string_equal(v, JOBS_VERSION); /* meson's project version */
        assert_true(JOBS_VERSION_AT_LEAST(0, 0, 0));
        assert_true(JOBS_VERSION_AT_LEAST(JOBS_VERSION_MAJOR, JOBS_VERSION_MINOR, JOBS_VERSION_PATCH));
        assert_false(JOBS_VERSION_AT_LEAST(JOBS_VERSION_MAJOR, JOBS_VERSION_MINOR, JOBS_VERSION_PATCH + 1));
        assert_false(JOBS_VERSION_AT_LEAST(JOBS_VERSION_MAJOR, JOBS_VERSION_MINOR + 1, 0));
        assert_false(JOBS_VERSION_AT_LEAST(JOBS_VERSION_MAJOR + 1, 0, 0));
}

static void test_null_worker(void **state) {
        assert_int_equal(jobs_worker_new(NULL), -EINVAL);
        assert_null(jobs_worker_free(NULL));
        jobs_worker_freep(NULL);
        assert_string_equal(jobs_worker_errstr(NULL), "");
        assert_int_equal(jobs_worker_load_config(NULL, "/dev/null"), -EINVAL);
        assert_int_equal(jobs_worker_set_redis(NULL, "redis://localhost"), -EINVAL);
        assert_int_equal(jobs_worker_add_queue(NULL, "default"), -EINVAL);
        assert_int_equal(jobs_worker_set_concurrency(NULL, 1), -EINVAL);
        assert_int_equal(jobs_worker_register(NULL, "X", handler, NULL), -EINVAL);
        assert_int_equal(jobs_worker_run(NULL), -EINVAL);
        jobs_worker_stop(NULL);
        assert_int_equal(jobs_worker_attach_event(NULL, NULL, 0), -EINVAL);
        assert_null(jobs_worker_get_event(NULL));
        assert_int_equal(jobs_worker_start(NULL, NULL, NULL), -EINVAL);
}

static void test_null_job(void **state) {
        const JobsJob *cj = NULL;

        assert_null(jobs_job_class(cj));
        assert_null(jobs_job_id(cj));
        assert_null(jobs_job_queue(cj));
        assert_null(jobs_job_payload(cj));
        assert_null(jobs_job_args(cj)); /* takes a const job */
        assert_int_equal(jobs_job_retry_count(cj), -EINVAL);
        assert_int_equal(jobs_job_fail(NULL, "X", "why %d", 1), -EINVAL);
}

static void test_job(void **state) {
        JobsJob *j = calloc(1, sizeof *j);
        const JobsJob *cj = j;

        assert_non_null(j);
        j->job = json_loads("{\"class\":\"X\",\"args\":[1,\"a\"]}", 0, NULL);
        assert_non_null(j->job);
        assert_string_equal(jobs_job_args(cj), "[1,\"a\"]");
        assert_ptr_equal(jobs_job_args(cj), jobs_job_args(cj)); /* made once */
        assert_int_equal(jobs_job_fail(j, "ArgumentError", "bad %s", "name"), -EIO);
        assert_string_equal(j->fail_class, "ArgumentError");
        assert_string_equal(j->fail_message, "bad name");
        json_decref(j->job);
        free(j->args_text);
        free(j->fail_class);
        free(j->fail_message);
        free(j);
}

static void test_setting_errors(void **state) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;

        assert_int_equal(jobs_worker_new(&w), 0);
        assert_string_equal(jobs_worker_errstr(w), "");

        assert_int_equal(jobs_worker_set_redis(w, NULL), -EINVAL);
        assert_errstr_has(w, "jobs_worker_set_redis()");
        assert_errstr_has(w, "url");
        assert_int_equal(jobs_worker_set_redis(w, "http://example.org"), -EINVAL);
        assert_errstr_has(w, "Invalid Redis URL");
        assert_int_equal(jobs_worker_set_redis(w, "redis://127.0.0.1:6379/1"), 0);
        assert_string_equal(jobs_worker_errstr(w), ""); /* a call that succeeds has no error */

        assert_int_equal(jobs_worker_add_queue(w, NULL), -EINVAL);
        assert_errstr_has(w, "spec");
        assert_true(jobs_worker_add_queue(w, "no spaces") < 0);
        assert_errstr_has(w, "Invalid queue \"no spaces\"");
        assert_int_equal(jobs_worker_add_queue(w, "critical,2"), 0);

        assert_int_equal(jobs_worker_set_concurrency(w, 0), -ERANGE);
        assert_errstr_has(w, "Concurrency 0 is out of range: give 1 to 1024");
        assert_int_equal(jobs_worker_set_concurrency(w, WORKER_CONCURRENCY_MAX + 1), -ERANGE);
        assert_int_equal(jobs_worker_set_concurrency(w, 4), 0);

        assert_int_equal(jobs_worker_register(w, "X", NULL, NULL), -EINVAL);
        assert_errstr_has(w, "fn");
        assert_int_equal(jobs_worker_register(w, NULL, handler, NULL), -EINVAL);
        assert_errstr_has(w, "job_class");
        assert_int_equal(jobs_worker_register(w, "a/b", handler, NULL), -EINVAL);
        assert_errstr_has(w, "Invalid job class \"a/b\"");
        assert_int_equal(jobs_worker_register(w, "SayHello", handler, NULL), 0);
        assert_int_equal(jobs_worker_register(w, "SayHello", handler, NULL), -EEXIST);
        assert_errstr_has(w, "A handler for SayHello is already registered");
}

static void test_load_config(void **state) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;
        char path[] = "/tmp/test-api-XXXXXX";
        int fd;

        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_load_config(w, NULL), -EINVAL);
        assert_errstr_has(w, "path");
        assert_int_equal(jobs_worker_load_config(w, "/nonexistent/worker.conf"), -ENOENT);
        assert_errstr_has(w, "/nonexistent/worker.conf: no such file");

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "[Worker]\nNoSuchKey=1\n", 21), 21);
        close(fd);
        assert_true(jobs_worker_load_config(w, path) < 0);
        /* The text names the file and line, which used to go to the debug log only. */
        assert_errstr_has(w, path);
        assert_errstr_has(w, ":2:");
        assert_int_equal(unlink(path), 0);
}

/* Stopped before Redis is reached (a SIGTERM already pending): the run returns 0, a second one
 * -EBUSY without touching what the first one made; settings are fixed; ASan and valgrind see no leak. */
static void test_runs_once(void **state) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;
        sigset_t mask;
        sd_event *e;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_set_redis(w, "unix:///nonexistent/redis.sock"), 0);
        jobs_worker_stop(w); /* not running: nothing happens */
        assert_int_equal(w->state, WORKER_STARTING);
        assert_int_equal(raise(SIGTERM), 0);
        assert_int_equal(jobs_worker_run(w), 0);
        e = w->event;
        assert_non_null(e);
        assert_int_equal(w->state, WORKER_STOPPED);
        jobs_worker_stop(w); /* ran: nothing happens either */
        assert_null(w->stop_timer);

        assert_int_equal(jobs_worker_run(w), -EBUSY);
        assert_errstr_has(w, "runs once");
        assert_ptr_equal(w->event, e);
        assert_int_equal(jobs_worker_set_concurrency(w, 2), -EBUSY);
        assert_errstr_has(w, "jobs_worker_set_concurrency(): the worker already ran");
        assert_int_equal(jobs_worker_add_queue(w, "other"), -EBUSY);
        assert_int_equal(jobs_worker_set_redis(w, "redis://127.0.0.1"), -EBUSY);
        assert_int_equal(jobs_worker_register(w, "Late", handler, NULL), -EBUSY);
        assert_int_equal(jobs_worker_load_config(w, "/dev/null"), -EBUSY);
}

static void test_run_error_text(void **state) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;

        /* No URL given: $REDIS_URL is taken when the worker runs, and found wrong then. */
        assert_int_equal(setenv("REDIS_URL", "http://example.org", 1), 0);
        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_run(w), -EINVAL);
        assert_errstr_has(w, "Invalid Redis URL");
        assert_int_equal(unsetenv("REDIS_URL"), 0);
        assert_int_equal(jobs_worker_run(w), -EBUSY);
}

static void signals_set(bool sigchld_blocked, bool sigpipe_ignored) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        assert_int_equal(sigprocmask(sigchld_blocked ? SIG_BLOCK : SIG_UNBLOCK, &mask, NULL), 0);
        assert_true(signal(SIGPIPE, sigpipe_ignored ? SIG_IGN : SIG_DFL) != SIG_ERR);
}

static void on_stopped_count(JobsWorker *w, int exit_code, void *userdata) {
        int *calls = userdata;

        assert_int_equal(exit_code, 0);
        (*calls)++;
        assert_int_equal(jobs_worker_run(w), -EBUSY); /* a call on the worker from its own callback */
        /* Nothing of the worker is left on the loop: its SIGCHLD is free again. */
        assert_int_equal(sd_event_add_signal(jobs_worker_get_event(w), NULL, SIGCHLD, NULL, NULL), 0);
        assert_int_equal(sd_event_exit(jobs_worker_get_event(w), 0), 0);
}

static void on_stopped_free(JobsWorker *w, int exit_code, void *userdata) {
        sd_event *e = jobs_worker_get_event(w);

        jobs_worker_free(w); /* allowed here: ASan and valgrind check it */
        *(JobsWorker **) userdata = NULL;
        assert_int_equal(sd_event_exit(e, 0), 0);
}

/* An embedder's loop: what start asks first (a loop, SIGCHLD blocked, SIGPIPE ignored) with the
 * error text, then -EBUSY for everything after; a stop without Redis ends in on_stopped, which may
 * free the worker, and the program's loop runs on without the worker's sources. */
static void test_attach(void **state) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        sd_event_source *s = NULL;
        JobsWorker *freed = NULL;
        sigset_t mask;
        int calls = 0;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_set_redis(w, "unix:///nonexistent/redis.sock"), 0);
        assert_int_equal(jobs_worker_start(w, NULL, NULL), -EINVAL);
        assert_errstr_has(w, "no event loop attached");
        assert_null(jobs_worker_get_event(w));
        assert_int_equal(jobs_worker_attach_event(w, e, 5), 0);
        assert_ptr_equal(jobs_worker_get_event(w), e);
        assert_int_equal(jobs_worker_attach_event(w, e, 5), -EBUSY);
        assert_errstr_has(w, "attached already");
        assert_int_equal(jobs_worker_run(w), -EBUSY);
        assert_errstr_has(w, "call jobs_worker_start()");

        signals_set(false, true);
        assert_int_equal(jobs_worker_start(w, NULL, NULL), -EINVAL);
        assert_errstr_has(w, "SIGCHLD is not blocked");
        signals_set(true, false);
        assert_int_equal(jobs_worker_start(w, NULL, NULL), -EINVAL);
        assert_errstr_has(w, "SIGPIPE");
        signals_set(true, true);
        jobs_worker_stop(w); /* not started: nothing happens */
        assert_int_equal(w->state, WORKER_STARTING);

        /* The program's signals stay the program's: none blocked, none watched by the worker. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTSTP);
        sigaddset(&mask, SIGHUP);
        assert_int_equal(sigprocmask(SIG_UNBLOCK, &mask, NULL), 0);
        assert_int_equal(jobs_worker_start(w, on_stopped_count, &calls), 0);
        assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
        assert_false(sigismember(&mask, SIGTERM) || sigismember(&mask, SIGINT) || sigismember(&mask, SIGTSTP) ||
                     sigismember(&mask, SIGHUP));
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        assert_int_equal(sd_event_add_signal(e, &s, SIGTERM, NULL, NULL), 0);
        s = sd_event_source_unref(s);
        /* Every source of the worker has the priority it was attached with. */
        sd_event_source *sources[] = { w->kick, w->sigchld, w->stopped, w->heartbeat.timer };
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                int64_t priority = 0;
                assert_int_equal(sd_event_source_get_priority(sources[i], &priority), 0);
                assert_int_equal(priority, 5);
        }

        assert_int_equal(jobs_worker_attach_event(w, e, 0), -EBUSY);
        assert_errstr_has(w, "already started");
        assert_int_equal(jobs_worker_start(w, NULL, NULL), -EBUSY);
        assert_errstr_has(w, "already started");
        assert_int_equal(jobs_worker_run(w), -EBUSY);
        assert_int_equal(jobs_worker_set_concurrency(w, 2), -EBUSY);

        jobs_worker_stop(w);
        assert_int_equal(sd_event_loop(e), 0); /* on_stopped_count exits it */
        assert_int_equal(calls, 1);
        assert_int_equal(w->state, WORKER_STOPPED);
        assert_null(w->redis);
        assert_null(w->kick);
        assert_null(w->sigchld);
        jobs_worker_stop(w); /* stopped: nothing happens */
        assert_int_equal(calls, 1);
        e = sd_event_unref(e);
        w = jobs_worker_free(w);

        /* Freed by its on_stopped. */
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(jobs_worker_new(&freed), 0);
        assert_int_equal(jobs_worker_set_redis(freed, "unix:///nonexistent/redis.sock"), 0);
        assert_int_equal(jobs_worker_attach_event(freed, e, 0), 0);
        assert_int_equal(jobs_worker_start(freed, on_stopped_free, &freed), 0);
        jobs_worker_stop(freed);
        assert_int_equal(sd_event_loop(e), 0);
        assert_null(freed);
        e = sd_event_unref(e);

        /* A loop with a SIGCHLD source of its own: the worker cannot reap there, and says so. */
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(sd_event_add_signal(e, &s, SIGCHLD, NULL, NULL), 0);
        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_set_redis(w, "unix:///nonexistent/redis.sock"), 0);
        assert_int_equal(jobs_worker_attach_event(w, e, 0), 0);
        assert_int_equal(jobs_worker_start(w, NULL, NULL), -EBUSY);
        assert_errstr_has(w, "has a SIGCHLD source already");
        assert_null(w->kick); /* nothing of the worker stays on the loop */
        assert_null(w->stopped);
        s = sd_event_source_unref(s);
        w = jobs_worker_free(w);

        /* NULL: the thread's default loop. */
        assert_int_equal(jobs_worker_new(&w), 0);
        assert_int_equal(jobs_worker_attach_event(w, NULL, 0), 0);
        sd_event *d = NULL;
        assert_int_equal(sd_event_default(&d), 0);
        assert_ptr_equal(jobs_worker_get_event(w), d);
        sd_event_unref(d);
}

static void test_freep(void **state) {
        JobsWorker *w = NULL;

        assert_int_equal(jobs_worker_new(&w), 0);
        jobs_worker_freep(&w);
        assert_null(w);
        jobs_worker_freep(&w); /* again: nothing */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version),
                cmocka_unit_test(test_null_worker),
                cmocka_unit_test(test_null_job),
                cmocka_unit_test(test_job),
                cmocka_unit_test(test_setting_errors),
                cmocka_unit_test(test_load_config),
                cmocka_unit_test(test_runs_once),
                cmocka_unit_test(test_run_error_text),
                cmocka_unit_test(test_attach),
                cmocka_unit_test(test_freep),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
