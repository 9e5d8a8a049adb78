/* SPDX-License-Identifier: MIT */
/* The sd-event adapter for hiredis' async context against a real redis-server of its own (unix
 * socket in a temporary directory): commands queued outside the loop, from inside reply callbacks
 * and after an explicit flush all reach Redis in order; a command far bigger than the socket
 * buffer gets through (the write that cannot finish waits for EPOLLOUT); a server killed and
 * started again is reconnected to, pending callbacks getting NULL in between. */

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "redis/redis-async.h"

typedef struct Ctx {
        char dir[64], sock[96];
        pid_t server;
        sd_event *event;
        RedisAsync *ra;
        unsigned ups, downs;
        long long last;     /* last integer reply */
        unsigned replies, nulls;
        size_t got_len;     /* length of a string reply */
        bool order_ok;
} Ctx;

static void server_start(Ctx *c) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;

        c->server = fork();
        assert_true(c->server >= 0);
        if (c->server == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", c->sock, "--save", "",
                       "--appendonly", "no", "--dir", c->dir, NULL);
                _exit(127);
        }
        /* Ready when it answers (a new connection each time: the socket appears before it listens). */
        for (;;) {
                redisContext *rc = redisConnectUnix(c->sock);
                bool up = rc && !rc->err;
                redisFree(rc);
                if (up)
                        return;
                assert_true(now_usec(CLOCK_MONOTONIC) < deadline);
                assert_int_equal(waitpid(c->server, NULL, WNOHANG), 0); /* still running */
                usleep(20 * 1000);
        }
}

static void server_kill(Ctx *c) {
        kill(c->server, SIGKILL);
        assert_int_equal(waitpid(c->server, NULL, 0), c->server);
        unlink(c->sock);
}

/* Turn the loop until cond holds; fail after 20 s. */
#define RUN_UNTIL(c, cond)                                                                  \
        do {                                                                                \
                usec_t _deadline = now_usec(CLOCK_MONOTONIC) + 120 * USEC_PER_SEC;          \
                while (!(cond)) {                                                           \
                        assert_true(sd_event_run((c)->event, 100 * USEC_PER_MSEC) >= 0);    \
                        assert_true(now_usec(CLOCK_MONOTONIC) < _deadline);                 \
                }                                                                           \
        } while (0)

static void on_state(RedisAsync *ra, bool up, const char *error, void *userdata) {
        Ctx *c = userdata;

        if (up)
                c->ups++;
        else
                c->downs++;
}

static int setup(void **state) {
        Ctx *c = calloc(1, sizeof *c);
        RedisURL u = {};

        assert_non_null(c);
        snprintf(c->dir, sizeof c->dir, "/tmp/test-redis-async-XXXXXX");
        assert_non_null(mkdtemp(c->dir));
        snprintf(c->sock, sizeof c->sock, "%s/redis.sock", c->dir);
        server_start(c);
        assert_int_equal(sd_event_new(&c->event), 0);
        u.path = c->sock;
        assert_int_equal(redis_async_new(c->event, &u, "test", on_state, c, &c->ra), 0);
        RUN_UNTIL(c, redis_async_is_up(c->ra));
        assert_int_equal(c->ups, 1);
        assert_int_equal(c->downs, 0);
        *state = c;
        return 0;
}

static int teardown(void **state) {
        Ctx *c = *state;

        redis_async_free(c->ra);
        sd_event_unref(c->event);
        server_kill(c);
        rmdir(c->dir);
        free(c);
        return 0;
}

static void on_incr(redisAsyncContext *ac, void *reply, void *privdata) {
        Ctx *c = privdata;
        redisReply *r = reply;

        c->replies++;
        if (!r) {
                c->nulls++;
                return;
        }
        if (r->type != REDIS_REPLY_INTEGER || r->integer != c->last + 1)
                c->order_ok = false;
        c->last = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
}

static void test_queued_outside_the_loop(void **state) {
        Ctx *c = *state;

        /* Queued outside any handler: the defer source writes them at the next turn. */
        c->order_ok = true;
        for (int i = 0; i < 100; i++)
                assert_int_equal(redis_async_command(c->ra, on_incr, c, "INCR n"), 0);
        RUN_UNTIL(c, c->replies == 100);
        assert_true(c->order_ok);
        assert_int_equal(c->last, 100);
        assert_int_equal(c->nulls, 0);
}

static void on_chain(redisAsyncContext *ac, void *reply, void *privdata) {
        Ctx *c = privdata;

        on_incr(ac, reply, privdata);
        if (reply && c->replies < 50)
                assert_int_equal(redis_async_command(c->ra, on_chain, c, "INCR chain"), 0);
}

static void test_queued_from_callbacks(void **state) {
        Ctx *c = *state;

        c->order_ok = true;
        assert_int_equal(redis_async_command(c->ra, on_chain, c, "INCR chain"), 0);
        redis_async_flush(c->ra);
        RUN_UNTIL(c, c->replies == 50);
        assert_true(c->order_ok);
        assert_int_equal(c->last, 50);
}

static void on_get(redisAsyncContext *ac, void *reply, void *privdata) {
        Ctx *c = privdata;
        redisReply *r = reply;

        c->replies++;
        c->got_len = r && r->type == REDIS_REPLY_STRING ? r->len : 0;
}

static void test_bigger_than_the_socket_buffer(void **state) {
        Ctx *c = *state;
        size_t len = 16 * 1024 * 1024;
        char *big = malloc(len);
        const char *argv[] = { "SET", "big", big };
        const size_t argvlen[] = { 3, 3, len };

        assert_non_null(big);
        memset(big, 'b', len);
        assert_int_equal(redis_async_command_argv(c->ra, NULL, NULL, 3, argv, argvlen), 0);
        assert_int_equal(redis_async_command(c->ra, on_get, c, "GET big"), 0);
        redis_async_flush(c->ra); /* writes what the socket takes; the rest waits for EPOLLOUT */
        RUN_UNTIL(c, c->replies == 1);
        assert_int_equal(c->got_len, len);
        free(big);
}

static void test_server_restart(void **state) {
        Ctx *c = *state;

        /* A command is pending when the server dies: its callback gets NULL, then "down". */
        assert_int_equal(redis_async_command(c->ra, on_incr, c, "BLPOP nothing 0"), 0);
        redis_async_flush(c->ra);
        server_kill(c);
        RUN_UNTIL(c, c->downs == 1);
        assert_int_equal(c->nulls, 1);
        assert_false(redis_async_is_up(c->ra));
        assert_int_equal(redis_async_command(c->ra, NULL, NULL, "PING"), -ENOTCONN);
        assert_non_null(strstr(redis_async_status(c->ra), "retrying in"));

        /* Back: reconnected with backoff, "up" again, commands work. */
        server_start(c);
        RUN_UNTIL(c, c->ups == 2);
        c->replies = 0;
        c->last = 0;
        c->order_ok = true;
        assert_int_equal(redis_async_command(c->ra, on_incr, c, "INCR after"), 0);
        RUN_UNTIL(c, c->replies == 1);
        assert_true(c->order_ok);
        assert_string_equal(redis_async_status(c->ra), "connected");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_queued_outside_the_loop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queued_from_callbacks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bigger_than_the_socket_buffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
