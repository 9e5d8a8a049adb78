/* SPDX-License-Identifier: MIT */
/* The worker engine end to end through libjobs' public API (jobs/jobs.h), as beanstalkd's testserv.c
 * tests its server: a private redis-server on a unix socket in a temporary directory, workers forked
 * from the test running C handlers, and the test reading Redis (hiredis) to check what they did:
 * acks and stats, Sidekiq's retry fields, the poller, dead and dropped jobs, invalid payloads, the
 * heartbeat, stopping through the signal list, recovery of a killed worker's in-flight jobs, and a
 * worker attached to a program's own sd-event loop.
 * Workers beat and poll every 200 ms (HeartbeatSec=, PollIntervalSec=); every wait polls Redis or
 * a file until a deadline, and nothing asserts a duration. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <systemd/sd-event.h>

#include "jobs/jobs.h"

#define DEADLINE_SEC 60 /* for anything awaited: generous, the machine may be loaded */
#define WORKERS_MAX 4

typedef struct Test {
        char dir[64], sock[128], conf[128], log[128], url[160];
        pid_t server;
        redisContext *redis;
        pid_t workers[WORKERS_MAX];
} Test;

static Test t;

/* --- the private redis-server --------------------------------------------------------------- */

static double mono_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static redisContext *connect_or_null(void) {
        redisContext *rc = redisConnectUnix(t.sock);
        if (rc && !rc->err)
                return rc;
        redisFree(rc);
        return NULL;
}

static void server_start(void) {
        double deadline = mono_now() + DEADLINE_SEC;

        t.server = fork();
        assert_true(t.server >= 0);
        if (t.server == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, STDOUT_FILENO);
                execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", t.sock, "--save", "",
                       "--appendonly", "no", "--dir", t.dir, NULL);
                _exit(127);
        }
        /* Ready when it answers: the socket exists a moment before the server listens. */
        while (!(t.redis = connect_or_null())) {
                assert_true(mono_now() < deadline);
                assert_int_equal(waitpid(t.server, NULL, WNOHANG), 0);
                usleep(20 * 1000);
        }
}

static redisReply *vcmd(const char *fmt, va_list ap) {
        redisReply *r = redisvCommand(t.redis, fmt, ap);
        if (!r)
                fail_msg("redis: %s", t.redis->errstr);
        return r;
}

/* A command's reply; the test fails on a connection error. */
static redisReply *cmd(const char *fmt, ...) {
        redisReply *r;
        va_list ap;

        va_start(ap, fmt);
        r = vcmd(fmt, ap);
        va_end(ap);
        return r;
}

/* An integer reply, or a string one as a number; 0 for nil. */
static long long cmd_int(const char *fmt, ...) {
        redisReply *r;
        long long v = -1;
        va_list ap;

        va_start(ap, fmt);
        r = vcmd(fmt, ap);
        va_end(ap);
        if (r->type == REDIS_REPLY_INTEGER)
                v = r->integer;
        else if (r->type == REDIS_REPLY_STRING)
                v = strtoll(r->str, NULL, 10);
        else if (r->type == REDIS_REPLY_NIL)
                v = 0;
        freeReplyObject(r);
        return v;
}

/* The only member of a sorted set, parsed; NULL if it has none. */
static json_t *only_member(const char *set) {
        redisReply *r = cmd("ZRANGE %s 0 -1", set);
        json_t *o = NULL;

        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        if (r->elements == 1) {
                o = json_loads(r->element[0]->str, 0, NULL);
                assert_non_null(o);
        }
        freeReplyObject(r);
        return o;
}

static bool field_is(const char *key, const char *field, const char *want) {
        redisReply *r = cmd("HGET %s %s", key, field);
        bool is = r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
        freeReplyObject(r);
        return is;
}

/* The hash field differs from *last (which it then holds). */
static bool field_changed(const char *key, const char *field, char *last, size_t n) {
        redisReply *r = cmd("HGET %s %s", key, field);
        bool changed = r->type == REDIS_REPLY_STRING && strcmp(r->str, last) != 0;

        if (changed)
                snprintf(last, n, "%s", r->str);
        freeReplyObject(r);
        return changed;
}

#define WAIT_FOR(what, cond)                                                             \
        do {                                                                             \
                double _deadline = mono_now() + DEADLINE_SEC;                            \
                while (!(cond)) {                                                        \
                        if (mono_now() > _deadline)                                      \
                                fail_msg("timed out waiting for %s", what);              \
                        usleep(20 * 1000);                                               \
                }                                                                        \
        } while (0)

/* --- jobs ----------------------------------------------------------------------------------- */

static void push(const char *class, const char *jid, const char *args, const char *retry) {
        char payload[512];

        snprintf(payload, sizeof payload,
                 "{\"class\":\"%s\",\"args\":%s,\"retry\":%s,\"queue\":\"default\",\"jid\":\"%s\","
                 "\"created_at\":1764240000.5,\"enqueued_at\":1764240000.5}",
                 class, args, retry, jid);
        freeReplyObject(cmd("SADD queues default"));
        assert_true(cmd_int("LPUSH queue:default %s", payload) > 0);
}

static void jid_of(unsigned i, char ret[25]) {
        snprintf(ret, 25, "%024x", i);
}

/* Lines the handlers wrote: "<worker tag> <class> <jid> <retry_count> <args>". */
static unsigned log_count(const char *needle) {
        FILE *f = fopen(t.log, "re");
        char line[512];
        unsigned n = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (strstr(line, needle))
                        n++;
        fclose(f);
        return n;
}

static long long inflight_total(void) {
        redisReply *r = cmd("HKEYS jobs:inflight");
        long long n = 0;

        for (size_t i = 0; i < r->elements; i++)
                n += cmd_int("LLEN %s", r->element[i]->str);
        freeReplyObject(r);
        return n;
}

/* --- workers: forked children running the public API ------------------------------------------ */

typedef struct Handler {
        char tag[8];
        int fd;
} Handler;

static void record(Handler *h, JobsJob *job) {
        char line[512];
        int n = snprintf(line, sizeof line, "%s %s %s %d %s\n", h->tag, jobs_job_class(job), jobs_job_id(job),
                         jobs_job_retry_count(job), jobs_job_args(job));
        assert_true(n > 0 && (size_t) n < sizeof line);
        assert_int_equal(write(h->fd, line, (size_t) n), n); /* O_APPEND: one line at a time */
}

static int on_ok(JobsJob *job, void *userdata) {
        record(userdata, job);
        return 0;
}

static int on_fail(JobsJob *job, void *userdata) {
        record(userdata, job);
        return jobs_job_fail(job, "TestError", "failed with args %s", jobs_job_args(job));
}

static int on_errno(JobsJob *job, void *userdata) {
        record(userdata, job);
        return -ENOENT;
}

/* Returns once the test creates the gate file (the worker's loop waits meanwhile). */
static int on_gate(JobsJob *job, void *userdata) {
        char gate[160];
        double deadline = mono_now() + DEADLINE_SEC;

        record(userdata, job);
        snprintf(gate, sizeof gate, "%s/gate", t.dir);
        while (access(gate, F_OK) < 0 && mono_now() < deadline)
                usleep(10 * 1000);
        return 0;
}

/* Blocks its worker until the test kills it. */
static int on_block(JobsJob *job, void *userdata) {
        record(userdata, job);
        for (;;)
                pause();
        return 0;
}

/* A worker on queue default running the handlers above; Block blocks when block is true, else it
 * finishes like Ok. Returns its pid; its exit status is 0 when jobs_worker_run() returned 0. */
static pid_t worker_start(const char *tag, unsigned concurrency, bool block) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                Handler h = { .fd = open(t.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) };
                JobsWorker *w = NULL;
                int r;

                snprintf(h.tag, sizeof h.tag, "%s", tag);
                redisFree(t.redis); /* the test's connection is not the worker's */
                t.redis = NULL;
                jobs_log_open("test-engine");
                r = h.fd < 0 ? -errno : jobs_worker_new(&w);
                if (r >= 0)
                        r = jobs_worker_load_config(w, t.conf);
                if (r >= 0)
                        r = jobs_worker_set_redis(w, t.url);
                if (r >= 0)
                        r = jobs_worker_add_queue(w, "default");
                if (r >= 0)
                        r = jobs_worker_set_concurrency(w, concurrency);
                if (r >= 0)
                        r = jobs_worker_register(w, "Ok", on_ok, &h);
                if (r >= 0)
                        r = jobs_worker_register(w, "Fail", on_fail, &h);
                if (r >= 0)
                        r = jobs_worker_register(w, "Errno", on_errno, &h);
                if (r >= 0)
                        r = jobs_worker_register(w, "Block", block ? on_block : on_ok, &h);
                if (r >= 0)
                        r = jobs_worker_register(w, "Gate", on_gate, &h);
                if (r >= 0)
                        r = jobs_worker_run(w);
                jobs_worker_free(w);
                if (h.fd >= 0)
                        close(h.fd);
                if (r < 0)
                        fprintf(stderr, "worker %s: %s\n", tag, strerror(-r));
                exit(r < 0 ? 1 : 0); /* exit(), not _exit(): LeakSanitizer checks the worker too */
        }
        for (size_t i = 0; i < WORKERS_MAX; i++)
                if (t.workers[i] == 0) {
                        t.workers[i] = pid;
                        return pid;
                }
        fail_msg("too many workers");
        return -1;
}

static void worker_forget(pid_t pid) {
        for (size_t i = 0; i < WORKERS_MAX; i++)
                if (t.workers[i] == pid)
                        t.workers[i] = 0;
}

/* Waits for the worker to exit by itself; returns its exit status. */
static int worker_wait(pid_t pid) {
        double deadline = mono_now() + DEADLINE_SEC;
        int status = 0;
        pid_t r;

        while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
                if (mono_now() > deadline)
                        fail_msg("worker %d did not exit", (int) pid);
                usleep(20 * 1000);
        }
        assert_int_equal(r, pid);
        worker_forget(pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static int worker_stop(pid_t pid) {
        assert_int_equal(kill(pid, SIGTERM), 0);
        return worker_wait(pid);
}

static void worker_kill(pid_t pid) {
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        worker_forget(pid);
}

/* The identity the worker registered in `processes`: "<hostname>:<pid>:<12 hex>". */
static bool identity_of(pid_t pid, char *ret, size_t n) {
        redisReply *r = cmd("SMEMBERS processes");
        char needle[32];
        bool found = false;

        snprintf(needle, sizeof needle, ":%d:", (int) pid);
        for (size_t i = 0; i < r->elements && !found; i++)
                if (strstr(r->element[i]->str, needle)) {
                        snprintf(ret, n, "%s", r->element[i]->str);
                        found = true;
                }
        freeReplyObject(r);
        return found;
}

/* --- fixtures ------------------------------------------------------------------------------- */

static int group_setup(void **state) {
        FILE *f;

        snprintf(t.dir, sizeof t.dir, "/tmp/test-engine.XXXXXX");
        assert_non_null(mkdtemp(t.dir));
        snprintf(t.sock, sizeof t.sock, "%s/redis.sock", t.dir);
        snprintf(t.conf, sizeof t.conf, "%s/worker.conf", t.dir);
        snprintf(t.log, sizeof t.log, "%s/handled", t.dir);
        snprintf(t.url, sizeof t.url, "unix://%s", t.sock);
        f = fopen(t.conf, "we");
        assert_non_null(f);
        /* No handler directories: a class without a C handler has no handler at all. */
        fputs("[Worker]\nHeartbeatSec=200ms\nPollIntervalSec=200ms\nShutdownTimeoutSec=1s\nHandlerDirectory=\n", f);
        assert_int_equal(fclose(f), 0);
        server_start();
        return 0;
}

static int group_teardown(void **state) {
        char path[160];

        redisFree(t.redis);
        kill(t.server, SIGKILL);
        waitpid(t.server, NULL, 0);
        unlink(t.sock);
        unlink(t.conf);
        unlink(t.log);
        snprintf(path, sizeof path, "%s/dump.rdb", t.dir);
        unlink(path);
        rmdir(t.dir);
        return 0;
}

/* Each test on an empty Redis and an empty handler log; workers it left are killed. */
static int setup(void **state) {
        freeReplyObject(cmd("FLUSHALL"));
        unlink(t.log);
        return 0;
}

static int teardown(void **state) {
        for (size_t i = 0; i < WORKERS_MAX; i++)
                if (t.workers[i] > 0)
                        worker_kill(t.workers[i]);
        return 0;
}

/* --- tests ---------------------------------------------------------------------------------- */

static void test_done_and_acked(void **state) {
        char jid[25], needle[64], args[16];
        pid_t w;

        for (unsigned i = 0; i < 50; i++) {
                jid_of(i, jid);
                snprintf(args, sizeof args, "[%u]", i);
                push("Ok", jid, args, "true");
        }
        w = worker_start("A", 3, false);
        WAIT_FOR("50 jobs counted", cmd_int("GET stat:processed") == 50);
        WAIT_FOR("every in-flight list empty", inflight_total() == 0);
        for (unsigned i = 0; i < 50; i++) {
                jid_of(i, jid);
                snprintf(needle, sizeof needle, "A Ok %s -1 [%u]\n", jid, i);
                assert_int_equal(log_count(needle), 1); /* each once, its args, no failure yet */
        }
        assert_int_equal(cmd_int("LLEN queue:default"), 0);
        assert_int_equal(cmd_int("GET stat:failed"), 0);
        assert_int_equal(cmd_int("ZCARD retry") + cmd_int("ZCARD dead"), 0);
        assert_int_equal(worker_stop(w), 0);
        assert_int_equal(cmd_int("SCARD processes"), 0); /* signed off */
        assert_int_equal(cmd_int("HLEN jobs:inflight"), 0);
}

static void test_retry_poller_dead(void **state) {
        json_t *m;
        pid_t w;

        push("Fail", "0123456789abcdef01234567", "[\"x\",1.5]", "2");
        w = worker_start("A", 2, false);

        /* First failure: Sidekiq's fields, retry_count 0. */
        WAIT_FOR("the job in retry", cmd_int("ZCARD retry") == 1);
        m = only_member("retry");
        assert_string_equal(json_string_value(json_object_get(m, "error_class")), "TestError");
        assert_string_equal(json_string_value(json_object_get(m, "error_message")), "failed with args [\"x\",1.5]");
        assert_int_equal(json_integer_value(json_object_get(m, "retry_count")), 0);
        assert_true(json_is_real(json_object_get(m, "failed_at")));
        assert_null(json_object_get(m, "retried_at"));
        json_decref(m);

        /* Due now: the poller moves it back to its queue, it fails again. */
        freeReplyObject(cmd("ZUNIONSTORE retry 1 retry WEIGHTS 0"));
        WAIT_FOR("the second failure", log_count("A Fail 0123456789abcdef01234567 0 ") == 1 &&
                                               cmd_int("ZCARD retry") == 1);
        m = only_member("retry");
        assert_int_equal(json_integer_value(json_object_get(m, "retry_count")), 1);
        assert_true(json_is_real(json_object_get(m, "retried_at")));
        json_decref(m);

        /* The third run exhausts retry: 2. */
        freeReplyObject(cmd("ZUNIONSTORE retry 1 retry WEIGHTS 0"));
        WAIT_FOR("the job in dead", cmd_int("ZCARD dead") == 1);
        assert_int_equal(cmd_int("ZCARD retry"), 0);
        m = only_member("dead");
        assert_int_equal(json_integer_value(json_object_get(m, "retry_count")), 2);
        assert_string_equal(json_string_value(json_array_get(json_object_get(m, "args"), 0)), "x");
        json_decref(m);
        assert_int_equal(log_count(" Fail "), 3);
        WAIT_FOR("the counters", cmd_int("GET stat:failed") == 3 && cmd_int("GET stat:processed") == 3);
        WAIT_FOR("every in-flight list empty", inflight_total() == 0);
        assert_int_equal(worker_stop(w), 0);
}

static void test_dropped_dead_invalid_unknown(void **state) {
        json_t *m;
        pid_t w;

        w = worker_start("A", 2, false);
        /* retry: false is dropped; retry: 0 goes straight to dead; an errno fails like jobs_job_fail */
        push("Fail", "00000000000000000000000a", "[]", "false");
        WAIT_FOR("the dropped job counted", cmd_int("GET stat:failed") == 1);
        push("Errno", "00000000000000000000000b", "[]", "0");
        WAIT_FOR("retry: 0 in dead", cmd_int("ZCARD dead") == 1);
        m = only_member("dead");
        assert_string_equal(json_string_value(json_object_get(m, "jid")), "00000000000000000000000b");
        assert_string_equal(json_string_value(json_object_get(m, "error_class")), "HandlerError");
        assert_non_null(strstr(json_string_value(json_object_get(m, "error_message")), strerror(ENOENT)));
        json_decref(m);
        assert_int_equal(cmd_int("ZCARD retry"), 0);

        /* Not JSON: kept whole in a dead entry that says why, the worker lives on. */
        assert_true(cmd_int("LPUSH queue:default %s", "not json {") > 0);
        WAIT_FOR("the invalid payload in dead", cmd_int("ZCARD dead") == 2);
        assert_int_equal(cmd_int("EVAL %s 0",
                                 "for _, m in ipairs(redis.call('ZRANGE', 'dead', 0, -1)) do "
                                 "local d = cjson.decode(m) "
                                 "if d.payload == 'not json {' and d.class == 'JobsInvalidPayload' and d.error_message then "
                                 "return 1 end end return 0"), 1);

        /* No handler for the class (no handler directories either): a failure, retried. */
        push("Nobody", "00000000000000000000000c", "[]", "true");
        WAIT_FOR("the unknown class in retry", cmd_int("ZCARD retry") == 1);
        m = only_member("retry");
        assert_string_equal(json_string_value(json_object_get(m, "error_class")), "NameError");
        json_decref(m);
        assert_int_equal(log_count("00000000000000000000000c"), 0);
        assert_int_equal(worker_stop(w), 0);
}

static void test_heartbeat_and_signals(void **state) {
        char id[256], beat[64] = "";
        redisReply *r;
        json_t *info;
        pid_t w;

        w = worker_start("A", 4, false);
        WAIT_FOR("the worker in processes", identity_of(w, id, sizeof id));
        r = cmd("HGET %s info", id);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        info = json_loads(r->str, 0, NULL);
        freeReplyObject(r);
        assert_non_null(info);
        assert_int_equal(json_integer_value(json_object_get(info, "concurrency")), 4);
        assert_int_equal(json_integer_value(json_object_get(info, "pid")), w);
        assert_string_equal(json_string_value(json_array_get(json_object_get(info, "queues"), 0)), "default");
        json_decref(info);
        assert_int_equal(cmd_int("EXISTS jobs:alive:%s", id), 1);

        /* It keeps beating: the beat changes twice. */
        for (int i = 0; i < 3; i++)
                WAIT_FOR("a heartbeat", field_changed(id, "beat", beat, sizeof beat));

        /* TSTP: quiet (no new jobs); TERM: exits 0 and signs off, the job stays queued. */
        assert_true(cmd_int("LPUSH %s-signals TSTP", id) > 0);
        WAIT_FOR("quiet=true", field_is(id, "quiet", "true"));
        push("Ok", "00000000000000000000000d", "[]", "true");
        assert_true(cmd_int("LPUSH %s-signals TERM", id) > 0);
        assert_int_equal(worker_wait(w), 0);
        assert_int_equal(cmd_int("LLEN queue:default"), 1);
        assert_int_equal(log_count("00000000000000000000000d"), 0);
        assert_int_equal(cmd_int("SISMEMBER processes %s", id), 0);
        assert_int_equal(cmd_int("EXISTS %s jobs:alive:%s", id, id), 0);
}

static void test_recovery_after_kill(void **state) {
        char id[256];
        pid_t a, b;

        push("Block", "00000000000000000000000e", "[1]", "true");
        a = worker_start("A", 1, true);
        WAIT_FOR("A to run the job", log_count("A Block 00000000000000000000000e") == 1);
        assert_true(identity_of(a, id, sizeof id));
        assert_int_equal(inflight_total(), 1);
        worker_kill(a); /* kill -9 mid-job: its in-flight list stays behind */
        assert_int_equal(cmd_int("LLEN queue:default"), 0);

        /* A new worker of the same host sees A's pid gone and takes its job back at once. */
        b = worker_start("B", 1, false);
        WAIT_FOR("B to run the recovered job", log_count("B Block 00000000000000000000000e") == 1);
        WAIT_FOR("the job acked", cmd_int("GET stat:processed") == 1 && inflight_total() == 0);
        WAIT_FOR("A gone from processes", cmd_int("SISMEMBER processes %s", id) == 0);
        assert_int_equal(cmd_int("HLEN jobs:inflight"), 1); /* B's own list only */
        assert_int_equal(worker_stop(b), 0);
}

/* Stopped while Redis does not answer the end of a job: the worker exits after its deadline with
 * the job still in flight, and freeing it must not touch the job from the pending reply's
 * callback (AddressSanitizer makes the worker exit non-zero if it does). */
static void test_stop_with_ack_unanswered(void **state) {
        char gate[160];
        pid_t w;
        int status;

        push("Gate", "000000000000000000000010", "[]", "true");
        w = worker_start("A", 1, false);
        WAIT_FOR("A to run the job", log_count("A Gate 000000000000000000000010") == 1);
        assert_int_equal(kill(t.server, SIGSTOP), 0);
        snprintf(gate, sizeof gate, "%s/gate", t.dir);
        assert_int_equal(close(open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
        assert_int_equal(kill(w, SIGTERM), 0);
        status = worker_wait(w);
        assert_int_equal(kill(t.server, SIGCONT), 0);
        unlink(gate);
        assert_int_equal(status, 0);
}

/* Stopped while Redis is slow to answer the sign-off: heartbeats due meanwhile must not register
 * the worker again (Sidekiq's process list would show it after it exited). Redis is paused for
 * five heartbeat periods, so without the rule at least one beat lands after the sign-off. */
static void test_no_beat_after_sign_off(void **state) {
        char id[256];
        pid_t w;

        w = worker_start("A", 1, false);
        WAIT_FOR("the worker in processes", identity_of(w, id, sizeof id));
        assert_int_equal(kill(t.server, SIGSTOP), 0);
        assert_int_equal(kill(w, SIGTERM), 0);
        usleep(1000 * 1000);
        assert_int_equal(kill(t.server, SIGCONT), 0);
        assert_int_equal(worker_wait(w), 0);
        assert_int_equal(cmd_int("SISMEMBER processes %s", id), 0);
        assert_int_equal(cmd_int("EXISTS %s", id), 0);
}

static void test_scheduled(void **state) {
        char payload[256];
        pid_t w;

        snprintf(payload, sizeof payload,
                 "{\"class\":\"Ok\",\"args\":[\"later\"],\"retry\":true,\"queue\":\"default\","
                 "\"jid\":\"00000000000000000000000f\",\"created_at\":1764240000.5}");
        assert_int_equal(cmd_int("ZADD schedule 1 %s", payload), 1);
        assert_int_equal(cmd_int("ZADD schedule 99999999999 %s", "{\"class\":\"Ok\",\"args\":[\"far\"]}"), 1);
        w = worker_start("A", 1, false);
        WAIT_FOR("the due job to run", log_count("A Ok 00000000000000000000000f -1 [\"later\"]") == 1);
        assert_int_equal(cmd_int("ZCARD schedule"), 1); /* the future one stays */
        assert_int_equal(worker_stop(w), 0);
}

/* --- a worker on a program's own sd-event loop (jobs_worker_attach_event()) --------------------- */

typedef struct Embedder {
        Handler h;
        JobsWorker *w;
        sd_event *e;
        unsigned ticks;
        int ticks_fd;             /* the tick count, for the test to see the loop turn */
        bool stop_asked, stopped;
        int exit_code;
        pid_t child;              /* the program's own, which the worker must leave to it */
} Embedder;

/* The program's own timer: counts, asks the worker to stop once the test made the stop file, and
 * ends the loop one tick after the worker said it stopped (the loop outlives the worker). */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Embedder *m = userdata;
        char path[160], text[24];
        int n;

        n = snprintf(text, sizeof text, "%20u\n", ++m->ticks);
        if (pwrite(m->ticks_fd, text, (size_t) n, 0) != n)
                return sd_event_exit(m->e, 2);
        snprintf(path, sizeof path, "%s/stop", t.dir);
        if (!m->stop_asked && access(path, F_OK) == 0) {
                siginfo_t si = {};
                char line[64];

                /* The program's child exited long ago, while the worker reaped its handlers: still
                 * the program's to reap. */
                n = waitid(P_PID, (id_t) m->child, &si, WEXITED | WNOHANG) < 0 ? -errno : si.si_pid == m->child;
                n = snprintf(line, sizeof line, "own child %d status %d\n", n, si.si_status);
                assert_int_equal(write(m->h.fd, line, (size_t) n), n);
                m->stop_asked = true;
                jobs_worker_stop(m->w);
        }
        if (m->stopped)
                return sd_event_exit(m->e, 0);
        return sd_event_source_set_time_relative(s, 10 * 1000) < 0 ||
               sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0 ? sd_event_exit(m->e, 3) : 0;
}

static void on_worker_stopped(JobsWorker *w, int exit_code, void *userdata) {
        Embedder *m = userdata;
        sd_event_source *own = NULL;
        char line[64];
        int n;

        /* The worker's SIGCHLD source is gone from the loop: the program may add its own. */
        n = snprintf(line, sizeof line, "stopped %d sigchld %d\n", exit_code,
                     sd_event_add_signal(m->e, &own, SIGCHLD, NULL, NULL));
        assert_int_equal(write(m->h.fd, line, (size_t) n), n);
        sd_event_source_unref(own);
        m->stopped = true;
        m->exit_code = exit_code;
}

static pid_t embedder_start(const char *conf) {
        pid_t pid = fork();
        char path[160];

        assert_true(pid >= 0);
        if (pid == 0) {
                Embedder m = { .h = { .tag = "E" } };
                sd_event_source *tick = NULL;
                sigset_t mask;
                int r;

                redisFree(t.redis);
                t.redis = NULL;
                jobs_log_open("test-engine");
                /* What jobs/jobs.h asks of the program: SIGCHLD blocked, SIGPIPE ignored. */
                sigemptyset(&mask);
                sigaddset(&mask, SIGCHLD);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                signal(SIGPIPE, SIG_IGN);
                snprintf(path, sizeof path, "%s/ticks", t.dir);
                m.ticks_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                m.h.fd = open(t.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                r = m.ticks_fd < 0 || m.h.fd < 0 ? -errno : sd_event_new(&m.e);
                if (r >= 0)
                        r = sd_event_add_time_relative(m.e, &tick, CLOCK_MONOTONIC, 10 * 1000, 0, on_tick, &m);
                if (r >= 0)
                        r = jobs_worker_new(&m.w);
                if (r >= 0)
                        r = jobs_worker_load_config(m.w, conf);
                if (r >= 0)
                        r = jobs_worker_set_redis(m.w, t.url);
                if (r >= 0)
                        r = jobs_worker_register(m.w, "Ok", on_ok, &m.h);
                if (r >= 0)
                        r = jobs_worker_attach_event(m.w, m.e, SD_EVENT_PRIORITY_NORMAL);
                if (r >= 0 && (m.child = fork()) == 0)
                        _exit(7);
                if (r >= 0 && m.child < 0)
                        r = -errno;
                if (r >= 0)
                        r = jobs_worker_start(m.w, on_worker_stopped, &m);
                if (r >= 0)
                        r = sd_event_loop(m.e); /* the program's loop: the worker turns with it */
                if (r < 0)
                        fprintf(stderr, "embedder: %s: %s\n", strerror(-r), jobs_worker_errstr(m.w));
                jobs_worker_free(m.w);
                sd_event_source_unref(tick);
                sd_event_unref(m.e);
                exit(r < 0 ? 1 : r > 0 ? r : !m.stopped ? 4 : m.exit_code < 0 ? 5 : 0);
        }
        t.workers[0] = pid;
        return pid;
}

static unsigned ticks_read(void) {
        char path[160], text[24] = "";
        FILE *f;

        snprintf(path, sizeof path, "%s/ticks", t.dir);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (!fgets(text, sizeof text, f))
                text[0] = 0;
        fclose(f);
        return (unsigned) strtoul(text, NULL, 10);
}

/* Jobs run on the program's loop while its own timer keeps firing; the program stops the worker
 * from its timer, is told it stopped (signed off in Redis, sources gone), and ends its loop itself. */
static void test_attached(void **state) {
        char jid[25], path[160], conf[160];
        unsigned ticks;
        FILE *f;
        pid_t w;

        /* Executable handlers too: child processes of the program, which the worker reaps. */
        snprintf(conf, sizeof conf, "%s/attached.conf", t.dir);
        assert_non_null(f = fopen(conf, "we"));
        fputs("[Worker]\nHeartbeatSec=200ms\nPollIntervalSec=200ms\nShutdownTimeoutSec=1s\nHandlerDirectory=\n"
              "Handler=Exe /bin/true\n", f);
        assert_int_equal(fclose(f), 0);
        for (unsigned i = 0; i < 5; i++) {
                jid_of(i, jid);
                push("Ok", jid, "[1]", "true");
        }
        for (unsigned i = 20; i < 23; i++) {
                jid_of(i, jid);
                push("Exe", jid, "[]", "true");
        }
        w = embedder_start(conf);
        WAIT_FOR("8 jobs counted", cmd_int("GET stat:processed") == 8);
        ticks = ticks_read();
        WAIT_FOR("the program's timer to fire on", ticks_read() > ticks + 2);
        for (unsigned i = 5; i < 10; i++) {
                jid_of(i, jid);
                push("Ok", jid, "[2]", "true");
        }
        WAIT_FOR("13 jobs counted", cmd_int("GET stat:processed") == 13);
        assert_int_equal(log_count("E Ok "), 10);
        assert_int_equal(cmd_int("GET stat:failed"), 0); /* the 3 executable ones ended well */
        assert_int_equal(cmd_int("SCARD processes"), 1);

        snprintf(path, sizeof path, "%s/stop", t.dir);
        assert_int_equal(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
        assert_int_equal(worker_wait(w), 0); /* on_stopped came, then the program's timer ended its loop */
        assert_int_equal(log_count("stopped 0 sigchld 0\n"), 1);
        assert_int_equal(log_count("own child 1 status 7\n"), 1);
        assert_int_equal(cmd_int("SCARD processes"), 0); /* signed off */
        assert_int_equal(cmd_int("HLEN jobs:inflight"), 0);
        assert_int_equal(unlink(path), 0);
        snprintf(path, sizeof path, "%s/ticks", t.dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(conf), 0);
}

/* What Rails' SidekiqAdapter pushes (Sidekiq 6, and Sidekiq 7's wrapper): the C handler of the
 * wrapped class runs with the ActiveJob arguments. */
static void test_active_job(void **state) {
        static const char *const wrappers[] = { "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper",
                                                "Sidekiq::ActiveJob::Wrapper" };
        char payload[1024];
        pid_t w;

        for (size_t i = 0; i < 2; i++) {
                snprintf(payload, sizeof payload,
                         "{\"retry\":true,\"queue\":\"default\",\"class\":\"%s\",\"wrapped\":\"%s\","
                         "\"args\":[{\"job_class\":\"%s\",\"job_id\":\"ac7cf277-fae9-4686-8733-81bbc8974a15\","
                         "\"provider_job_id\":null,\"queue_name\":\"default\",\"priority\":null,"
                         "\"arguments\":[1,\"two\",{\"a\":3.0,\"_aj_symbol_keys\":[]}],\"executions\":0,"
                         "\"exception_executions\":{},\"locale\":\"en\",\"timezone\":null,"
                         "\"enqueued_at\":\"2026-12-02T02:20:52Z\"}],\"jid\":\"00000000000000000000000%zu\","
                         "\"created_at\":1796178052.7356448,\"enqueued_at\":1796178052.7359254}",
                         wrappers[i], i == 0 ? "Ok" : "Fail", i == 0 ? "Ok" : "Fail", i);
                assert_int_equal(cmd_int("LPUSH queue:default %s", payload), (long long) i + 1);
        }
        w = worker_start("A", 2, false);
        WAIT_FOR("the wrapped Ok job to run",
                 log_count("A Ok 000000000000000000000000 -1 [1,\"two\",{\"a\":3.0,\"_aj_symbol_keys\":[]}]") == 1);
        WAIT_FOR("the wrapped Fail job to fail", cmd_int("ZCARD retry") == 1);
        assert_int_equal(log_count("A Fail 000000000000000000000001 -1 [1,"), 1);
        /* The retry entry is the payload as pushed, plus Sidekiq's failure fields. */
        json_t *m = only_member("retry");
        assert_string_equal(json_string_value(json_object_get(m, "class")), wrappers[1]);
        assert_string_equal(json_string_value(json_object_get(m, "wrapped")), "Fail");
        assert_string_equal(json_string_value(json_object_get(m, "error_class")), "TestError");
        json_decref(m);
        assert_int_equal(worker_stop(w), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_done_and_acked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retry_poller_dead, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropped_dead_invalid_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heartbeat_and_signals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recovery_after_kill, setup, teardown),
                cmocka_unit_test_setup_teardown(test_scheduled, setup, teardown),
                cmocka_unit_test_setup_teardown(test_active_job, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_with_ack_unanswered, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_beat_after_sign_off, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attached, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
