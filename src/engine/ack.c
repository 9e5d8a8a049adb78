/* SPDX-License-Identifier: MIT */
/* The end of a job: decide done / retry / dead / drop / push back, log it, and remove it from the
 * in-flight list in the same atomic step that records where it went. Until Redis confirms, the job
 * stays in memory and the command is sent again after a reconnect (it is idempotent: a job already
 * gone from the in-flight list is not recorded twice). */

#include <inttypes.h>

#include "engine/worker-internal.h"
#include "redis/claim.h"
#include "redis/class-stats.h"
#include "redis/keys.h"

static const char ack_script[] =
        "local n = redis.call('LREM', KEYS[1], -1, ARGV[1])\n"
        "if n == 0 then return 0 end\n"
        "local a = ARGV[2]\n"
        "if a == 'retry' then\n"
        "  redis.call('ZADD', '" REDIS_KEY_RETRY "', ARGV[3], ARGV[4])\n"
        "elseif a == 'dead' then\n"
        "  redis.call('ZADD', '" REDIS_KEY_DEAD "', ARGV[3], ARGV[4])\n"
        "  redis.call('ZREMRANGEBYSCORE', '" REDIS_KEY_DEAD "', '-inf', tonumber(ARGV[3]) - tonumber(ARGV[6]))\n"
        "  redis.call('ZREMRANGEBYRANK', '" REDIS_KEY_DEAD "', 0, -(tonumber(ARGV[7]) + 1))\n"
        "elseif a == 'requeue' then\n"
        "  redis.call('RPUSH', '" REDIS_KEY_QUEUE_PREFIX "' .. ARGV[5], ARGV[1])\n"
        "end\n"
        "return n\n";

static const char *const action_names[_ACK_ACTION_MAX] = {
        [ACK_DONE] = "done", [ACK_DROP] = "drop", [ACK_RETRY] = "retry", [ACK_DEAD] = "dead", [ACK_REQUEUE] = "requeue",
};

static void ack_send(JobsJob *j);

void acker_init(Acker *a) {
        *a = (Acker) {};
}

void acker_done(Acker *a) {
        *a = (Acker) {};
}

void job_ack_init(JobAck *a) {
        *a = (JobAck) {};
}

void job_ack_done(JobAck *a) {
        free(a->payload);
        *a = (JobAck) {};
}

static void on_ack_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsJob *j = privdata;
        JobsWorker *w = j->worker;
        const char *e = redis_async_reply_error(reply);

        j->ack.in_flight = false;
        if (!reply)
                return; /* sent again once reconnected */
        if (e) {
                log_warning("Recording the end of job %s (%s) failed, will try again: %s", j->jid,
                            action_names[j->ack.action], e);
                return;
        }
        w->acker.n_finished--;
        /* Alert once the dead entry is there to be read (jobsctl dead show JID), and only if this
         * ack put it there (0: it was recorded before, by a reply lost with the connection). */
        if (j->ack.action == ACK_DEAD && ((redisReply *) reply)->type == REDIS_REPLY_INTEGER &&
            ((redisReply *) reply)->integer > 0)
                dead_alert_start(&w->dead_alert, w->event, w->config.on_dead, j->jid);
        work_job_remove(j);
        worker_maybe_finish_stop(w);
}

static void ack_send(JobsJob *j) {
        JobsWorker *w = j->worker;
        _cleanup_free_ char *key = NULL;
        char score[64], dead_age[32], dead_max[32];
        int r;

        if (j->ack.in_flight || !redis_async_is_up(w->redis))
                return;
        key = fetch_inflight_key(w, j->queue);
        if (!key)
                return (void) log_oom();
        if (j->ack.action == ACK_DONE || j->ack.action == ACK_DROP) {
                const char *argv[] = { "LREM", key, "-1", j->raw };
                const size_t len[] = { 4, strlen(key), 2, j->raw_len };
                r = redis_async_command_argv(w->redis, on_ack_reply, j, 4, argv, len);
        } else {
                const char *payload = j->ack.payload ? j->ack.payload : j->raw;
                size_t payload_len = j->ack.payload ? j->ack.payload_len : j->raw_len;
                snprintf(score, sizeof score, "%.6f", j->ack.score);
                snprintf(dead_age, sizeof dead_age, "%d", RETRY_DEAD_TIMEOUT_SEC);
                snprintf(dead_max, sizeof dead_max, "%d", RETRY_DEAD_MAX_JOBS);
                const char *argv[] = { "EVAL", ack_script, "1", key, j->raw, action_names[j->ack.action], score, payload,
                                       j->queue, dead_age, dead_max };
                const size_t len[] = { 4, strlen(ack_script), 1, strlen(key), j->raw_len, strlen(action_names[j->ack.action]),
                                       strlen(score), payload_len, strlen(j->queue), strlen(dead_age), strlen(dead_max) };
                r = redis_async_command_argv(w->redis, on_ack_reply, j, (int) ELEMENTSOF(argv), argv, len);
        }
        if (r >= 0)
                j->ack.in_flight = true;
}

/* While short jobs stream through, the end of a job is recorded together with the next fetch
 * (worker_turn), so Redis is woken once for both rather than once each. Only then: while jobs are
 * short, others are running (their end brings the next turn soon) and the queue is not empty (a
 * fetch will follow). Otherwise, and always when quiet or stopping, it is sent at once. */
bool ack_may_wait(JobsWorker *w) {
        return w->state == WORKER_RUNNING && worker_jobs_short(w) && w->n_running > 0 && !fetcher_is_blocking(&w->fetcher);
}

void ack_send_pending(JobsWorker *w) {
        if (w->acker.n_finished == 0)
                return;
        for (JobsJob *j = w->jobs; j; j = j->next)
                if (j->ack.finished)
                        ack_send(j);
}

/* took: how long since it started, for the run-time average if it ran. */
static void job_settle(JobsJob *j, usec_t took) {
        work_job_stopped(j, took);
        if (!j->ack.finished)
                j->worker->acker.n_finished++;
        j->ack.finished = true;
}

/* A payload that is not a job goes to dead with the reason in it (job_invalid_entry()). */
static int annotate_invalid(JobsJob *j, double now) {
        return job_invalid_entry(j->raw, j->raw_len, j->queue, j->invalid_reason, now, &j->ack.payload,
                                 &j->ack.payload_len);
}

void ack_requeue(JobsJob *j) {
        job_settle(j, now_usec(CLOCK_MONOTONIC) - j->started);
        j->ack.action = ACK_REQUEUE;
        work_job_log(j, LOG_NOTICE, "requeue", NULL, "Pushing %s job %s back to queue %s: %s.", j->class, j->jid,
                     j->queue, j->stop_killed ? "it did not finish within the shutdown timeout" : "not started, the worker is quiet or stopping");
        ack_send(j);
        worker_kick(j->worker);
}

/* A job of a fleet schedule entry (its payload names the entry, see claim.h) records done or failed
 * and its run time on the entry, for jobsctl schedule, if it is still the entry's last job. Best
 * effort: the reply is not awaited, and nothing is sent while Redis is away. */
static const char entry_script[] =
        "if redis.call('HGET', KEYS[1], 'jid') == ARGV[1] then\n"
        "  redis.call('HSET', KEYS[1], 'outcome', ARGV[2], 'duration_usec', ARGV[3], 'finished_at', ARGV[4])\n"
        "end\n";

/* The run in the per-class counters (sent with the heartbeat); when STATS_CLASSES_MAX other classes
 * wait for it, this one run goes to Redis on its own. */
static void ack_count_class(JobsWorker *w, const char *class, bool ok, usec_t took) {
        ClassTally one = { .class = (char *) class };

        if (stats_count_class(&w->stats, class, ok, took) != -ENOBUFS || !redis_async_is_up(w->redis))
                return;
        class_tally_add(&one, ok, took);
        (void) class_tally_append(w->redis, &one);
}

static void ack_record_entry(JobsJob *j, bool ok, usec_t took, double now) {
        const char *entry = j->job ? json_string_value(json_object_get(j->job, CLAIM_JOB_FIELD)) : NULL;
        char key[512], dur[32], at[64];

        if (!entry || !redis_async_is_up(j->worker->redis) || !claim_record_key(key, sizeof key, entry))
                return;
        snprintf(dur, sizeof dur, "%" PRIu64, took);
        snprintf(at, sizeof at, "%.6f", now);
        const char *argv[] = { "EVAL", entry_script, "1", key, j->jid, ok ? "done" : "failed", dur, at };
        size_t len[ELEMENTSOF(argv)];
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                len[i] = strlen(argv[i]);
        (void) redis_async_command_argv(j->worker->redis, NULL, NULL, (int) ELEMENTSOF(argv), argv, len);
}

void ack_finish(JobsJob *j, bool ok, const char *error_class, const char *error_message) {
        JobsWorker *w = j->worker;
        char dur[48], errf[64 + JOB_CLASS_MAX], d[DURATION_MAX], usage[4][64];
        const char *extra[8] = { dur };
        size_t n_extra = 1;
        usec_t took = now_usec(CLOCK_MONOTONIC) - j->started;
        double now = epoch_now();
        RetryAction a;
        unsigned rnd;
        int r;

        job_settle(j, took);
        snprintf(dur, sizeof dur, "JOB_DURATION_USEC=%" PRIu64, took);
        /* What its cgroup used (cgroup.h), where it had one. */
        if (j->usage.known) {
                const struct {
                        const char *field;
                        uint64_t v;
                } u[] = { { "JOB_CPU_USEC", j->usage.cpu_usec },
                          { "JOB_MEMORY_PEAK_BYTES", j->usage.memory_peak },
                          { "JOB_IO_READ_BYTES", j->usage.io_read },
                          { "JOB_IO_WRITE_BYTES", j->usage.io_write } };
                for (size_t i = 0; i < ELEMENTSOF(u); i++)
                        if (u[i].v != UINT64_MAX) {
                                snprintf(usage[i], sizeof usage[i], "%s=%" PRIu64, u[i].field, u[i].v);
                                extra[n_extra++] = usage[i];
                        }
        }
        stats_count(&w->stats, ok);
        if (j->job)
                ack_count_class(w, j->class, ok, took);
        ack_record_entry(j, ok, took, now);
        if (ok) {
                j->ack.action = ACK_DONE;
                work_job_log(j, LOG_INFO, "done", extra, "Finished %s job %s in %s.", j->class, j->jid,
                             format_duration(d, sizeof d, took));
                goto send;
        }

        snprintf(errf, sizeof errf, "JOB_ERROR_CLASS=%s", strempty(error_class));
        extra[n_extra++] = errf;
        if (!j->job) {
                j->ack.action = ACK_DEAD;
                j->ack.score = now;
                r = annotate_invalid(j, now);
                if (r < 0) {
                        /* Without its dead entry it must not leave the in-flight list. */
                        log_error_errno(r, "Cannot record the invalid payload from queue %s, pushing it back: %m", j->queue);
                        j->ack.action = ACK_REQUEUE;
                        goto send;
                }
                work_job_log(j, LOG_ERR, "dead", extra, "Invalid job payload from queue %s moved to the dead set: %s.",
                             j->queue, j->invalid_reason);
                goto send;
        }
        work_job_log(j, LOG_ERR, "fail", extra, "%s job %s failed: %s: %s", j->class, j->jid, strempty(error_class),
                     strempty(error_message));

        if (random_bytes(&rnd, sizeof rnd) < 0)
                rnd = (unsigned) took;
        r = retry_apply(j->job, error_class, error_message, now, rnd % 10, &a, &j->ack.score);
        if (r >= 0 && a != RETRY_ACTION_DROP)
                r = job_serialize(j->job, w->config.max_payload + 64 * 1024, &j->ack.payload, &j->ack.payload_len);
        if (r < 0) {
                /* Cannot record the failure: better run it again than lose it. */
                log_error_errno(r, "Cannot record the failure of job %s, pushing it back: %m", j->jid);
                j->ack.action = ACK_REQUEUE;
                goto send;
        }
        j->retry_count = job_get_retry_count(j->job);
        switch (a) {
        case RETRY_ACTION_RETRY:
                j->ack.action = ACK_RETRY;
                work_job_log(j, LOG_NOTICE, "retry", extra, "%s job %s will be retried in %s (retry %d of %u).", j->class,
                             j->jid, format_duration(d, sizeof d, (usec_t) ((j->ack.score - now) * USEC_PER_SEC)),
                             j->retry_count + 1, retry_max_attempts(job_get_retry(j->job)));
                break;
        case RETRY_ACTION_DEAD:
                j->ack.action = ACK_DEAD;
                work_job_log(j, LOG_ERR, "dead", extra, "%s job %s has no retries left and was moved to the dead set.",
                             j->class, j->jid);
                break;
        default:
                j->ack.action = ACK_DROP;
                work_job_log(j, LOG_NOTICE, "drop", extra, "%s job %s is not retried (retry: false) and was dropped.",
                             j->class, j->jid);
                break;
        }
send:
        worker_kick(w); /* worker_turn() sends it, now or with the next fetch (ack_may_wait()) */
}
