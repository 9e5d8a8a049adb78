/* SPDX-License-Identifier: MIT */
/* Every 5 s (HeartbeatSec=), in one pipeline: the process heartbeat Sidekiq's Web UI and jobsctl read, the number of
 * processes (which sets the poller's cadence, see poller.c), the signal queue and recovery of dead
 * processes' in-flight lists.
 *
 * Redis keys (Sidekiq's): processes (set of identities); <identity> (hash: info JSON, busy, beat,
 * quiet, rss KiB, rtt_us; expires after 60 s); <identity>:work and <identity>:workers (Sidekiq >= 6.5 and 6.4 names; hash jid → {"queue","payload","run_at"},
 * expires after 60 s); <identity>-signals (list: LPUSH TSTP to quiet, TERM to stop). Ours:
 * jobs:alive:<identity> and jobs:inflight (see fetch.c). */

#include <inttypes.h>

#include "config.h"
#include "engine/worker-internal.h"
#include "redis/keys.h"

static long rss_kib(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/statm", "re");
        unsigned long size, resident;

        if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
                return 0;
        return (long) (resident * (unsigned long) sysconf(_SC_PAGESIZE) / 1024);
}

static char *process_info(JobsWorker *w) {
        _cleanup_(json_decrefp) json_t *o = NULL, *queues = NULL, *weights = NULL;

        queues = json_array();
        weights = json_object();
        if (!queues || !weights)
                return NULL;
        for (size_t i = 0; i < w->config.n_queues; i++) {
                (void) json_array_append_new(queues, json_string(w->config.queues[i].name));
                (void) json_object_set_new(weights, w->config.queues[i].name, json_integer(w->config.queues[i].weight));
        }
        o = json_pack("{s:s, s:f, s:i, s:s, s:i, s:O, s:O, s:[], s:s, s:s, s:b}",
                      "hostname", w->hostname, "started_at", w->started_at, "pid", (int) getpid(),
                      "tag", strempty(w->config.tag), "concurrency", (int) w->config.concurrency, "queues", queues,
                      "weights", weights, "labels", "identity", w->identity, "version", "jobs " JOBS_VERSION,
                      "embedded", false);
        return o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
}

static void on_signal_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        if (!r || r->type != REDIS_REPLY_STRING)
                return;
        if (streq(r->str, "TSTP"))
                worker_set_quiet(w, "TSTP in the signal queue");
        else if (streq(r->str, "TERM"))
                worker_begin_stop(w, "TERM in the signal queue");
        else
                log_warning("Ignoring unknown signal \"%.32s\" in %s-signals.", r->str, w->identity);
}

static void on_recover_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        if (!r)
                return;
        if (r->type != REDIS_REPLY_INTEGER) {
                log_warning("Recovering in-flight jobs of stopped workers failed: %s", strna(redis_async_reply_error(r)));
                return;
        }
        if (r->integer > 0)
                log_notice("Recovered %lld in-flight jobs of workers that stopped beating; they are back in their queues.",
                           r->integer);
        worker_set_connected(w);
}

static void on_processes_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        redisReply *r = reply;

        if (r && r->type == REDIS_REPLY_INTEGER)
                poller_set_processes(privdata, r->integer > 0 ? (uint64_t) r->integer : 0);
}

static void on_ping_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;

        w->heartbeat.in_flight = false;
        if (!reply)
                return;
        w->heartbeat.misses = 0;
        w->heartbeat.rtt_us = now_usec(CLOCK_MONOTONIC) - w->heartbeat.sent;
        worker_update_status(w, false);
}

static int send_work(JobsWorker *w, const char *work_key) {
        int r = redis_async_command(w->redis, NULL, NULL, "DEL %s", work_key);

        for (JobsJob *j = w->jobs; r >= 0 && j; j = j->next) {
                _cleanup_(json_decrefp) json_t *o = NULL;
                _cleanup_free_ char *s = NULL;

                if (!j->running)
                        continue;
                o = json_pack("{s:s, s:s%, s:I}", "queue", j->queue, "payload", j->raw, j->raw_len, "run_at", (json_int_t) j->run_at);
                s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                if (!s)
                        continue; /* payload not UTF-8: leave it out of the display */
                r = redis_async_command(w->redis, NULL, NULL, "HSET %s %s %s", work_key, j->jid, s);
        }
        if (r >= 0 && w->n_running > 0)
                r = redis_async_command(w->redis, NULL, NULL, "EXPIRE %s %d", work_key, WORKER_PROCESS_TTL_SEC);
        return r;
}

void heartbeat_send(JobsWorker *w) {
        _cleanup_free_ char *info = NULL, *work_key = NULL, *workers_key = NULL;
        char busy[16], beat[32], rss[24], rtt[24];
        int r;

        /* Signed off (worker_maybe_finish_stop()): a beat now would register the worker again, and
         * Sidekiq's process list would show a stopped worker until its entry expired. */
        if (!redis_async_is_up(w->redis) || w->final_in_flight)
                return;
        if (w->heartbeat.in_flight) {
                /* Three beats and 15 s without an answer: the connection is dead without saying so. */
                if (++w->heartbeat.misses >= 3 && now_usec(CLOCK_MONOTONIC) - w->heartbeat.sent >= HEARTBEAT_SILENCE_USEC) {
                        char why[64];
                        snprintf(why, sizeof why, "no answer for %u heartbeats", w->heartbeat.misses);
                        worker_redis_outage(w, why, false);
                        w->heartbeat.misses = 0;
                        worker_reconnect(w);
                }
                return;
        }
        info = process_info(w);
        /* Sidekiq >= 6.5 reads <identity>:work, 6.4 (Debian 12's) <identity>:workers: write both. */
        work_key = strdupf("%s:work", w->identity);
        workers_key = strdupf("%s:workers", w->identity);
        if (!info || !work_key || !workers_key)
                return (void) log_oom();
        snprintf(busy, sizeof busy, "%u", w->n_running);
        snprintf(beat, sizeof beat, "%.6f", epoch_now());
        snprintf(rss, sizeof rss, "%ld", rss_kib());
        snprintf(rtt, sizeof rtt, "%" PRIu64, w->heartbeat.rtt_us);

        w->heartbeat.sent = now_usec(CLOCK_MONOTONIC);
        r = fetch_register(w);
        if (r >= 0)
                r = redis_async_command(w->redis, NULL, NULL, "SADD " REDIS_KEY_PROCESSES " %s", w->identity);
        if (r >= 0)
                r = redis_async_command(w->redis, on_processes_reply, w, "SCARD " REDIS_KEY_PROCESSES);
        if (r >= 0)
                r = redis_async_command(w->redis, NULL, NULL, "HSET %s info %s busy %s beat %s quiet %s rss %s rtt_us %s",
                                        w->identity, info, busy, beat, w->state == WORKER_RUNNING || w->state == WORKER_STARTING ? "false" : "true",
                                        rss, rtt);
        if (r >= 0)
                r = redis_async_command(w->redis, NULL, NULL, "EXPIRE %s %d", w->identity, WORKER_PROCESS_TTL_SEC);
        if (r >= 0)
                r = send_work(w, work_key);
        if (r >= 0)
                r = send_work(w, workers_key);
        if (r >= 0)
                r = redis_async_command(w->redis, on_signal_reply, w, "RPOP %s" REDIS_KEY_SIGNALS_SUFFIX, w->identity);
        if (r >= 0)
                r = fetch_recover_local(w);
        if (r >= 0)
                r = fetch_recover(w, false, on_recover_reply, w);
        if (r >= 0)
                r = redis_async_command(w->redis, on_ping_reply, w, "PING");
        if (r >= 0)
                w->heartbeat.in_flight = true;
}

static int on_heartbeat_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JobsWorker *w = userdata;

        if (!redis_async_is_up(w->redis))
                /* e.g. never reached since start */
                worker_redis_outage(w, redis_async_status(w->redis), redis_async_connecting(w->redis));
        heartbeat_send(w);
        stats_flush(&w->stats, w->redis);
        ack_send_pending(w);
        worker_kick(w);
        worker_update_status(w, false);
        (void) sd_event_source_set_time_relative(s, w->config.heartbeat);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

void heartbeat_init(Heartbeat *h) {
        *h = (Heartbeat) {};
}

void heartbeat_done(Heartbeat *h) {
        h->timer = sd_event_source_disable_unref(h->timer);
        h->in_flight = false;
}

void heartbeat_connection_lost(Heartbeat *h) {
        h->in_flight = false;
}

int heartbeat_start(JobsWorker *w) {
        int r = sd_event_add_time_relative(w->event, &w->heartbeat.timer, CLOCK_MONOTONIC, w->config.heartbeat,
                                           w->config.heartbeat / 10, on_heartbeat_timer, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_priority(w->heartbeat.timer, w->priority);
        return 0;
}
