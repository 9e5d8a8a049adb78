/* SPDX-License-Identifier: MIT */
/* A Redis connection (redis/conn.h) driven by sd-event: a queue of reply callbacks, AUTH/SELECT,
 * and reconnect-with-backoff. */

#include <stdarg.h>
#include <sys/epoll.h>

#include "redis/conn.h"
#include "redis/redis-async.h"
#include "redis/sentinel.h"

typedef struct ReplyCallback {
        redisCallbackFn *fn;
        void *privdata;
} ReplyCallback;

struct RedisAsync {
        sd_event *event;
        int64_t priority;             /* of each source below */
        RedisURL url;
        char *name;
        RedisConn *conn;
        sd_event_source *io;
        uint32_t io_events;
        sd_event_source *reconnect_timer;
        sd_event_source *reset_defer;
        sd_event_source *flush_defer; /* writes the output buffer at the next turn of the loop */
        ReplyCallback *callbacks;     /* one per reply still to come, oldest at callbacks_head */
        size_t callbacks_head, n_callbacks, callbacks_allocated;
        RedisAsyncStateFn cb;
        void *userdata;
        usec_t backoff;
        unsigned attempts;
        bool up;
        bool handshake_failed;
        bool config_error;            /* the handshake failed on the URL itself (a database Redis lacks) */
        bool closed;
        /* Through sentinels: the one being asked, on the loop like the connection itself. */
        RedisSentinelQuery sentinel;
        sd_event_source *sentinel_io, *sentinel_timer;
        sd_event_source *master_timer; /* the master named must finish the handshake in time */
        char sentinel_error[256];     /* why the last sentinel asked gave no master */
        char master[288];             /* through sentinels: host:port of the master they named */
        char status[320];
};

static int ra_connect(RedisAsync *ra);
static int ra_connect_to(RedisAsync *ra, const RedisURL *u);
static void ra_sentinel_stop(RedisAsync *ra);
static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata);

const char *redis_async_reply_error(const redisReply *reply) {
        if (!reply)
                return "connection lost";
        if (reply->type == REDIS_REPLY_ERROR)
                return reply->str ? reply->str : "error reply";
        return NULL;
}

static int callbacks_push(RedisAsync *ra, redisCallbackFn *fn, void *privdata) {
        if (ra->callbacks_head + ra->n_callbacks == ra->callbacks_allocated) {
                if (ra->callbacks_head > 0) {
                        memmove(ra->callbacks, ra->callbacks + ra->callbacks_head, ra->n_callbacks * sizeof *ra->callbacks);
                        ra->callbacks_head = 0;
                } else {
                        size_t n = MAX(ra->callbacks_allocated * 2, (size_t) 16);
                        ReplyCallback *p = reallocarray(ra->callbacks, n, sizeof *p);
                        if (!p)
                                return -ENOMEM;
                        ra->callbacks = p;
                        ra->callbacks_allocated = n;
                }
        }
        ra->callbacks[ra->callbacks_head + ra->n_callbacks++] = (ReplyCallback) { fn, privdata };
        return 0;
}

static bool callbacks_pop(RedisAsync *ra, ReplyCallback *ret) {
        if (ra->n_callbacks == 0)
                return false;
        *ret = ra->callbacks[ra->callbacks_head++];
        if (--ra->n_callbacks == 0)
                ra->callbacks_head = 0;
        return true;
}

/* Watch the socket for what the connection waits for; the epoll set changes only when that does. */
static void ra_update_io(RedisAsync *ra) {
        uint32_t want;

        if (!ra->io || !ra->conn)
                return;
        want = redis_conn_events(ra->conn);
        if (want == ra->io_events)
                return;
        ra->io_events = want;
        if (want != 0) {
                (void) sd_event_source_set_io_events(ra->io, want);
                (void) sd_event_source_set_enabled(ra->io, SD_EVENT_ON);
        } else
                (void) sd_event_source_set_enabled(ra->io, SD_EVENT_OFF);
}

static void ra_schedule_reconnect(RedisAsync *ra) {
        char d[DURATION_MAX];
        size_t l;

        if (ra->closed || ra->reconnect_timer)
                return;
        l = strlen(ra->status);
        snprintf(ra->status + l, sizeof ra->status - l, ", retrying in %s",
                 format_duration(d, sizeof d, ra->backoff));
        if (sd_event_add_time_relative(ra->event, &ra->reconnect_timer, CLOCK_MONOTONIC, ra->backoff, 0,
                                       on_reconnect_timer, ra) < 0)
                return;
        (void) sd_event_source_set_priority(ra->reconnect_timer, ra->priority);
        /* Through sentinels, a failover names a new master within seconds: look again soon. */
        ra->backoff = MIN(ra->backoff * 2, ra->url.sentinels ? REDIS_ASYNC_BACKOFF_SENTINEL_MAX : REDIS_ASYNC_BACKOFF_MAX);
}

/* Close the connection; every pending callback gets a NULL reply (they may queue commands: those
 * fail with -ENOTCONN, as the connection is gone first). */
static void ra_drop(RedisAsync *ra) {
        ReplyCallback cb;

        ra->up = false;
        ra_sentinel_stop(ra);
        ra->master_timer = sd_event_source_disable_unref(ra->master_timer);
        ra->io = sd_event_source_disable_unref(ra->io);
        ra->io_events = 0;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        ra->conn = redis_conn_free(ra->conn);
        while (callbacks_pop(ra, &cb))
                if (cb.fn)
                        cb.fn(NULL, NULL, cb.privdata);
}

/* The connection is lost (or could not be made): say why, drop it, reconnect after the backoff. */
static void ra_lost(RedisAsync *ra, const char *why) {
        bool was_up = ra->up;

        if (!ra->conn)
                return;
        /* at most 200 bytes of the reason: a status line, and why may be a buffer as big as ours */
        snprintf(ra->status, sizeof ra->status, "%s: %.200s", ra->name, why && *why ? why : "connection lost");
        ra_drop(ra);
        ra_schedule_reconnect(ra);
        if (was_up && ra->cb)
                ra->cb(ra, false, ra->status, ra->userdata);
}

static void ra_write(RedisAsync *ra) {
        int r;

        if (!ra->conn)
                return;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        r = redis_conn_flush(ra->conn);
        if (r < 0)
                ra_lost(ra, redis_conn_error(ra->conn));
        else
                ra_update_io(ra);
}

void redis_async_flush(RedisAsync *ra) {
        int enabled = SD_EVENT_OFF;

        if (ra && ra->flush_defer && sd_event_source_get_enabled(ra->flush_defer, &enabled) >= 0 &&
            enabled != SD_EVENT_OFF)
                ra_write(ra);
}

static int on_flush_defer(sd_event_source *s, void *userdata) {
        ra_write(userdata);
        return 0;
}

/* A command was queued. A connected socket is nearly always writable, so rather than asking epoll
 * (two epoll_ctl calls and a turn of the loop per batch of commands) the buffer is written by
 * redis_async_flush(): at the end of the caller's handler, or at the latest by the defer source.
 * Only a write that could not finish (or a connection not yet up) waits for EPOLLOUT. */
static void ra_queued(RedisAsync *ra) {
        if (redis_conn_is_ready(ra->conn))
                (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RedisAsync *ra = userdata;
        RedisConn *conn = ra->conn;
        redisReply *reply;
        ReplyCallback cb;
        int r;

        if (!conn)
                return 0;
        r = redis_conn_process(conn);
        /* Replies that came before a failure are delivered first. A callback may drop the
         * connection (reset, close): stop when it did. */
        while (ra->conn == conn && redis_conn_take_reply(conn, &reply) > 0) {
                if (callbacks_pop(ra, &cb) && cb.fn)
                        cb.fn(NULL, reply, cb.privdata);
                freeReplyObject(reply);
        }
        if (ra->conn != conn)
                return 0;
        if (r < 0 || redis_conn_error(conn)[0]) {
                ra_lost(ra, redis_conn_error(conn));
                return 0;
        }
        ra_write(ra); /* what the reply callbacks queued */
        return 0;
}

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RedisAsync *ra = userdata;

        ra->reconnect_timer = sd_event_source_unref(ra->reconnect_timer);
        (void) ra_connect(ra);
        return 0;
}

static void on_handshake_reply(redisAsyncContext *ac, void *r, void *privdata) {
        RedisAsync *ra = privdata;
        const char *e = redis_async_reply_error(r);

        if (!r || !e)
                return;
        ra->handshake_failed = true;
        ra->config_error = ra->config_error || (!strncmp(e, "ERR", 3) && strstr(e, "DB index"));
        snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, e);
}

/* Through sentinels: the instance they named must still be the master. */
static void on_role_reply(redisAsyncContext *ac, void *r, void *privdata) {
        RedisAsync *ra = privdata;
        char why[128];

        if (!r || ra->handshake_failed || redis_sentinel_check_role(r, why, sizeof why) >= 0)
                return;
        ra->handshake_failed = true;
        snprintf(ra->status, sizeof ra->status, "%.80s: %.100s: %.120s", ra->name, ra->master, why);
}

static int on_reset_defer(sd_event_source *s, void *userdata) {
        RedisAsync *ra = userdata;
        char why[sizeof ra->status];

        ra->reset_defer = sd_event_source_disable_unref(ra->reset_defer);
        if (!ra->conn)
                return 0;
        snprintf(why, sizeof why, "%s", ra->handshake_failed ? ra->status : "connection reset");
        if (ra->handshake_failed) {
                /* the status already names the connection */
                ra_drop(ra);
                /* no retry will fix the URL: the owner hears it (it was never up) */
                if (ra->config_error && ra->cb)
                        ra->cb(ra, false, ra->status, ra->userdata);
                ra_schedule_reconnect(ra);
        } else
                ra_lost(ra, why);
        return 0;
}

void redis_async_reset(RedisAsync *ra) {
        if (!ra || !ra->conn || ra->reset_defer)
                return;
        if (sd_event_add_defer(ra->event, &ra->reset_defer, on_reset_defer, ra) >= 0)
                (void) sd_event_source_set_priority(ra->reset_defer, ra->priority);
}

void redis_async_retry_now(RedisAsync *ra) {
        if (ra && ra->reconnect_timer)
                (void) sd_event_source_set_time_relative(ra->reconnect_timer, 0);
}

static void on_ready_reply(redisAsyncContext *ac, void *r, void *privdata) {
        RedisAsync *ra = privdata;

        if (!r)
                return;
        if (ra->handshake_failed || redis_async_reply_error(r)) {
                if (!ra->handshake_failed)
                        snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, redis_async_reply_error(r));
                ra->handshake_failed = true;
                redis_async_reset(ra);
                return;
        }
        ra->master_timer = sd_event_source_disable_unref(ra->master_timer);
        ra->up = true;
        ra->attempts = 0;
        ra->backoff = REDIS_ASYNC_BACKOFF_MIN;
        snprintf(ra->status, sizeof ra->status, "connected");
        if (ra->cb)
                ra->cb(ra, true, NULL, ra->userdata);
}

static void ra_sentinel_stop(RedisAsync *ra) {
        ra->sentinel_io = sd_event_source_disable_unref(ra->sentinel_io);
        ra->sentinel_timer = sd_event_source_disable_unref(ra->sentinel_timer);
        redis_sentinel_query_done(&ra->sentinel);
}

static int on_sentinel_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static int on_sentinel_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Ask sentinel i, else the next one that can be asked; after the last, retry after the backoff.
 * Nothing here waits: the connection, the TLS handshake and the answer come through sentinel_io,
 * and sentinel_timer moves on from a sentinel that does not answer within
 * REDIS_ASYNC_SENTINEL_TIMEOUT (one that accepts and says nothing, or is stopped). */
static int ra_sentinel_ask(RedisAsync *ra, size_t i) {
        const RedisSentinels *s = ra->url.sentinels;
        int r;

        ra_sentinel_stop(ra);
        r = i < s->n ? redis_sentinel_query_start_any(&ra->sentinel, &ra->url, i, s->n - i, ra->sentinel_error,
                                                      sizeof ra->sentinel_error)
                     : -EHOSTUNREACH;
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                i = ra->sentinel.index;
                r = sd_event_add_io(ra->event, &ra->sentinel_io, redis_conn_fd(ra->sentinel.conn),
                                    redis_conn_events(ra->sentinel.conn), on_sentinel_io, ra);
                if (r >= 0)
                        r = sd_event_add_time_relative(ra->event, &ra->sentinel_timer, CLOCK_MONOTONIC,
                                                       REDIS_ASYNC_SENTINEL_TIMEOUT, USEC_PER_MSEC, on_sentinel_timer, ra);
                if (r >= 0) {
                        (void) sd_event_source_set_priority(ra->sentinel_io, ra->priority);
                        (void) sd_event_source_set_priority(ra->sentinel_timer, ra->priority);
                        snprintf(ra->status, sizeof ra->status, "%.80s: asking sentinel %.200s:%u", ra->name,
                                 s->hosts[i], s->ports[i]);
                        return 0;
                }
                ra_sentinel_stop(ra);
                snprintf(ra->sentinel_error, sizeof ra->sentinel_error, "cannot watch a socket: %s", strerror(-r));
        }
        snprintf(ra->status, sizeof ra->status, "%.80s: cannot find the master: %.200s", ra->name, ra->sentinel_error);
        ra_schedule_reconnect(ra);
        return 0;
}

static void ra_sentinel_next(RedisAsync *ra) {
        if (ra_sentinel_ask(ra, ra->sentinel.index + 1) < 0) {
                snprintf(ra->status, sizeof ra->status, "%s: out of memory", ra->name);
                ra_schedule_reconnect(ra);
        }
}

static int on_sentinel_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RedisAsync *ra = userdata;
        _cleanup_(redis_url_done) RedisURL master = {};
        int r;

        r = redis_sentinel_query_step(&ra->sentinel, &master, ra->sentinel_error, sizeof ra->sentinel_error);
        if (r < 0) {
                ra_sentinel_next(ra);
                return 0;
        }
        if (r == 0) { /* (sd-event does nothing when the events are the same) */
                (void) sd_event_source_set_io_events(ra->sentinel_io, redis_conn_events(ra->sentinel.conn));
                return 0;
        }
        ra_sentinel_stop(ra);
        snprintf(ra->master, sizeof ra->master, "%s:%u", master.host, master.port);
        if (ra_connect_to(ra, &master) == -ENOMEM) {
                snprintf(ra->status, sizeof ra->status, "%s: out of memory", ra->name);
                ra_schedule_reconnect(ra);
        }
        return 0;
}

static int on_sentinel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RedisAsync *ra = userdata;

        redis_sentinel_query_timed_out(&ra->sentinel, REDIS_ASYNC_SENTINEL_TIMEOUT, ra->sentinel_error,
                                       sizeof ra->sentinel_error);
        ra_sentinel_next(ra);
        return 0;
}

static int ra_connect(RedisAsync *ra) {
        if (ra->closed || ra->conn || ra->sentinel.conn)
                return 0;
        ra->attempts++;
        ra->handshake_failed = false;
        /* Through sentinels, where the master is now: asked again at every connection, which follows
         * a failover. */
        if (ra->url.sentinels)
                return ra_sentinel_ask(ra, 0);
        return ra_connect_to(ra, &ra->url);
}

/* Through sentinels, the master named accepted the connection (the kernel does, for a stopped
 * process) but did not finish the handshake: ask the sentinels again. */
static int on_master_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RedisAsync *ra = userdata;
        char d[DURATION_MAX];

        ra->master_timer = sd_event_source_disable_unref(ra->master_timer);
        ra->handshake_failed = true;
        snprintf(ra->status, sizeof ra->status, "%.80s: %.100s did not answer within %s", ra->name, ra->master,
                 format_duration(d, sizeof d, REDIS_ASYNC_MASTER_TIMEOUT));
        redis_async_reset(ra);
        return 0;
}

/* Connect to u (the URL's Redis, or the master the sentinels named), then the handshake. */
static int ra_connect_to(RedisAsync *ra, const RedisURL *u) {
        char err[256] = "";
        int r;

        r = redis_conn_new(u, &ra->conn, err, sizeof err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, err[0] ? err : strerror(-r));
                ra_schedule_reconnect(ra);
                return 0;
        }
        r = sd_event_add_io(ra->event, &ra->io, redis_conn_fd(ra->conn), 0, on_io, ra);
        if (r < 0) {
                ra->conn = redis_conn_free(ra->conn);
                snprintf(ra->status, sizeof ra->status, "%s: cannot watch socket: %s", ra->name, strerror(-r));
                ra_schedule_reconnect(ra);
                return r;
        }
        (void) sd_event_source_set_enabled(ra->io, SD_EVENT_OFF);
        (void) sd_event_source_set_priority(ra->io, ra->priority);
        ra->io_events = 0;
        snprintf(ra->status, sizeof ra->status, "%s: connecting", ra->name);

        /* Queued before the connection completes; sent as one write once it has. */
        if (ra->url.password) {
                r = ra->url.username ? redis_conn_appendf(ra->conn, "AUTH %s %s", ra->url.username, ra->url.password)
                                     : redis_conn_appendf(ra->conn, "AUTH %s", ra->url.password);
                if (r >= 0)
                        r = callbacks_push(ra, on_handshake_reply, ra);
        }
        if (r >= 0 && ra->url.db != 0) {
                r = redis_conn_appendf(ra->conn, "SELECT %u", ra->url.db);
                if (r >= 0)
                        r = callbacks_push(ra, on_handshake_reply, ra);
        }
        if (r >= 0 && ra->url.sentinels) {
                r = sd_event_add_time_relative(ra->event, &ra->master_timer, CLOCK_MONOTONIC,
                                               REDIS_ASYNC_MASTER_TIMEOUT, USEC_PER_MSEC, on_master_timer, ra);
                if (r >= 0)
                        (void) sd_event_source_set_priority(ra->master_timer, ra->priority);
        }
        if (r >= 0 && ra->url.sentinels) {
                r = redis_conn_appendf(ra->conn, "ROLE");
                if (r >= 0)
                        r = callbacks_push(ra, on_role_reply, ra);
        }
        if (r >= 0)
                r = redis_conn_appendf(ra->conn, "PING");
        if (r >= 0)
                r = callbacks_push(ra, on_ready_reply, ra);
        if (r < 0) {
                ra_lost(ra, "out of memory");
                return r;
        }
        /* a unix socket is usually connected already: try at once */
        ra_write(ra);
        return 0;
}

int redis_async_new(sd_event *e, const RedisURL *u, const char *name, RedisAsyncStateFn cb,
                    void *userdata, RedisAsync **ret) {
        _cleanup_(redis_async_freep) RedisAsync *ra = NULL;
        int r;

        ra = calloc(1, sizeof *ra);
        if (!ra)
                return -ENOMEM;
        ra->event = sd_event_ref(e);
        ra->cb = cb;
        ra->userdata = userdata;
        ra->backoff = REDIS_ASYNC_BACKOFF_MIN;
        ra->name = strdup(name ? name : "redis");
        if (!ra->name)
                return -ENOMEM;
        r = redis_url_copy(u, &ra->url);
        if (r < 0)
                return r;
        r = sd_event_add_defer(e, &ra->flush_defer, on_flush_defer, ra);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        r = ra_connect(ra);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ra);
        return 0;
}

void redis_async_set_priority(RedisAsync *ra, int64_t priority) {
        sd_event_source *sources[] = { ra->io,           ra->reconnect_timer, ra->reset_defer,
                                       ra->flush_defer, ra->sentinel_io,     ra->sentinel_timer,
                                       ra->master_timer };

        ra->priority = priority;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if (sources[i])
                        (void) sd_event_source_set_priority(sources[i], priority);
}

void redis_async_close(RedisAsync *ra) {
        if (!ra)
                return;
        ra->closed = true;
        ra->cb = NULL;
        ra->reconnect_timer = sd_event_source_disable_unref(ra->reconnect_timer);
        ra->reset_defer = sd_event_source_disable_unref(ra->reset_defer);
        ra_drop(ra);
        ra->flush_defer = sd_event_source_disable_unref(ra->flush_defer);
}

RedisAsync *redis_async_free(RedisAsync *ra) {
        if (!ra)
                return NULL;
        redis_async_close(ra);
        redis_url_done(&ra->url);
        free(ra->callbacks);
        free(ra->name);
        sd_event_unref(ra->event);
        free(ra);
        return NULL;
}

bool redis_async_config_error(const RedisAsync *ra) {
        return ra && ra->config_error;
}

bool redis_async_is_up(const RedisAsync *ra) {
        return ra && ra->up;
}

bool redis_async_connecting(const RedisAsync *ra) {
        return (ra->conn && !ra->up) || ra->sentinel.conn;
}

const char *redis_async_status(const RedisAsync *ra) {
        return ra->status;
}

unsigned redis_async_attempts(const RedisAsync *ra) {
        return ra->attempts;
}

const char *redis_async_master(const RedisAsync *ra) {
        return ra->master;
}

/* Queue a formatted command and its callback. */
static int ra_append(RedisAsync *ra, const char *cmd, size_t len, redisCallbackFn *fn, void *privdata) {
        int r;

        if (!ra->up || !ra->conn)
                return -ENOTCONN;
        r = callbacks_push(ra, fn, privdata);
        if (r < 0)
                return r;
        r = redis_conn_append(ra->conn, cmd, len);
        if (r < 0) {
                ra->n_callbacks--;
                return r;
        }
        ra_queued(ra);
        return 0;
}

int redis_async_command(RedisAsync *ra, redisCallbackFn *fn, void *privdata, const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int n;

        if (!ra->up || !ra->conn)
                return -ENOTCONN;
        va_start(ap, fmt);
        n = redisvFormatCommand(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return n == -1 ? -ENOMEM : -EINVAL;
        return ra_append(ra, cmd, (size_t) n, fn, privdata);
}

int redis_async_command_argv(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc,
                             const char **argv, const size_t *argvlen) {
        _cleanup_free_ char *cmd = NULL;
        int n;

        if (!ra->up || !ra->conn)
                return -ENOTCONN;
        n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
        if (n < 0)
                return -ENOMEM;
        return ra_append(ra, cmd, (size_t) n, fn, privdata);
}

int redis_async_command_unanswered(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc, const char **argv) {
        static const char skip[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n";
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        _cleanup_free_ char *cmd = NULL, *all = NULL;
        int n;

        if (!ra->up || !ra->conn)
                return -ENOTCONN;
        n = redisFormatCommandArgv(&cmd, argc, argv, NULL);
        if (n < 0)
                return -ENOMEM;
        all = malloc(sizeof skip - 1 + (size_t) n + sizeof ping - 1);
        if (!all)
                return -ENOMEM;
        memcpy(all, skip, sizeof skip - 1);
        memcpy(all + sizeof skip - 1, cmd, (size_t) n);
        memcpy(all + sizeof skip - 1 + n, ping, sizeof ping - 1);
        /* One callback for the one reply that comes: the PING's. */
        return ra_append(ra, all, sizeof skip - 1 + (size_t) n + sizeof ping - 1, fn, privdata);
}
