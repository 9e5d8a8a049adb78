/* SPDX-License-Identifier: MIT */
/* A subscription to the sentinels' +switch-master on sd-event (see sentinel-watch.h). */

#include <stdio.h>

#include "redis/redis-async.h"
#include "redis/sentinel-watch.h"
#include "redis/sentinel.h"

struct RedisSentinelWatch {
        sd_event *event;
        int64_t priority;
        RedisURL url;
        RedisSentinelQuery query; /* its connection becomes the subscription once answered */
        bool answered;            /* the question was answered: replies now are the subscription's */
        bool subscribed;          /* the sentinel confirmed SUBSCRIBE */
        bool ping_pending;
        sd_event_source *io;
        sd_event_source *timer;   /* the sentinel's time to answer, the next PING, or the backoff */
        size_t next;              /* the sentinel to ask after the backoff */
        usec_t backoff;
        RedisSentinelWatchFn fn;
        void *userdata;
        char error[512];
        char status[640];
};

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void sw_stop(RedisSentinelWatch *sw) {
        sw->io = sd_event_source_disable_unref(sw->io);
        sw->timer = sd_event_source_disable_unref(sw->timer);
        sw->answered = sw->subscribed = sw->ping_pending = false;
        redis_sentinel_query_done(&sw->query);
}

static int sw_set_timer(RedisSentinelWatch *sw, usec_t after) {
        int r;

        sw->timer = sd_event_source_disable_unref(sw->timer);
        r = sd_event_add_time_relative(sw->event, &sw->timer, CLOCK_MONOTONIC, after, USEC_PER_MSEC, on_timer, sw);
        if (r >= 0)
                (void) sd_event_source_set_priority(sw->timer, sw->priority);
        return r;
}

static void sw_retry(RedisSentinelWatch *sw, const char *why);

/* The connection to this sentinel is lost: why, with its address. */
static void sw_lost(RedisSentinelWatch *sw, const char *why) {
        const RedisSentinels *s = sw->url.sentinels;

        snprintf(sw->error, sizeof sw->error, "sentinel %.200s:%u: %.200s", s->hosts[sw->query.index],
                 s->ports[sw->query.index], why[0] ? why : "connection lost");
        sw_retry(sw, sw->error);
}

/* This sentinel is lost or refused: the next one after the backoff. */
static void sw_retry(RedisSentinelWatch *sw, const char *why) {
        char d[DURATION_MAX];

        sw->next = (sw->query.index + 1) % sw->url.sentinels->n;
        sw_stop(sw);
        snprintf(sw->status, sizeof sw->status, "%.250s, retrying in %s", why, format_duration(d, sizeof d, sw->backoff));
        (void) sw_set_timer(sw, sw->backoff);
        sw->backoff = MIN(sw->backoff * 2, REDIS_ASYNC_BACKOFF_SENTINEL_MAX);
}

/* (sd-event does nothing when the events are the same) */
static void sw_update_io(RedisSentinelWatch *sw) {
        (void) sd_event_source_set_io_events(sw->io, redis_conn_events(sw->query.conn));
}

/* Ask sentinel i, else the next ones in turn, with SUBSCRIBE queued behind the question. */
static void sw_ask(RedisSentinelWatch *sw, size_t i) {
        const RedisSentinels *s = sw->url.sentinels;
        int r;

        sw_stop(sw);
        /* (on failure q->index is the last one tried: the next is after it) */
        r = redis_sentinel_query_start_any(&sw->query, &sw->url, i, s->n, sw->error, sizeof sw->error);
        if (r >= 0) {
                size_t at = sw->query.index;

                r = redis_conn_appendf(sw->query.conn, "SUBSCRIBE %s", REDIS_SENTINEL_WATCH_CHANNEL);
                if (r >= 0)
                        r = sd_event_add_io(sw->event, &sw->io, redis_conn_fd(sw->query.conn),
                                            redis_conn_events(sw->query.conn), on_io, sw);
                if (r >= 0)
                        r = sw_set_timer(sw, REDIS_ASYNC_SENTINEL_TIMEOUT);
                if (r >= 0) {
                        (void) sd_event_source_set_priority(sw->io, sw->priority);
                        snprintf(sw->status, sizeof sw->status, "asking sentinel %.200s:%u", s->hosts[at], s->ports[at]);
                        return;
                }
                snprintf(sw->error, sizeof sw->error, "cannot listen to sentinel %.200s:%u: %s", s->hosts[at],
                         s->ports[at], strerror(-r));
        }
        sw_retry(sw, sw->error);
}

/* "<master-name> <old-ip> <old-port> <new-ip> <new-port>": the new address if it is our master's. */
static bool parse_switch(const RedisSentinelWatch *sw, const char *payload, char *ret, size_t n) {
        char copy[512], *field[5], *save = NULL;
        size_t k = 0;

        if (snprintf(copy, sizeof copy, "%s", payload) >= (int) sizeof copy)
                return false;
        for (char *p = strtok_r(copy, " ", &save); p && k < ELEMENTSOF(field); p = strtok_r(NULL, " ", &save))
                field[k++] = p;
        if (k != ELEMENTSOF(field) || !streq(field[0], sw->url.sentinels->master))
                return false;
        snprintf(ret, n, "%s:%s", field[3], field[4]);
        return true;
}

/* One reply on the subscription: 0, or -EPERM when the sentinel refused (sw->error says why). */
static int sw_reply(RedisSentinelWatch *sw, const redisReply *reply) {
        const RedisSentinels *s = sw->url.sentinels;
        const char *kind;
        char master[300];

        if (reply->type == REDIS_REPLY_ERROR) {
                snprintf(sw->error, sizeof sw->error, "sentinel %.200s:%u refused SUBSCRIBE %s: %.200s",
                         s->hosts[sw->query.index], s->ports[sw->query.index], REDIS_SENTINEL_WATCH_CHANNEL, reply->str);
                return -EPERM;
        }
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->element[0]->type != REDIS_REPLY_STRING)
                return 0;
        kind = reply->element[0]->str;
        if (streq(kind, "subscribe") && !sw->subscribed) {
                sw->subscribed = true;
                sw->backoff = REDIS_ASYNC_BACKOFF_MIN;
                snprintf(sw->status, sizeof sw->status, "subscribed to sentinel %.200s:%u", s->hosts[sw->query.index],
                         s->ports[sw->query.index]);
                (void) sw_set_timer(sw, REDIS_SENTINEL_WATCH_PING_USEC);
        } else if (streq(kind, "pong"))
                sw->ping_pending = false;
        else if (streq(kind, "message") && reply->elements == 3 && reply->element[2]->type == REDIS_REPLY_STRING &&
                 parse_switch(sw, reply->element[2]->str, master, sizeof master))
                sw->fn(sw, master, NULL, sw->userdata);
        return 0;
}

/* Read what the subscription has: the confirmation, PONGs, messages. */
static void sw_read(RedisSentinelWatch *sw) {
        redisReply *reply;
        int k, r;

        k = redis_conn_process(sw->query.conn);
        /* messages that came before a failure still count */
        while ((r = redis_conn_take_reply(sw->query.conn, &reply)) > 0) {
                r = sw_reply(sw, reply);
                freeReplyObject(reply);
                if (r < 0) {
                        sw->fn(sw, NULL, sw->error, sw->userdata);
                        sw_retry(sw, sw->error);
                        return;
                }
        }
        if (k < 0 || r < 0) {
                sw_lost(sw, redis_conn_error(sw->query.conn));
                return;
        }
        sw_update_io(sw);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RedisSentinelWatch *sw = userdata;
        _cleanup_(redis_url_done) RedisURL master = {};
        char addr[300];
        int r;

        if (!sw->answered) {
                r = redis_sentinel_query_step(&sw->query, &master, sw->error, sizeof sw->error);
                if (r < 0) {
                        sw_retry(sw, sw->error);
                        return 0;
                }
                if (r == 0) {
                        sw_update_io(sw);
                        return 0;
                }
                sw->answered = true;
                snprintf(addr, sizeof addr, "%s:%u", master.host, master.port);
                sw->fn(sw, addr, NULL, sw->userdata);
        }
        /* the SUBSCRIBE confirmation may have come with the answer, already read */
        sw_read(sw);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RedisSentinelWatch *sw = userdata;
        char d[DURATION_MAX], why[64];

        if (!sw->query.conn) { /* the backoff is over */
                sw_ask(sw, sw->next);
                return 0;
        }
        if (!sw->subscribed) {
                redis_sentinel_query_timed_out(&sw->query, REDIS_ASYNC_SENTINEL_TIMEOUT, sw->error, sizeof sw->error);
                sw_retry(sw, sw->error);
                return 0;
        }
        if (sw->ping_pending) {
                snprintf(why, sizeof why, "no answer to PING within %s",
                         format_duration(d, sizeof d, REDIS_SENTINEL_WATCH_PING_USEC));
                sw_lost(sw, why);
                return 0;
        }
        if (redis_conn_appendf(sw->query.conn, "PING") < 0) {
                sw_lost(sw, "out of memory");
                return 0;
        }
        if (redis_conn_flush(sw->query.conn) < 0) {
                sw_lost(sw, redis_conn_error(sw->query.conn));
                return 0;
        }
        sw->ping_pending = true;
        sw_update_io(sw);
        (void) sw_set_timer(sw, REDIS_SENTINEL_WATCH_PING_USEC);
        return 0;
}

int redis_sentinel_watch_new(sd_event *e, const RedisURL *u, int64_t priority, RedisSentinelWatchFn fn,
                             void *userdata, RedisSentinelWatch **ret) {
        _cleanup_(redis_sentinel_watch_freep) RedisSentinelWatch *sw = NULL;
        int r;

        if (!u->sentinels || u->sentinels->n == 0)
                return -EINVAL;
        sw = calloc(1, sizeof *sw);
        if (!sw)
                return -ENOMEM;
        sw->event = sd_event_ref(e);
        sw->priority = priority;
        sw->fn = fn;
        sw->userdata = userdata;
        sw->backoff = REDIS_ASYNC_BACKOFF_MIN;
        r = redis_url_copy(u, &sw->url);
        if (r < 0)
                return r;
        sw_ask(sw, 0);
        *ret = TAKE_PTR(sw);
        return 0;
}

RedisSentinelWatch *redis_sentinel_watch_free(RedisSentinelWatch *sw) {
        if (!sw)
                return NULL;
        sw_stop(sw);
        redis_url_done(&sw->url);
        sd_event_unref(sw->event);
        free(sw);
        return NULL;
}

bool redis_sentinel_watch_is_subscribed(const RedisSentinelWatch *sw) {
        return sw && sw->subscribed;
}

const char *redis_sentinel_watch_status(const RedisSentinelWatch *sw) {
        return sw->status;
}
