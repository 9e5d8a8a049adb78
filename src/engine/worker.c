/* SPDX-License-Identifier: MIT */
/* The worker: one sd-event loop owning signals, timers, handler processes and both Redis
 * connections; its lifecycle (starting → running ⇄ quiet → stopping) and what it tells systemd
 * (READY=1, STATUS=, WATCHDOG=1 from the loop, STOPPING=1, EXTEND_TIMEOUT_USEC=). */

#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "engine/worker-internal.h"
#include "redis/keys.h"
#include "redis/sentinel.h"

/* The one place the state changes. */
static void worker_set_state(JobsWorker *w, WorkerState state) {
        w->state = state;
}

/* A cgroup per job where the service has a delegated one; else handlers run as before, killed by
 * process group, and one line says why. */
static void worker_setup_cgroups(JobsWorker *w) {
        const char *why = NULL;
        int r;

        w->cgroups.priority = w->priority;
        if (!w->config.job_cgroups)
                return (void) log_info("JobCgroups=no: handlers run in the worker's cgroup and are killed by process "
                                       "group.");
        r = cgroup_tree_setup(&w->cgroups, w->event, &why);
        if (r > 0)
                log_info("Running each job in a cgroup of its own under %s.", w->cgroups.root);
        else if (r == 0)
                log_info("No cgroup per job: %s; handlers run in the worker's cgroup and are killed by process group.",
                         why);
        else
                log_warning_errno(r, "No cgroup per job: %s: %m; handlers run in the worker's cgroup and are killed "
                                  "by process group.", strna(why));
}

int jobs_worker_new(JobsWorker **ret) {
        JobsWorker *w;

        assert_return(ret, -EINVAL);
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        worker_config_init(&w->config);
        cgroup_tree_init(&w->cgroups);
        fetcher_init(&w->fetcher);
        acker_init(&w->acker);
        heartbeat_init(&w->heartbeat);
        poller_init(&w->poller);
        stats_init(&w->stats);
        dead_alert_init(&w->dead_alert);
        worker_set_state(w, WORKER_STARTING);
        *ret = w;
        return 0;
}

/* Whatever the worker has on its event loop, gone: handlers killed and reaped, connections closed,
 * sources removed (all but the stopped source, which may be the one calling). Again: nothing. */
static void worker_drop_sources(JobsWorker *w) {
        pools_free(w);
        /* The connections first: freeing one calls its pending callbacks (with no reply), and an
         * unanswered end of a job calls back with that job. */
        w->redis = redis_async_free(w->redis);
        w->sentinel_watch = redis_sentinel_watch_free(w->sentinel_watch);
        fetcher_done(&w->fetcher); /* its connections' last callbacks kick: before the kick source goes */
        while (w->jobs)
                work_job_remove(w->jobs); /* kills and reaps its handler */
        cgroup_tree_done(&w->cgroups);
        w->kick = sd_event_source_disable_unref(w->kick);
        poller_done(&w->poller);
        heartbeat_done(&w->heartbeat);
        fetcher_done(&w->fetcher);
        w->stop_timer = sd_event_source_disable_unref(w->stop_timer);
        w->sigchld = sd_event_source_disable_unref(w->sigchld);
        dead_alert_done(&w->dead_alert);
}

JobsWorker *jobs_worker_free(JobsWorker *w) {
        if (!w)
                return NULL;
        worker_drop_sources(w);
        stats_done(&w->stats);
        acker_done(&w->acker);
        sd_event_source_disable_unref(w->stopped);
        sd_event_unref(w->event);
        for (size_t i = 0; i < w->n_c_handlers; i++)
                free(w->c_handlers[i].class);
        free(w->c_handlers);
        redis_url_done(&w->url);
        worker_config_done(&w->config);
        free(w->errstr);
        free(w);
        return NULL;
}

static const char *queues_describe(JobsWorker *w, char *buf, size_t n) {
        size_t off = 0;

        buf[0] = 0;
        for (size_t i = 0; i < w->config.n_queues && off < n; i++) {
                int k = w->config.queues[i].weight
                                ? snprintf(buf + off, n - off, "%s%s,%u", i ? " " : "", w->config.queues[i].name, w->config.queues[i].weight)
                                : snprintf(buf + off, n - off, "%s%s", i ? " " : "", w->config.queues[i].name);
                if (k < 0)
                        break;
                off += (size_t) k;
        }
        return buf;
}

/* STATUS= for systemctl status: at most once a second unless forced, and only when it changed. */
void worker_update_status(JobsWorker *w, bool force) {
        char s[sizeof w->last_status], q[256], redis[400] = "";
        usec_t now = now_usec(CLOCK_MONOTONIC);
        const char *what;

        if (!force && now - w->status_at < USEC_PER_SEC)
                return;
        w->status_at = now;
        if (!redis_async_is_up(w->redis))
                snprintf(redis, sizeof redis, "; Redis unreachable (%s)", redis_async_status(w->redis));
        switch (w->state) {
        case WORKER_STARTING:
                what = "Waiting for Redis";
                break;
        case WORKER_QUIET:
                what = "Quiet (not taking jobs)";
                break;
        case WORKER_STOPPING:
                what = "Stopping";
                break;
        case WORKER_STOPPED:
                what = "Stopped";
                break;
        default:
                what = "Working";
        }
        snprintf(s, sizeof s, "%s: busy %u/%u, processed %" PRIu64 ", failed %" PRIu64 "; queues %s%s", what, w->n_running,
                 w->config.concurrency, w->stats.processed, w->stats.failed, queues_describe(w, q, sizeof q), redis);
        if (!force && streq(s, w->last_status))
                return;
        snprintf(w->last_status, sizeof w->last_status, "%s", s);
        if (w->own_loop)
                (void) sd_notifyf(false, "STATUS=%s", s);
}

/* What follows any change: start waiting jobs, fetch more, record finished ones (with the fetch,
 * or now if they should not wait, see ack_may_wait()), and write the commands that queued to Redis
 * in one go. */
static void worker_turn(JobsWorker *w) {
        (void) sd_event_source_set_enabled(w->kick, SD_EVENT_OFF);
        work_start_pending(w);
        if (fetch_maybe(w) || !ack_may_wait(w))
                ack_send_pending(w);
        worker_maybe_finish_stop(w);
        worker_update_status(w, false);
        redis_async_flush(w->redis);
}

static int on_kick(sd_event_source *s, void *userdata) {
        worker_turn(userdata);
        return 0;
}

void worker_kick(JobsWorker *w) {
        if (w->kick)
                (void) sd_event_source_set_enabled(w->kick, SD_EVENT_ONESHOT);
}

void worker_set_quiet(JobsWorker *w, const char *why) {
        if (w->state != WORKER_RUNNING && w->state != WORKER_STARTING)
                return;
        log_notice("Quiet (%s): no new jobs are taken; %u running.", why, w->n_running);
        worker_set_state(w, WORKER_QUIET);
        fetch_cancel(w);
        work_start_pending(w);
        pools_stop(w);
        worker_update_status(w, true);
}

/* The end: every job settled, or the deadline passed. The worker's own loop exits; on a program's
 * loop the worker lets go of it in a callback of its own, not inside a Redis reply, and says so. */
static void worker_finish(JobsWorker *w) {
        if (w->own_loop)
                (void) sd_event_exit(w->event, w->exit_code);
        else
                (void) sd_event_source_set_enabled(w->stopped, SD_EVENT_ONESHOT);
}

static int on_stopped(sd_event_source *s, void *userdata) {
        JobsWorker *w = userdata;

        worker_set_state(w, WORKER_STOPPED);
        worker_drop_sources(w);
        if (w->on_stopped)
                w->on_stopped(w, w->exit_code, w->stopped_userdata); /* may free w */
        return 0;
}

static void on_final_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        w->final_in_flight = false;
        if (!r)
                return; /* again once reconnected, or the hard deadline ends it */
        if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                log_notice("Pushed %lld jobs left in this worker's in-flight lists back to their queues.", r->integer);
        worker_set_state(w, WORKER_STOPPED);
        log_info("Stopped: processed %" PRIu64 ", failed %" PRIu64 ".", w->stats.processed, w->stats.failed);
        worker_update_status(w, true);
        worker_finish(w);
}

/* Every job settled and recorded: put back whatever a lost reply left in our lists, sign off. */
void worker_maybe_finish_stop(JobsWorker *w) {
        int r;

        if (w->state != WORKER_STOPPING || w->n_jobs > 0 || w->final_in_flight)
                return;
        if (!redis_async_is_up(w->redis)) {
                /* Nothing held, nothing to record: waiting for Redis would only block stops, restarts
                 * and upgrades. Our in-flight lists (empty, or holding a job whose fetch reply was lost)
                 * are recovered by any worker once jobs:alive:<identity> expires, by the next one on
                 * this host at once. */
                log_info("Stopped without Redis (%s): nothing was running; this worker's entry expires by itself.",
                         redis_async_status(w->redis));
                worker_set_state(w, WORKER_STOPPED);
                worker_update_status(w, true);
                worker_finish(w);
                return;
        }
        stats_flush(&w->stats, w->redis);
        r = redis_async_command(w->redis, NULL, NULL, "SREM " REDIS_KEY_PROCESSES " %s", w->identity);
        if (r >= 0)
                /* <identity>:work for Sidekiq >= 6.5, <identity>:workers for 6.4 (see heartbeat.c) */
                r = redis_async_command(w->redis, NULL, NULL, "DEL %s %s" REDIS_KEY_WORK_SUFFIX " %s" REDIS_KEY_WORKERS_SUFFIX " " REDIS_KEY_ALIVE_PREFIX "%s", w->identity,
                                        w->identity, w->identity, w->identity);
        if (r >= 0)
                r = fetch_recover(w, true, on_final_reply, w);
        if (r >= 0)
                w->final_in_flight = true;
}

/* Redis answered the first heartbeat: start taking jobs (systemd was told READY=1 at start). */
void worker_set_connected(JobsWorker *w) {
        if (w->connected)
                return;
        w->connected = true;
        if (w->state == WORKER_STARTING)
                worker_set_state(w, WORKER_RUNNING);
        log_info("Connected to Redis at %s as %s; working on %zu queue(s) with concurrency %u.", w->where,
                 w->identity, w->config.n_queues, w->config.concurrency);
        worker_update_status(w, true);
        worker_kick(w);
}

/* Redis stopped answering without closing, or the sentinels named another master: drop every
 * connection, which reconnect; those waiting to retry, retry now. */
void worker_reconnect(JobsWorker *w) {
        redis_async_reset(w->redis);
        redis_async_retry_now(w->redis);
        fetch_reset(w);
}

static int on_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        JobsWorker *w = userdata;

        log_warning("Redis did not confirm everything before the deadline; %u job(s) stay in this worker's in-flight "
                    "lists and are recovered by the next worker.", w->n_jobs);
        worker_finish(w);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        JobsWorker *w = userdata;
        unsigned n = 0;

        for (JobsJob *j = w->jobs; j; j = j->next)
                if (j->running && j->pid > 0) {
                        j->stop_killed = true;
                        exec_kill(j);
                        n++;
                }
        n += pools_kill_busy(w);
        if (n > 0)
                log_warning("Shutdown timeout reached: killed %u handler(s); their jobs go back to their queues.", n);
        w->stop_timer = sd_event_source_disable_unref(w->stop_timer);
        if (sd_event_add_time_relative(w->event, &w->stop_timer, CLOCK_MONOTONIC, WORKER_STOP_GRACE_USEC, 0,
                                       on_stop_deadline, w) >= 0)
                (void) sd_event_source_set_priority(w->stop_timer, w->priority);
        return 0;
}

void worker_begin_stop(JobsWorker *w, const char *why) {
        char d[DURATION_MAX];

        if (w->state >= WORKER_STOPPING)
                return;
        worker_set_state(w, WORKER_STOPPING);
        log_info("Stopping (%s): waiting up to %s for %u running job(s).", why,
                 format_duration(d, sizeof d, w->config.shutdown_timeout), w->n_running);
        if (w->own_loop)
                (void) sd_notifyf(false, "STOPPING=1\nEXTEND_TIMEOUT_USEC=%" PRIu64,
                                  w->config.shutdown_timeout + 2 * WORKER_STOP_GRACE_USEC);
        fetch_cancel(w);
        work_start_pending(w);
        pools_stop(w);
        if (sd_event_add_time_relative(w->event, &w->stop_timer, CLOCK_MONOTONIC, w->config.shutdown_timeout, 0,
                                       on_stop_timeout, w) >= 0)
                (void) sd_event_source_set_priority(w->stop_timer, w->priority);
        worker_update_status(w, true);
        worker_kick(w);
}

void jobs_worker_stop(JobsWorker *w) {
        if (!w || !w->started)
                return; /* not running yet; once it ran, the state says stopped */
        worker_begin_stop(w, "requested");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        JobsWorker *w = userdata;

        if (si->ssi_signo == SIGTSTP)
                worker_set_quiet(w, "SIGTSTP");
        else if (si->ssi_signo == SIGHUP)
                worker_reload(w);
        else
                worker_begin_stop(w, si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        return 0;
}

bool child_exited(pid_t pid, siginfo_t *si) {
        *si = (siginfo_t) {};
        return pid > 0 && waitid(P_PID, (id_t) pid, si, WEXITED | WNOHANG | WNOWAIT) >= 0 && si->si_pid == pid;
}

/* The next child that exited, not reaped yet (WNOWAIT). Under jobs_worker_run() the program is the
 * worker's: any child. Attached to a program's loop, only the worker's own (handlers, pool
 * processes), found by pid: the program's children are its own to reap. */
static bool next_exited(JobsWorker *w, siginfo_t *si) {
        if (w->own_loop) {
                *si = (siginfo_t) {};
                return waitid(P_ALL, 0, si, WEXITED | WNOHANG | WNOWAIT) >= 0 && si->si_pid > 0;
        }
        for (JobsJob *j = w->jobs; j; j = j->next)
                if (child_exited(j->pid, si))
                        return true;
        return pool_next_exited(w, si);
}

/* Handlers end: find each by pid. WNOWAIT first, so that the job can kill the handler's process group
 * while the zombie still holds its id; exec_on_exit() reaps it. */
static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        JobsWorker *w = userdata;

        for (;;) {
                siginfo_t si;
                JobsJob *j;

                if (!next_exited(w, &si))
                        break;
                for (j = w->jobs; j && j->pid != si.si_pid; j = j->next)
                        ;
                if (j)
                        exec_on_exit(j, &si);
                else if (pool_on_exit(w, &si) == 0)
                        (void) waitpid(si.si_pid, NULL, 0); /* not a handler of ours: just reap it */
        }
        /* Slots are free: the next jobs start now, not one turn of the loop later. */
        worker_turn(w);
        return 0;
}

/* One warning when Redis cannot be reached (at start, or lost), one notice when it is back. A warning
 * given while a connection was still being made (pending: no reason known yet) is followed by one
 * naming the reason once that attempt fails (a refused TLS certificate, say). */
void worker_redis_outage(JobsWorker *w, const char *why, bool pending) {
        if (w->outage_warned && (!w->outage_pending || pending))
                return;
        if (!w->outage_warned)
                w->outage_since = now_usec(CLOCK_MONOTONIC);
        w->outage_warned = true;
        w->outage_pending = pending;
        log_warning("Redis at %s is unreachable (%s); %u job(s) keep running, waiting for Redis.", w->where, strna(why),
                    w->n_running);
}

static void on_redis_state(RedisAsync *ra, bool up, const char *error, void *userdata) {
        JobsWorker *w = userdata;
        int r;

        if (!up && redis_async_config_error(ra)) {
                if (w->exit_code == 0) {
                        log_error("%s. The URL names a database this Redis does not have: fix Redis= in worker.conf "
                                  "or REDIS_URL, then start the worker again.", strna(error));
                        w->exit_code = -EINVAL; /* jobs-worker exits 78, and is not restarted */
                        worker_begin_stop(w, "configuration error");
                }
                worker_maybe_finish_stop(w);
                return;
        }
        if (!up) {
                worker_redis_outage(w, error, false);
                heartbeat_connection_lost(&w->heartbeat);
                poller_connection_lost(&w->poller);
                worker_update_status(w, true);
                worker_maybe_finish_stop(w);
                return;
        }
        r = fetch_reconcile(w);
        if (r < 0)
                log_warning_errno(r, "Cannot check this worker's in-flight lists: %m");
        if (w->outage_warned) {
                char d[DURATION_MAX];
                log_notice("Redis at %s is reachable again (unreachable for %s).", w->where,
                           format_duration(d, sizeof d, now_usec(CLOCK_MONOTONIC) - w->outage_since));
                w->outage_warned = false;
        }
        heartbeat_send(w); /* registers, recovers; the first reply lets us fetch */
        ack_send_pending(w);
        worker_update_status(w, true);
        worker_kick(w);
}

static int worker_identity(JobsWorker *w) {
        uint8_t nonce[6];
        char hex[13], boot[64] = "unknown", ns[64] = "unknown";
        _cleanup_free_ char *b = NULL;
        ssize_t k;
        int r;

        if (gethostname(w->hostname, sizeof w->hostname - 1) < 0)
                snprintf(w->hostname, sizeof w->hostname, "localhost");
        r = random_bytes(nonce, sizeof nonce);
        if (r < 0)
                return r;
        hex_encode(nonce, sizeof nonce, hex);
        snprintf(w->identity, sizeof w->identity, "%s:%d:%s", w->hostname, (int) getpid(), hex);
        if (read_full_file("/proc/sys/kernel/random/boot_id", 64, &b, NULL) >= 0)
                snprintf(boot, sizeof boot, "%s", strstrip(b));
        k = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
        ns[k > 0 ? k : 0] = 0;
        snprintf(w->alive_prefix, sizeof w->alive_prefix, "%s %s ", boot, k > 0 ? ns : "unknown");
        snprintf(w->alive_value, sizeof w->alive_value, "%s%d", w->alive_prefix, (int) getpid());
        return 0;
}

/* A failed run: its reason kept for jobs_worker_errstr() and logged, as jobs-worker shows it. */
#define run_fail(w, r, ...) log_error_errno(worker_error((w), (r), __VA_ARGS__), "%s", jobs_worker_errstr(w))

/* What a run and a start check and make first: the queues, the Redis URL, the identity. */
static int worker_prepare(JobsWorker *w) {
        const char *reason = NULL;
        int r;

        if (w->config.n_queues == 0) {
                r = worker_config_add_queue(&w->config, "default", &reason);
                if (r < 0)
                        return worker_error(w, r, "Cannot add the queue \"default\": %s.", strna(reason));
        }
        r = redis_url_parse(redis_url_pick(w->config.redis_url), &w->url, &reason);
        if (r < 0)
                return run_fail(w, r, "Invalid Redis URL: %s.", strna(reason));
        r = redis_url_load_credential(&w->url);
        if (r < 0)
                return run_fail(w, r, "Cannot read the redis-password credential: %m");
        redis_url_describe(&w->url, w->where, sizeof w->where);
        r = worker_identity(w);
        if (r < 0)
                return run_fail(w, r, "Cannot make a process identity: %m");
        w->started_at = epoch_now();
        return 0;
}

/* The sentinels name the master. One that is not where the worker's connections are means a
 * failover: they move now, rather than when the old master closes them, which a stopped or cut off
 * master never does (the heartbeat would notice after HEARTBEAT_SILENCE_USEC). */
static void on_sentinel_master(RedisSentinelWatch *sw, const char *master, const char *error, void *userdata) {
        JobsWorker *w = userdata;
        const char *from;

        if (!master) {
                if (!w->sentinel_watch_warned)
                        log_warning("Cannot hear failovers from the sentinels: %s. A failover is followed once the "
                                    "old master closes the connections or stops answering the heartbeat; the sentinel "
                                    "user needs +subscribe and &+switch-master.", strna(error));
                w->sentinel_watch_warned = true;
                return;
        }
        from = redis_async_master(w->redis);
        if (!from[0] || streq(from, master))
                from = fetch_wait_elsewhere(w, master);
        if (!from)
                return;
        log_notice("Sentinels switched master %s from %s to %s; reconnecting.", w->url.sentinels->master, from, master);
        worker_reconnect(w);
}

/* The worker's part on its loop, once SIGCHLD is watched: cgroups, heartbeat, Redis. */
static int worker_begin(JobsWorker *w) {
        int r;

        worker_setup_cgroups(w);
        w->dead_alert.priority = w->priority;
        r = sd_event_add_defer(w->event, &w->kick, on_kick, w);
        if (r < 0)
                return run_fail(w, r, "Cannot create the event loop: %m");
        (void) sd_event_source_set_enabled(w->kick, SD_EVENT_OFF);
        (void) sd_event_source_set_priority(w->kick, w->priority);
        r = heartbeat_start(w);
        if (r < 0)
                return run_fail(w, r, "Cannot start the heartbeat: %m");

        /* The idle waits get connections of their own, one per queue, at the first idle wait (fetch.c). */
        r = redis_async_new(w->event, &w->url, "Redis", on_redis_state, w, &w->redis);
        if (r < 0)
                return run_fail(w, r, "Cannot connect to Redis at %s: %m", w->where);
        redis_async_set_priority(w->redis, w->priority);
        if (w->url.sentinels) {
                r = redis_sentinel_watch_new(w->event, &w->url, w->priority, on_sentinel_master, w, &w->sentinel_watch);
                if (r < 0)
                        return run_fail(w, r, "Cannot listen to the sentinels: %m");
        }
        log_info("Starting as %s, Redis at %s%s.", w->identity, w->where, w->watchdog ? ", watchdog on" : "");
        /* Ready without Redis: a host boots, stops and upgrades whether Redis is up or not; STATUS=
         * says the worker waits for it, the journal says so once (worker_redis_outage()). */
        w->ready = true;
        if (w->own_loop)
                (void) sd_notify(false, "READY=1");
        worker_update_status(w, true);
        return 0;
}

int jobs_worker_run(JobsWorker *w) {
        sigset_t mask;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        if (w->started)
                return worker_error(w, -EBUSY, "jobs_worker_run(): this worker already ran; a worker runs once, make "
                                    "another with jobs_worker_new().");
        if (w->event)
                return worker_error(w, -EBUSY, "jobs_worker_run(): an event loop is attached: call jobs_worker_start() "
                                    "and run that loop instead.");
        w->started = true;
        w->own_loop = true;
        r = worker_prepare(w);
        if (r < 0)
                return r;

        /* Signals become events; a dropped Redis socket must not kill us with SIGPIPE. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTSTP);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return run_fail(w, errno, "Cannot block signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_new(&w->event);
        if (r < 0)
                return run_fail(w, r, "Cannot create the event loop: %m");
        /* The watchdog only on a loop of the worker's own: a program's loop is the program's to ping. */
        r = sd_event_set_watchdog(w->event, true);
        if (r < 0)
                return run_fail(w, r, "Cannot enable the watchdog: %m");
        w->watchdog = r > 0;
        if ((r = sd_event_add_signal(w->event, NULL, SIGTERM, on_signal, w)) < 0 ||
            (r = sd_event_add_signal(w->event, NULL, SIGINT, on_signal, w)) < 0 ||
            (r = sd_event_add_signal(w->event, NULL, SIGTSTP, on_signal, w)) < 0 ||
            (r = sd_event_add_signal(w->event, NULL, SIGHUP, on_signal, w)) < 0 ||
            (r = sd_event_add_signal(w->event, &w->sigchld, SIGCHLD, on_sigchld, w)) < 0)
                return run_fail(w, r, "Cannot watch signals: %m");
        r = worker_begin(w);
        if (r < 0)
                return r;

        r = sd_event_loop(w->event);
        worker_set_state(w, WORKER_STOPPED); /* also when stopped before Redis was reached */
        w->stop_timer = sd_event_source_disable_unref(w->stop_timer); /* a stop that ended before its deadline */
        if (r < 0)
                return run_fail(w, r, "Event loop failed: %m");
        return r;
}

int jobs_worker_attach_event(JobsWorker *w, sd_event *event, int64_t priority) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        if (w->started)
                return worker_error(w, -EBUSY, "jobs_worker_attach_event(): the worker already started; attach its "
                                    "event loop before jobs_worker_start().");
        if (w->event)
                return worker_error(w, -EBUSY, "jobs_worker_attach_event(): an event loop is attached already; a worker "
                                    "has one.");
        if (event)
                e = sd_event_ref(event);
        else {
                r = sd_event_default(&e);
                if (r < 0)
                        return worker_error(w, r, "jobs_worker_attach_event(): cannot get the thread's default event "
                                            "loop: %m");
        }
        w->event = TAKE_PTR(e);
        w->priority = priority;
        return 0;
}

sd_event *jobs_worker_get_event(JobsWorker *w) {
        assert_return(w, NULL);
        return w->event;
}

/* What a program must have done before a start: SIGCHLD blocked (for the worker's source), SIGPIPE
 * ignored or blocked (a handler closing its pipe must not end the program). */
static int worker_check_signals(JobsWorker *w) {
        struct sigaction sa;
        sigset_t mask;

        if (pthread_sigmask(SIG_SETMASK, NULL, &mask) != 0 || sigaction(SIGPIPE, NULL, &sa) < 0)
                return worker_error(w, -EINVAL, "jobs_worker_start(): cannot read the signal mask.");
        if (!sigismember(&mask, SIGCHLD))
                return worker_error(w, -EINVAL, "jobs_worker_start(): SIGCHLD is not blocked: the worker watches it on "
                                    "the event loop to reap its handlers; block it with sigprocmask() in every thread "
                                    "(before creating threads), then start the worker.");
        if (sa.sa_handler == SIG_DFL && !sigismember(&mask, SIGPIPE))
                return worker_error(w, -EINVAL, "jobs_worker_start(): SIGPIPE would end the program when a handler "
                                    "process closes its pipe: ignore it (signal(SIGPIPE, SIG_IGN)) first.");
        return 0;
}

static int worker_start(JobsWorker *w) {
        int r;

        r = worker_prepare(w);
        if (r < 0)
                return r;
        r = sd_event_add_signal(w->event, &w->sigchld, SIGCHLD, on_sigchld, w);
        if (r == -EBUSY)
                return worker_error(w, r, "jobs_worker_start(): the event loop has a SIGCHLD source already: the worker "
                                    "needs its own to reap its handlers; remove the program's (sd_event_add_child() "
                                    "sources of the program's own children are fine).");
        if (r < 0)
                return worker_error(w, r, "jobs_worker_start(): cannot watch SIGCHLD: %m");
        (void) sd_event_source_set_priority(w->sigchld, w->priority);
        r = sd_event_add_defer(w->event, &w->stopped, on_stopped, w);
        if (r < 0)
                return worker_error(w, r, "jobs_worker_start(): cannot add an event source: %m");
        (void) sd_event_source_set_enabled(w->stopped, SD_EVENT_OFF);
        (void) sd_event_source_set_priority(w->stopped, w->priority);
        return worker_begin(w);
}

int jobs_worker_start(JobsWorker *w, JobsStoppedFn on_stopped_fn, void *userdata) {
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        if (w->started)
                return worker_error(w, -EBUSY, "jobs_worker_start(): this worker already %s; a worker runs once, make "
                                    "another with jobs_worker_new().", w->own_loop ? "ran" : "started");
        if (!w->event)
                return worker_error(w, -EINVAL, "jobs_worker_start(): no event loop attached: call "
                                    "jobs_worker_attach_event() first (NULL attaches the thread's default loop).");
        r = worker_check_signals(w);
        if (r < 0)
                return r;
        w->started = true;
        w->on_stopped = on_stopped_fn;
        w->stopped_userdata = userdata;
        r = worker_start(w);
        if (r < 0) {
                /* Nothing of the worker stays on the program's loop. */
                worker_drop_sources(w);
                w->stopped = sd_event_source_disable_unref(w->stopped);
                worker_set_state(w, WORKER_STOPPED);
        }
        return r;
}
