/* SPDX-License-Identifier: MIT */
/* hiredis' async context driven by sd-event, with AUTH/SELECT and reconnect-with-backoff. */

#include <fcntl.h>
#include <stdarg.h>
#include <sys/epoll.h>

#include "redis/redis-async.h"

struct RedisAsync {
        sd_event *event;
        RedisURL url;
        char *name;
        redisAsyncContext *ac;
        sd_event_source *io;
        uint32_t io_events;
        sd_event_source *reconnect_timer;
        sd_event_source *reset_defer;
        sd_event_source *flush_defer; /* writes the output buffer at the next turn of the loop */
        bool flushing;
        RedisAsyncStateFn cb;
        void *userdata;
        usec_t backoff;
        unsigned attempts;
        bool up;
        bool handshake_failed;
        bool closed;
        char status[320];
};

static int ra_connect(RedisAsync *ra);

const char *redis_async_reply_error(const redisReply *reply) {
        if (!reply)
                return "connection lost";
        if (reply->type == REDIS_REPLY_ERROR)
                return reply->str ? reply->str : "error reply";
        return NULL;
}

static void ra_update_io(RedisAsync *ra) {
        if (!ra->io)
                return;
        if (ra->io_events != 0) {
                (void) sd_event_source_set_io_events(ra->io, ra->io_events);
                (void) sd_event_source_set_enabled(ra->io, SD_EVENT_ON);
        } else
                (void) sd_event_source_set_enabled(ra->io, SD_EVENT_OFF);
}

static void ev_add_read(void *p) {
        RedisAsync *ra = p;
        ra->io_events |= EPOLLIN;
        ra_update_io(ra);
}

static void ev_del_read(void *p) {
        RedisAsync *ra = p;
        ra->io_events &= ~(uint32_t) EPOLLIN;
        ra_update_io(ra);
}

/* A command was queued. A connected socket is nearly always writable, so rather than asking epoll
 * (two epoll_ctl calls and a turn of the loop per batch of commands) the buffer is written by
 * redis_async_flush(): at the end of the caller's handler, or at the latest by the defer source.
 * Only a write that could not finish (or a connect in progress) waits for EPOLLOUT. */
static void ev_add_write(void *p) {
        RedisAsync *ra = p;

        if (ra->flushing || !ra->ac || !(ra->ac->c.flags & REDIS_CONNECTED)) {
                ra->io_events |= EPOLLOUT;
                ra_update_io(ra);
                return;
        }
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_ONESHOT);
}

static void ev_del_write(void *p) {
        RedisAsync *ra = p;

        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        if (ra->io_events & EPOLLOUT) {
                ra->io_events &= ~(uint32_t) EPOLLOUT;
                ra_update_io(ra);
        }
}

static void ra_write(RedisAsync *ra) {
        if (!ra->ac || ra->flushing)
                return;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        ra->flushing = true;
        redisAsyncHandleWrite(ra->ac); /* may lose the connection: ra->ac is NULL then */
        ra->flushing = false;
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

static void ev_cleanup(void *p) {
        RedisAsync *ra = p;
        ra->io = sd_event_source_disable_unref(ra->io);
        ra->io_events = 0;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RedisAsync *ra = userdata;
        uint32_t wanted = ra->io_events;

        if (ra->ac && (wanted & EPOLLIN) && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                redisAsyncHandleRead(ra->ac);
                redis_async_flush(ra); /* what the reply callbacks queued */
        }
        /* The read may have freed the context (connection lost): check again. */
        if (ra->ac && (wanted & EPOLLOUT) && (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                redisAsyncHandleWrite(ra->ac);
        return 0;
}

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RedisAsync *ra = userdata;

        ra->reconnect_timer = sd_event_source_unref(ra->reconnect_timer);
        (void) ra_connect(ra);
        return 0;
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
        ra->backoff = MIN(ra->backoff * 2, REDIS_ASYNC_BACKOFF_MAX);
}

/* The context is gone (hiredis frees it after the callback that told us). */
static void ra_lost(RedisAsync *ra, const char *why) {
        bool was_up = ra->up;

        if (!ra->ac)
                return;
        ra->ac = NULL;
        ra->up = false;
        ra->io = sd_event_source_disable_unref(ra->io);
        ra->io_events = 0;
        (void) sd_event_source_set_enabled(ra->flush_defer, SD_EVENT_OFF);
        /* at most 200 bytes of the reason: a status line, and why may be a buffer as big as ours */
        snprintf(ra->status, sizeof ra->status, "%s: %.200s", ra->name, why && *why ? why : "connection lost");
        ra_schedule_reconnect(ra);
        if (was_up && ra->cb)
                ra->cb(ra, false, ra->status, ra->userdata);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
        RedisAsync *ra = ac->data;

        if (ra && ra->ac == ac)
                ra_lost(ra, ac->err ? ac->errstr : "connection closed");
}

static void on_connect(const redisAsyncContext *ac, int status) {
        RedisAsync *ra = ac->data;

        if (status == REDIS_OK || !ra || ra->ac != ac)
                return;
        /* hiredis frees the context after this, without calling on_disconnect. */
        ra_lost(ra, ac->errstr);
}

static void on_handshake_reply(redisAsyncContext *ac, void *r, void *privdata) {
        RedisAsync *ra = privdata;
        const char *e = redis_async_reply_error(r);

        if (!r || ra->ac != ac || !e)
                return;
        ra->handshake_failed = true;
        snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, e);
}

static int on_reset_defer(sd_event_source *s, void *userdata) {
        RedisAsync *ra = userdata;
        redisAsyncContext *ac = ra->ac;
        char why[sizeof ra->status];

        ra->reset_defer = sd_event_source_disable_unref(ra->reset_defer);
        if (!ac)
                return 0;
        snprintf(why, sizeof why, "%s", ra->handshake_failed ? ra->status : "connection reset");
        /* Frees the context: pending callbacks get NULL, on_disconnect runs if it was connected. */
        redisAsyncFree(ac);
        if (ra->ac == ac)
                ra_lost(ra, why);
        else if (ra->handshake_failed)
                snprintf(ra->status, sizeof ra->status, "%s", why), ra_schedule_reconnect(ra);
        return 0;
}

void redis_async_reset(RedisAsync *ra) {
        if (!ra || !ra->ac || ra->reset_defer)
                return;
        (void) sd_event_add_defer(ra->event, &ra->reset_defer, on_reset_defer, ra);
}

static void on_ready_reply(redisAsyncContext *ac, void *r, void *privdata) {
        RedisAsync *ra = privdata;

        if (!r || ra->ac != ac)
                return;
        if (ra->handshake_failed || redis_async_reply_error(r)) {
                if (!ra->handshake_failed)
                        snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, redis_async_reply_error(r));
                ra->handshake_failed = true;
                redis_async_reset(ra);
                return;
        }
        ra->up = true;
        ra->attempts = 0;
        ra->backoff = REDIS_ASYNC_BACKOFF_MIN;
        snprintf(ra->status, sizeof ra->status, "connected");
        if (ra->cb)
                ra->cb(ra, true, NULL, ra->userdata);
}

static int ra_connect(RedisAsync *ra) {
        redisAsyncContext *ac;
        int r;

        if (ra->closed || ra->ac)
                return 0;
        ra->attempts++;
        ra->handshake_failed = false;
        ac = ra->url.path ? redisAsyncConnectUnix(ra->url.path) : redisAsyncConnect(ra->url.host, (int) ra->url.port);
        if (!ac)
                return -ENOMEM;
        if (ac->err) {
                snprintf(ra->status, sizeof ra->status, "%s: %s", ra->name, ac->errstr);
                redisAsyncFree(ac);
                ra_schedule_reconnect(ra);
                return 0;
        }
        /* hiredis 0.14 does not set close-on-exec; handlers must not inherit the connection. */
        (void) fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);

        r = sd_event_add_io(ra->event, &ra->io, ac->c.fd, 0, on_io, ra);
        if (r < 0) {
                redisAsyncFree(ac);
                snprintf(ra->status, sizeof ra->status, "%s: cannot watch socket: %s", ra->name, strerror(-r));
                ra_schedule_reconnect(ra);
                return r;
        }
        (void) sd_event_source_set_enabled(ra->io, SD_EVENT_OFF);
        ra->io_events = 0;
        ra->ac = ac;
        ac->data = ra;
        ac->ev.data = ra;
        ac->ev.addRead = ev_add_read;
        ac->ev.delRead = ev_del_read;
        ac->ev.addWrite = ev_add_write;
        ac->ev.delWrite = ev_del_write;
        ac->ev.cleanup = ev_cleanup;
        (void) redisAsyncSetConnectCallback(ac, on_connect);
        (void) redisAsyncSetDisconnectCallback(ac, on_disconnect);
        snprintf(ra->status, sizeof ra->status, "%s: connecting", ra->name);

        /* Queued before the connection completes; sent as one write. */
        if (ra->url.password) {
                if (ra->url.username)
                        (void) redisAsyncCommand(ac, on_handshake_reply, ra, "AUTH %s %s", ra->url.username,
                                                 ra->url.password);
                else
                        (void) redisAsyncCommand(ac, on_handshake_reply, ra, "AUTH %s", ra->url.password);
        }
        if (ra->url.db != 0)
                (void) redisAsyncCommand(ac, on_handshake_reply, ra, "SELECT %u", ra->url.db);
        (void) redisAsyncCommand(ac, on_ready_reply, ra, "PING");
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

void redis_async_close(RedisAsync *ra) {
        redisAsyncContext *ac;

        if (!ra)
                return;
        ra->closed = true;
        ra->cb = NULL;
        ra->reconnect_timer = sd_event_source_disable_unref(ra->reconnect_timer);
        ra->reset_defer = sd_event_source_disable_unref(ra->reset_defer);
        ac = TAKE_PTR(ra->ac);
        ra->up = false;
        if (ac) {
                ac->data = NULL;
                redisAsyncFree(ac);
        }
        ra->io = sd_event_source_disable_unref(ra->io);
        /* Last: it lives as long as any context whose callbacks use it. */
        ra->flush_defer = sd_event_source_disable_unref(ra->flush_defer);
}

RedisAsync *redis_async_free(RedisAsync *ra) {
        if (!ra)
                return NULL;
        redis_async_close(ra);
        redis_url_done(&ra->url);
        free(ra->name);
        sd_event_unref(ra->event);
        free(ra);
        return NULL;
}

bool redis_async_is_up(const RedisAsync *ra) {
        return ra && ra->up;
}

const char *redis_async_status(const RedisAsync *ra) {
        return ra->status;
}

unsigned redis_async_attempts(const RedisAsync *ra) {
        return ra->attempts;
}

int redis_async_command(RedisAsync *ra, redisCallbackFn *fn, void *privdata, const char *fmt, ...) {
        va_list ap;
        int r;

        if (!ra->up || !ra->ac)
                return -ENOTCONN;
        va_start(ap, fmt);
        r = redisvAsyncCommand(ra->ac, fn, privdata, fmt, ap);
        va_end(ap);
        return r == REDIS_OK ? 0 : -ENOTCONN;
}

int redis_async_command_argv(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc,
                             const char **argv, const size_t *argvlen) {
        if (!ra->up || !ra->ac)
                return -ENOTCONN;
        return redisAsyncCommandArgv(ra->ac, fn, privdata, argc, argv, argvlen) == REDIS_OK ? 0 : -ENOTCONN;
}

int redis_async_command_unanswered(RedisAsync *ra, redisCallbackFn *fn, void *privdata, int argc, const char **argv) {
        static const char skip[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n";
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        _cleanup_free_ char *cmd = NULL, *all = NULL;
        int n, r;

        if (!ra->up || !ra->ac)
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
        /* One entry in hiredis' reply queue for the one reply that comes: the PING's. */
        r = redisAsyncFormattedCommand(ra->ac, fn, privdata, all, sizeof skip - 1 + (size_t) n + sizeof ping - 1);
        return r == REDIS_OK ? 0 : -ENOTCONN;
}
