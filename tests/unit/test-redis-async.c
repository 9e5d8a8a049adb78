/* SPDX-License-Identifier: MIT */
/* The sd-event adapter for hiredis' async context against a real redis-server of its own (unix
 * socket in a temporary directory): commands queued outside the loop, from inside reply callbacks
 * and after an explicit flush all reach Redis in order; a command far bigger than the socket
 * buffer gets through (the write that cannot finish waits for EPOLLOUT); a server killed and
 * started again is reconnected to, pending callbacks getting NULL in between.
 *
 * Through sentinels: a sentinel that accepts the connection and never answers does not hold up the
 * loop (the test's own sources are dispatched while that connection is still open); the next
 * sentinel, a real redis-sentinel, names the master and commands work. The blocking lookup of the
 * tools gets the same master from the same two sentinels.
 *
 * The subscription to +switch-master (redis/sentinel-watch.h), against a silent sentinel and one
 * that says a canned conversation and hangs up: the master is reported at each subscription, then
 * at an announcement for our master, never for another; a lost sentinel is followed by the next. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "redis/redis-async.h"
#include "redis/sentinel-watch.h"
#include "redis/sentinel.h"

typedef struct Ctx {
        char dir[64], sock[96];
        pid_t server;
        unsigned port;      /* also on this loopback TCP port, if not 0 */
        pid_t sentinel;     /* a redis-sentinel watching it, or 0 */
        unsigned sentinel_port;
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
                char port[8];
                snprintf(port, sizeof port, "%u", c->port);
                execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--unixsocket", c->sock,
                       "--save", "", "--appendonly", "no", "--dir", c->dir, NULL);
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

/* A loopback TCP socket listening on a port of its own; its port in *ret_port. */
static int listen_loopback(unsigned *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 16), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

/* A port nothing listens on now, for a server started next (as the integration tests' free_port). */
static unsigned free_port(void) {
        unsigned port;
        close(listen_loopback(&port));
        return port;
}

typedef struct Silent {
        int listen_fd, fd;          /* the sentinel that never answers, and the connection it accepted */
        sd_event_source *accept_io, *check;
        char got[512];              /* what the client sent it */
        size_t got_len;
        bool open_at_check;         /* the test's source ran while that connection was open */
        bool eof;
} Silent;

/* Read what the client sent; true once it has closed the connection. */
static bool silent_drain(Silent *s) {
        for (;;) {
                char buf[256];
                ssize_t k = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k == 0)
                        return (s->eof = true);
                if (k < 0) {
                        assert_true(errno == EAGAIN);
                        return false;
                }
                k = MIN(k, (ssize_t) (sizeof s->got - 1 - s->got_len));
                memcpy(s->got + s->got_len, buf, (size_t) k);
                s->got_len += (size_t) k;
        }
}

static int on_silent_check(sd_event_source *es, void *userdata) {
        Silent *s = userdata;

        s->open_at_check = !silent_drain(s);
        return 0;
}

static int on_silent_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Silent *s = userdata;

        if (s->fd >= 0)
                return 0;
        s->fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        assert_true(s->fd >= 0);
        /* dispatched at a later turn of the loop: the worker's sentinel lookup must have let it run */
        assert_int_equal(sd_event_source_set_enabled(s->check, SD_EVENT_ONESHOT), 0);
        return 0;
}

static pid_t sentinel_start(const char *dir, unsigned port, unsigned master_port) {
        char conf[128], answer[32];
        FILE *f;
        pid_t pid;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;

        snprintf(conf, sizeof conf, "%s/sentinel.conf", dir);
        f = fopen(conf, "we");
        assert_non_null(f);
        fprintf(f, "port %u\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %u 1\n", port, dir, master_port);
        assert_int_equal(fclose(f), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                execlp("redis-sentinel", "redis-sentinel", conf, NULL);
                _exit(127);
        }
        snprintf(answer, sizeof answer, "%u", master_port);
        for (;;) {
                redisContext *rc = redisConnect("127.0.0.1", (int) port);
                redisReply *r = rc && !rc->err ? redisCommand(rc, "SENTINEL get-master-addr-by-name mymaster") : NULL;
                bool up = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && streq(r->element[1]->str, answer);
                if (r)
                        freeReplyObject(r);
                redisFree(rc);
                if (up)
                        return pid;
                assert_true(now_usec(CLOCK_MONOTONIC) < deadline);
                assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
                usleep(20 * 1000);
        }
}

/* A master on TCP and a sentinel watching it; no connection yet. */
static int setup_sentinel(void **state) {
        Ctx *c = calloc(1, sizeof *c);

        assert_non_null(c);
        c->port = free_port();
        c->sentinel_port = free_port();
        snprintf(c->dir, sizeof c->dir, "/tmp/test-redis-async-XXXXXX");
        assert_non_null(mkdtemp(c->dir));
        snprintf(c->sock, sizeof c->sock, "%s/redis.sock", c->dir);
        *state = c; /* the teardown stops what was started, should a step fail */
        server_start(c);
        c->sentinel = sentinel_start(c->dir, c->sentinel_port, c->port);
        assert_int_equal(sd_event_new(&c->event), 0);
        return 0;
}

static int teardown_sentinel(void **state) {
        Ctx *c = *state;
        char conf[128];

        if (c->sentinel > 0) {
                kill(c->sentinel, SIGKILL);
                (void) waitpid(c->sentinel, NULL, 0);
        }
        snprintf(conf, sizeof conf, "%s/sentinel.conf", c->dir);
        unlink(conf);
        return teardown(state);
}

static void test_sentinel_silent_then_real(void **state) {
        Ctx *c = *state;
        Silent s = { .fd = -EBADF };
        unsigned silent_port;
        char url[160], why[256];
        const char *reason;
        RedisURL u = {}, master = {};

        s.listen_fd = listen_loopback(&silent_port);
        snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%u,127.0.0.1:%u/mymaster", silent_port, c->sentinel_port);
        assert_int_equal(redis_url_parse(url, &u, &reason), 0);

        /* The test's sources come before the connection's (a lower priority) whenever both are
         * pending, so the check runs before the 250 ms timer can end the silent sentinel's turn, however
         * late this process is scheduled. With a blocking lookup the check would only run after it
         * gave up, and would find the connection closed. */
        assert_int_equal(sd_event_add_io(c->event, &s.accept_io, s.listen_fd, EPOLLIN, on_silent_accept, &s), 0);
        assert_int_equal(sd_event_add_defer(c->event, &s.check, on_silent_check, &s), 0);
        assert_int_equal(sd_event_source_set_enabled(s.check, SD_EVENT_OFF), 0);
        assert_int_equal(redis_async_new(c->event, &u, "test", on_state, c, &c->ra), 0);
        redis_async_set_priority(c->ra, 10);
        RUN_UNTIL(c, c->ups == 1);
        assert_true(s.open_at_check);
        /* the silent sentinel's turn has ended: its connection is closed, the question unanswered */
        RUN_UNTIL(c, silent_drain(&s));
        assert_non_null(memmem(s.got, s.got_len, "get-master-addr-by-name", 23));

        c->order_ok = true;
        assert_int_equal(redis_async_command(c->ra, on_incr, c, "INCR through-sentinel"), 0);
        RUN_UNTIL(c, c->replies == 1);
        assert_true(c->order_ok);
        assert_string_equal(redis_async_status(c->ra), "connected");

        /* The tools' blocking lookup: the same code reads the same answer. */
        assert_int_equal(redis_sentinel_resolve(&u, REDIS_ASYNC_SENTINEL_TIMEOUT, &master, why, sizeof why), 0);
        assert_string_equal(master.host, "127.0.0.1");
        assert_int_equal(master.port, c->port);
        assert_null(master.sentinels);

        redis_url_done(&master);
        redis_url_done(&u);
        sd_event_source_disable_unref(s.accept_io);
        sd_event_source_disable_unref(s.check);
        close(s.fd);
        close(s.listen_fd);
}

typedef struct Teller {
        int listen_fd, fd;       /* a sentinel that tells its piece to whoever connects, then hangs up */
        unsigned port;
        sd_event_source *accept_io;
        int silent_fd;           /* beside it, a listener the kernel accepts for and nobody answers */
        unsigned silent_port;
        const char *said;        /* its piece, or the default below */
        unsigned accepted;
        char heard[4][64];       /* what the watch reported */
        unsigned n_heard;
        bool subscribed_at_second; /* the watch said it was subscribed when it reported the announcement */
} Teller;

static int on_teller_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        /* the answer to get-master-addr-by-name, the subscription, an announcement for another
         * master, then one for ours */
        static const char said[] = "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n"
                                   "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n"
                                   "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n"
                                   "$34\r\nother 127.0.0.1 6379 10.0.0.9 6390\r\n"
                                   "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n"
                                   "$37\r\nmymaster 127.0.0.1 6379 10.0.0.2 6380\r\n";
        Teller *t = userdata;
        const char *piece = t->said ? t->said : said;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (c < 0)
                return 0;
        if (t->fd >= 0)
                close(t->fd);
        t->fd = c;
        t->accepted++;
        assert_int_equal(write(c, piece, strlen(piece)), (ssize_t) strlen(piece));
        /* FIN, not RST: what it said is read before the end (the watch's commands stay unread) */
        assert_int_equal(shutdown(c, SHUT_WR), 0);
        return 0;
}

/* The teller and the silent listener, on a new loop of c. */
static void teller_start(Teller *t, Ctx *c) {
        *t = (Teller) { .fd = -EBADF };
        t->silent_fd = listen_loopback(&t->silent_port);
        t->listen_fd = listen_loopback(&t->port);
        assert_int_equal(sd_event_new(&c->event), 0);
        assert_int_equal(sd_event_add_io(c->event, &t->accept_io, t->listen_fd, EPOLLIN, on_teller_accept, t), 0);
}

static void teller_end(Teller *t, Ctx *c, RedisURL *u) {
        sd_event_source_disable_unref(t->accept_io);
        sd_event_unref(c->event);
        redis_url_done(u);
        close(t->fd);
        close(t->listen_fd);
        close(t->silent_fd);
}

static void on_watch(RedisSentinelWatch *sw, const char *master, const char *error, void *userdata) {
        Teller *t = userdata;

        assert_non_null(master);
        if (t->n_heard == 1)
                t->subscribed_at_second = redis_sentinel_watch_is_subscribed(sw);
        if (t->n_heard < ELEMENTSOF(t->heard))
                snprintf(t->heard[t->n_heard++], sizeof t->heard[0], "%s", master);
}

static void test_sentinel_watch(void **state) {
        Ctx c = {};
        Teller t;
        char url[160];
        const char *reason;
        RedisURL u = {};
        RedisSentinelWatch *sw = NULL;

        teller_start(&t, &c);
        snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%u,127.0.0.1:%u/mymaster", t.silent_port, t.port);
        assert_int_equal(redis_url_parse(url, &u, &reason), 0);
        assert_int_equal(redis_sentinel_watch_new(c.event, &u, 0, on_watch, &t, &sw), 0);

        /* the silent sentinel's 250 ms, then the teller: where the master is, then its move */
        RUN_UNTIL(&c, t.n_heard >= 2);
        assert_string_equal(t.heard[0], "127.0.0.1:6379");
        assert_string_equal(t.heard[1], "10.0.0.2:6380");
        assert_true(t.subscribed_at_second);
        /* it hung up: after the backoff the silent one again, then the teller, which says it all again */
        RUN_UNTIL(&c, t.n_heard >= 4);
        assert_int_equal(t.accepted, 2);
        assert_string_equal(t.heard[2], "127.0.0.1:6379");
        assert_string_equal(t.heard[3], "10.0.0.2:6380");

        sw = redis_sentinel_watch_free(sw);
        teller_end(&t, &c, &u);
}

/* A sentinel names a master that accepts the connection and never answers (a stopped old master,
 * named by a sentinel not yet told of the failover): given up after REDIS_ASYNC_MASTER_TIMEOUT, and
 * the sentinels asked again. */
static void test_sentinel_names_silent_master(void **state) {
        Ctx c = {};
        Teller t;
        char url[128], said[128], port[8];
        const char *reason;
        RedisURL u = {};

        teller_start(&t, &c);
        snprintf(port, sizeof port, "%u", t.silent_port);
        snprintf(said, sizeof said, "*2\r\n$9\r\n127.0.0.1\r\n$%zu\r\n%s\r\n", strlen(port), port);
        t.said = said;
        snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%u/mymaster", t.port);
        assert_int_equal(redis_url_parse(url, &u, &reason), 0);
        assert_int_equal(redis_async_new(c.event, &u, "test", on_state, &c, &c.ra), 0);
        RUN_UNTIL(&c, strstr(redis_async_status(c.ra), "did not answer within"));
        snprintf(said, sizeof said, "test: 127.0.0.1:%u did not answer within", t.silent_port);
        assert_int_equal(strncmp(redis_async_status(c.ra), said, strlen(said)), 0);
        RUN_UNTIL(&c, t.accepted == 2); /* the sentinels asked again */
        assert_int_equal(c.ups, 0);

        c.ra = redis_async_free(c.ra);
        teller_end(&t, &c, &u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_queued_outside_the_loop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queued_from_callbacks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bigger_than_the_socket_buffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sentinel_silent_then_real, setup_sentinel, teardown_sentinel),
                cmocka_unit_test(test_sentinel_watch),
                cmocka_unit_test(test_sentinel_names_silent_master),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
