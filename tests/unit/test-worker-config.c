/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/worker-config.h"
#include "model/job.h"

static char *write_tmp(const char *text) {
        char *path = strdup("/tmp/test-worker-config.XXXXXX");
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

static int load(WorkerConfig *c, const char *text, char **error) {
        _cleanup_free_ char *p = write_tmp(text);
        int r;

        *error = NULL;
        r = worker_config_load(c, p, error);
        unlink(p);
        return r;
}

static void test_queues(void **state) {
        WorkerConfig c;
        const char *reason = NULL;

        worker_config_init(&c);
        assert_int_equal(worker_config_add_queue(&c, "critical,2", &reason), 0);
        assert_int_equal(worker_config_add_queue(&c, "default", &reason), 0);
        assert_int_equal(c.n_queues, 2);
        assert_string_equal(c.queues[0].name, "critical");
        assert_int_equal(c.queues[0].weight, 2);
        assert_int_equal(c.queues[1].weight, 0);
        assert_true(worker_config_weighted(&c));
        assert_int_equal(worker_config_add_queue(&c, "default", &reason), -EINVAL);
        assert_int_equal(worker_config_add_queue(&c, "x,0", &reason), -EINVAL);
        assert_int_equal(worker_config_add_queue(&c, "x,101", &reason), -EINVAL);
        assert_int_equal(worker_config_add_queue(&c, "x,2x", &reason), -EINVAL);
        assert_int_equal(worker_config_add_queue(&c, "bad queue", &reason), -EINVAL);
        assert_int_equal(worker_config_add_queue(&c, "", &reason), -EINVAL);
        worker_config_done(&c);
        assert_int_equal(c.n_queues, 0);
}

static void test_file(void **state) {
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c,
                              "# comment\n"
                              "; also a comment\n"
                              "[Worker]\n"
                              "Redis = unix:///run/redis.sock\n"
                              "Queue=old\n"
                              "Queue=\n"
                              "Queue=critical,3 default\n"
                              "Concurrency=12\n"
                              "TimeoutSec=30min\n"
                              "Timeout=NightlyReport 2h\n"
                              "Timeout=NightlyReport 3h\n"
                              "ShutdownTimeoutSec=1min\n"
                              "Handler=SayHello /opt/say hello\n"
                              "HandlerDirectory=/srv/handlers\n"
                              "Tag=blue\n"
                              "MaxPayload=4096\n",
                              &error),
                         0);
        assert_string_equal(c.redis_url, "unix:///run/redis.sock");
        assert_int_equal(c.n_queues, 2);
        assert_string_equal(c.queues[0].name, "critical");
        assert_int_equal(c.queues[0].weight, 3);
        assert_string_equal(c.queues[1].name, "default");
        assert_int_equal(c.concurrency, 12);
        assert_int_equal(c.job_timeout, 30 * USEC_PER_MINUTE);
        assert_int_equal(worker_config_timeout_for(&c, "NightlyReport"), 3 * USEC_PER_HOUR);
        assert_int_equal(worker_config_timeout_for(&c, "Other"), 30 * USEC_PER_MINUTE);
        assert_int_equal(c.n_timeouts, 1);
        assert_int_equal(c.shutdown_timeout, USEC_PER_MINUTE);
        assert_string_equal(c.handlers[0].class, "SayHello");
        assert_string_equal(c.handlers[0].path, "/opt/say hello");
        assert_string_equal(c.handler_dirs[0], "/srv/handlers");
        assert_null(c.handler_dirs[1]);
        assert_string_equal(c.tag, "blue");
        assert_int_equal(c.max_payload, 4096);
        worker_config_done(&c);
}

static void test_pools(void **state) {
        _cleanup_free_ char *error = NULL;
        const PoolConfig *p;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c, "[Worker]\nConcurrency=8\n"
                                  "[Pool]\nName=rails\nClass=Reports::* Mail\nClass=Billing::?x\n"
                                  "ExecStart=/usr/bin/ruby  -r ./app.rb\nSize=4\nMaxJobsPerProcess=1000\nTimeoutSec=30s\n"
                                  "MemoryMax=1G\nTasksMax=infinity\nCPUQuota=50%\n"
                                  "[Pool]\nClass=*\nExecStart=/bin/cat\n"
                                  "[Worker]\nTag=x\n", &error), 0);
        assert_null(error);
        assert_int_equal(c.concurrency, 8);
        assert_string_equal(c.tag, "x");
        assert_int_equal(c.n_pools, 2);
        p = &c.pools[0];
        assert_string_equal(p->name, "rails");
        assert_int_equal(p->n_patterns, 3);
        assert_string_equal(p->argv[0], "/usr/bin/ruby");
        assert_string_equal(p->argv[1], "-r");
        assert_string_equal(p->argv[2], "./app.rb");
        assert_null(p->argv[3]);
        assert_int_equal(p->size, 4);
        assert_int_equal(p->max_jobs, 1000);
        assert_int_equal(p->timeout, 30 * USEC_PER_SEC);
        assert_int_equal(p->start_timeout, POOL_START_TIMEOUT_DEFAULT);
        assert_int_equal(p->limits.memory_max, 1024 * 1024 * 1024);
        assert_int_equal(p->limits.tasks_max, EXEC_INFINITY);
        assert_int_equal(p->limits.cpu_quota_usec, EXEC_CPU_QUOTA_PERIOD_USEC / 2);
        assert_int_equal(p->limits.cpu_weight, EXEC_UNSET);
        assert_string_equal(c.pools[1].name, "pool2");
        assert_int_equal(c.pools[1].limits.memory_max, EXEC_UNSET);
        assert_int_equal(c.pools[1].size, 1);
        /* the first pool that matches, in file order */
        assert_ptr_equal(worker_config_pool_for(&c, "Reports::Nightly"), p);
        assert_ptr_equal(worker_config_pool_for(&c, "Billing::Ax"), p);
        assert_ptr_equal(worker_config_pool_for(&c, "Mail"), p);
        assert_ptr_equal(worker_config_pool_for(&c, "Mailer"), &c.pools[1]);
        PoolConfig copy;
        assert_int_equal(pool_config_copy(p, &copy), 0);
        assert_string_equal(copy.argv[2], "./app.rb");
        assert_int_equal(copy.limits.memory_max, 1024 * 1024 * 1024);
        assert_true(pool_config_matches(&copy, "Reports::X"));
        pool_config_done(&copy);
        worker_config_done(&c);
        assert_int_equal(c.n_pools, 0);
}

static void test_errors(void **state) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "Concurrency=5\n", ":1: Concurrency=5: assignment outside of a [Worker] section" },
                { "[Service]\n", ":1: unknown section [Service]" },
                { "[Worker]\nNoEquals\n", ":2: NoEquals: missing '='; lines are Key=Value" },
                { "[Worker\nConcurrency=2\n", ":1: [Worker: invalid section header" },
                { "[Worker]\n=2\n", ":2: =2: empty key" },
                { "\n[Worker]\nQueue=a \\\n  b,0\n", ":3: Queue=a" },
                { "[Worker]\nConcurrency=0\n", ":2: Concurrency=0: Concurrency= must be a number from 1 to 1024" },
                { "[Worker]\nConcurrency=1025\n", ":2: Concurrency=1025:" },
                { "[Worker]\nTimeoutSec=soon\n", ":2: TimeoutSec=soon: invalid duration" },
                { "[Worker]\nTimeout=Foo\n", ":2: Timeout=Foo: expected \"Class duration\"" },
                { "[Worker]\nTimeout=../etc 1s\n", ":2: Timeout=../etc 1s: class names" },
                { "[Worker]\nHandler=Foo relative/path\n", ":2: Handler=Foo relative/path: the handler must be an absolute path" },
                { "[Worker]\nHandler=a/b /bin/true\n", ":2: Handler=a/b /bin/true: class names" },
                { "[Worker]\nHandlerDirectory=handlers\n", ":2: HandlerDirectory=handlers: a handler directory must be an absolute path" },
                { "[Worker]\nMaxPayload=10\n", ":2: MaxPayload=10:" },
                { "[Worker]\nQueue=a,0\n", ":2: Queue=a,0: queue weight" },
                { "[Worker]\nFrobnicate=1\n", ":2: Frobnicate=1: unknown setting" },
                { "[Pool]\nExecStart=/bin/true\n", ":1: this [Pool] has no Class=" },
                { "[Pool]\nClass=A\n[Worker]\n", ":1: this [Pool] has no ExecStart=" },
                { "[Pool]\nClass=A\nExecStart=true\n", ":3: ExecStart=true: ExecStart= needs an absolute path" },
                { "[Pool]\nClass=a/b\n", ":2: Class=a/b: Class= takes class names or fnmatch patterns" },
                { "[Pool]\nSize=0\n", ":2: Size=0: Size= must be a number of processes from 1 to 256" },
                { "[Pool]\nConcurrency=2\n", ":2: Concurrency=2: unknown setting in [Pool]" },
                { "[Pool]\nCPUWeight=0\n", ":2: CPUWeight=0: CPUWeight= is a number from 1 to 10000" },
                { "[Pool]\nUMask=0077\n", ":2: UMask=0077: unknown setting in [Pool]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                WorkerConfig c;

                worker_config_init(&c);
                assert_int_equal(load(&c, cases[i].text, &error), -EINVAL);
                assert_non_null(error);
                if (!strstr(error, cases[i].error))
                        fail_msg("case %zu: '%s' does not contain '%s'", i, error, cases[i].error);
                worker_config_done(&c);
        }
}

static void test_intervals(void **state) {
        static const struct {
                const char *text, *error;
        } bad[] = {
                { "[Worker]\nHeartbeatSec=50ms\n", ":2: HeartbeatSec=50ms: HeartbeatSec= must be a duration from 100ms to 5s" },
                { "[Worker]\nHeartbeatSec=6s\n", ":2: HeartbeatSec=6s: HeartbeatSec= must be" },
                { "[Worker]\nHeartbeatSec=0\n", ":2: HeartbeatSec=0:" },
                { "[Worker]\nPollIntervalSec=soon\n", ":2: PollIntervalSec=soon: PollIntervalSec= must be a duration from 100ms to 1h" },
                { "[Worker]\nPollIntervalSec=2h\n", ":2: PollIntervalSec=2h:" },
                { "[Worker]\nIdleWaitSec=500ms\n", ":2: IdleWaitSec=500ms: IdleWaitSec= must be a duration from 1s to 1h" },
                { "[Worker]\nIdleWaitSec=2h\n", ":2: IdleWaitSec=2h:" },
        };
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(c.heartbeat, 5 * USEC_PER_SEC);
        assert_int_equal(c.poll_average, 5 * USEC_PER_SEC);
        assert_int_equal(c.idle_wait, 0);
        assert_int_equal(load(&c, "[Worker]\nIdleWaitSec=1h\n", &error), 0);
        assert_int_equal(c.idle_wait, USEC_PER_HOUR);
        assert_int_equal(load(&c, "[Worker]\nIdleWaitSec=\n", &error), 0);
        assert_int_equal(c.idle_wait, 0);
        assert_int_equal(load(&c, "[Worker]\nHeartbeatSec=200ms\nPollIntervalSec=0.3s\n", &error), 0);
        assert_int_equal(c.heartbeat, 200 * USEC_PER_MSEC);
        assert_int_equal(c.poll_average, 300 * USEC_PER_MSEC);
        assert_int_equal(load(&c, "[Worker]\nHeartbeatSec=5s\nPollIntervalSec=1h\n", &error), 0);
        assert_int_equal(c.heartbeat, 5 * USEC_PER_SEC);
        assert_int_equal(c.poll_average, USEC_PER_HOUR);
        /* empty: the defaults again */
        assert_int_equal(load(&c, "[Worker]\nHeartbeatSec=100ms\nHeartbeatSec=\nPollIntervalSec=\n", &error), 0);
        assert_int_equal(c.heartbeat, 5 * USEC_PER_SEC);
        assert_int_equal(c.poll_average, 5 * USEC_PER_SEC);
        worker_config_done(&c);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *e = NULL;

                worker_config_init(&c);
                assert_int_equal(load(&c, bad[i].text, &e), -EINVAL);
                assert_non_null(e);
                if (!strstr(e, bad[i].error))
                        fail_msg("case %zu: '%s' does not contain '%s'", i, e, bad[i].error);
                assert_int_equal(c.heartbeat, 5 * USEC_PER_SEC);
                assert_int_equal(c.poll_average, 5 * USEC_PER_SEC);
                worker_config_done(&c);
        }
}

/* systemd.syntax(7) as the man page promises: continuations (comment lines inside them dropped), a
 * BOM, CRLF, X- sections and keys ignored. */
static void test_syntax(void **state) {
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c,
                              "\xef\xbb\xbf[Worker]\r\n"
                              "Queue=a \\\n"
                              "  b\n"
                              "Queue=c\\\n"
                              "# a comment inside the continuation\n"
                              "  d,2 \\\n"
                              "   e\n"
                              "X-Owner=team\n"
                              "[X-Notes]\n"
                              "Concurrency=not a number\n"
                              "Anything\n"
                              "[Worker]\n"
                              "Concurrency=7\n",
                              &error),
                         0);
        assert_null(error);
        assert_int_equal(c.n_queues, 5);
        assert_string_equal(c.queues[0].name, "a");
        assert_string_equal(c.queues[1].name, "b");
        assert_string_equal(c.queues[2].name, "c");
        assert_string_equal(c.queues[3].name, "d");
        assert_int_equal(c.queues[3].weight, 2);
        assert_string_equal(c.queues[4].name, "e");
        assert_int_equal(c.concurrency, 7);
        worker_config_done(&c);
}

/* Key= restores the default of every setting, as in unit files. */
static void test_empty_resets(void **state) {
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c,
                              "[Worker]\nRedis=redis://h\nTag=blue\nConcurrency=9\nMaxPayload=4096\nTimeoutSec=5s\n"
                              "ShutdownTimeoutSec=1s\nQueue=a\n"
                              "Redis=\nTag=\nConcurrency=\nMaxPayload=\nTimeoutSec=\nShutdownTimeoutSec=\nQueue=\n",
                              &error),
                         0);
        assert_null(c.redis_url);
        assert_null(c.tag);
        assert_int_equal(c.concurrency, WORKER_CONCURRENCY_DEFAULT);
        assert_int_equal(c.max_payload, JOB_PAYLOAD_MAX_DEFAULT);
        assert_int_equal(c.job_timeout, 0);
        assert_int_equal(c.shutdown_timeout, WORKER_SHUTDOWN_TIMEOUT_DEFAULT);
        assert_int_equal(c.n_queues, 0);
        worker_config_done(&c);
}

/* A password in a line that is quoted back (here "=" is missing) is never shown. */
static void test_secret_not_echoed(void **state) {
        static const char *const texts[] = {
                "[Worker]\nRedis redis://:Hunter2PW@db.example\n",
                "[Worker]\nTag=redis://:Hunter2PW@db.example\nBogus=unix:///s?password=Hunter2PW\n",
                "Redis=redis://:Hunter2PW@db.example\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_free_ char *error = NULL;
                WorkerConfig c;

                worker_config_init(&c);
                assert_int_equal(load(&c, texts[i], &error), -EINVAL);
                assert_non_null(error);
                if (strstr(error, "Hunter2PW") || !strstr(error, "***"))
                        fail_msg("case %zu: '%s'", i, error);
                worker_config_done(&c);
        }
}

static void test_missing(void **state) {
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(worker_config_load(&c, "/nonexistent/worker.conf", &error), -ENOENT);
        assert_null(error);
        worker_config_done(&c);
}

static void test_empty_handler_dirs(void **state) {
        _cleanup_free_ char *error = NULL;
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c, "[Worker]\nHandlerDirectory=/a\nHandlerDirectory=\n", &error), 0);
        assert_non_null(c.handler_dirs);
        assert_null(c.handler_dirs[0]);
        worker_config_done(&c);
}

static void test_class_exec(void **state) {
        _cleanup_free_ char *error = NULL;
        const ExecSettings *cls;
        ExecSettings m;
        const char **env = NULL;
        char *from[] = { "PATH=/bin", "REDIS_URL=redis://:pw@h", "HOME=/root", "TEAM=blue", "TZ=UTC", NULL };
        char *extra[] = { "JOB_ID=1", NULL };
        WorkerConfig c;

        worker_config_init(&c);
        assert_int_equal(load(&c,
                              "[Worker]\nEnvironment=\"A=1 2\" B=x\nPassEnvironment=TEAM\nMemoryMax=1G\nUMask=0027\n"
                              "[Class Report]\nEnvironment=B=y\nMemoryMax=512K\nCPUQuota=150%\nCPUWeight=20\n"
                              "TasksMax=infinity\nWorkingDirectory=/srv\n",
                              &error),
                         0);
        assert_null(worker_config_exec_for(&c, "Other"));
        cls = worker_config_exec_for(&c, "Report");
        assert_non_null(cls);
        exec_settings_merge(&c.exec, cls, &m);
        assert_int_equal(m.memory_max, 512 * 1024);
        assert_int_equal(m.cpu_quota_usec, 150000);
        assert_int_equal(m.cpu_weight, 20);
        assert_true(m.tasks_max == EXEC_INFINITY);
        assert_int_equal(m.umask, 0027);
        assert_string_equal(m.working_directory, "/srv");
        exec_settings_merge(&c.exec, NULL, &m);
        assert_int_equal(m.memory_max, 1024ULL * 1024 * 1024);
        assert_true(m.cpu_weight == EXEC_UNSET);

        assert_int_equal(exec_env_build(from, &c.exec, cls, extra, 1, &env), 0);
        /* PATH, TZ, TEAM, A, B (the class's value), JOB_ID: nothing else of the worker's */
        assert_string_equal(env[0], "PATH=/bin");
        assert_string_equal(env[1], "TZ=UTC");
        assert_string_equal(env[2], "TEAM=blue");
        assert_string_equal(env[3], "A=1 2");
        assert_string_equal(env[4], "B=y");
        assert_string_equal(env[5], "JOB_ID=1");
        assert_null(env[6]);
        free(env);
        worker_config_done(&c);

        static const char *const bad[] = {
                "[Worker]\nPassEnvironment=REDIS_URL\n", "[Worker]\nEnvironment=CREDENTIALS_DIRECTORY=/x\n",
                "[Worker]\nEnvironment=JOB_ID=1\n",       "[Worker]\nEnvironment=NOEQUALS\n",
                "[Worker]\nMemoryMax=12Q\n",               "[Worker]\nCPUQuota=50\n",
                "[Worker]\nCPUWeight=0\n",                 "[Worker]\nTasksMax=0\n",
                "[Class ../x]\n",                          "[Class A]\nQueue=a\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *e = NULL;
                worker_config_init(&c);
                if (load(&c, bad[i], &e) != -EINVAL || !e)
                        fail_msg("case %zu accepted: %s", i, bad[i]);
                worker_config_done(&c);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_queues),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_empty_resets),
                cmocka_unit_test(test_secret_not_echoed),
                cmocka_unit_test(test_missing),
                cmocka_unit_test(test_intervals),
                cmocka_unit_test(test_empty_handler_dirs),
                cmocka_unit_test(test_pools),
                cmocka_unit_test(test_class_exec),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
