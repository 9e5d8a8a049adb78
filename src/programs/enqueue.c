/* SPDX-License-Identifier: MIT */
/* One push, shared by jobs-enqueue and `jobsctl enqueue`. */

#include <math.h>
#include <sysexits.h>

#include "programs/enqueue.h"
#include "programs/redis-source.h"
#include "util/log.h"

int enqueue_parse_in(const char *s, EnqueueRequest *req) {
        if (parse_duration(s, &req->in) < 0)
                return log_error_errno(-EINVAL, "Invalid --in '%s': use a duration such as 30s, 5min or \"1h 30min\".", s);
        req->at = 0;
        return 0;
}

int enqueue_parse_at(const char *s, EnqueueRequest *req) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != 0 || !isfinite(v) || v < 0 || v > 253402300799.0)
                return log_error_errno(-EINVAL, "Invalid --at '%s': use seconds since the epoch, e.g. 1767225600 or 1767225600.5.", s);
        req->at = v;
        req->in = 0;
        return 0;
}

static int exit_status_for_redis(int r) {
        switch (r) {
        case -ETIMEDOUT:
        case -EAGAIN:
                return EX_TEMPFAIL;
        case -EACCES:
                return EX_NOPERM;
        case -ENOMEM:
                return EX_OSERR;
        default:
                return EX_UNAVAILABLE;
        }
}

int enqueue_run(const EnqueueRequest *req, char jid[static JOB_JID_LEN + 1]) {
        _cleanup_(json_decrefp) json_t *args = NULL, *job = NULL;
        _cleanup_free_ char *payload = NULL;
        _cleanup_(redis_source_done) RedisSource src = {};
        _cleanup_(redis_url_done) RedisURL url = {};
        _cleanup_(redis_done) Redis redis = {};
        const char *reason;
        double now = epoch_now(), at;
        size_t len;
        int r;

        if (req->args_json) {
                json_error_t err;

                if (strlen(req->args_json) > req->max_payload) {
                        log_error("Job arguments are %zu bytes, more than the maximum payload of %zu bytes.",
                                  strlen(req->args_json), req->max_payload);
                        return EX_DATAERR;
                }
                args = json_loads(req->args_json, JSON_REJECT_DUPLICATES, &err);
                if (!args) {
                        log_error("Invalid --args: %s at column %d. Pass a JSON array, e.g. '[1, \"two\"]'.",
                                  err.text, err.column);
                        return EX_DATAERR;
                }
                if (!json_is_array(args)) {
                        log_error("Invalid --args: a JSON array is required (Sidekiq passes args positionally), e.g. '[%s]'.",
                                  req->args_json);
                        return EX_DATAERR;
                }
        }

        r = job_new(req->class, req->queue, args, &req->retry, now, &job, &reason);
        if (r == -EINVAL) {
                log_error("Invalid job: %s (class '%s', queue '%s').", reason, req->class, strempty(req->queue));
                return EX_DATAERR;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to create job: %m");
                return EX_OSERR;
        }

        at = req->at > 0 ? req->at : req->in > 0 ? now + (double) req->in / (double) USEC_PER_SEC : 0;
        if (at > now)
                /* Sidekiq stores scheduled jobs without enqueued_at; the poller adds it. */
                (void) json_object_del(job, "enqueued_at");
        else
                at = 0; /* a time in the past means now, as Sidekiq's perform_at */

        r = job_serialize(job, req->max_payload, &payload, &len);
        if (r == -EMSGSIZE) {
                log_error("Job payload is larger than the maximum of %zu bytes; pass less data in --args "
                          "(or raise --max-payload).", req->max_payload);
                return EX_DATAERR;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to serialize job: %m");
                return EX_OSERR;
        }

        r = redis_source_find(&src, req->redis_url);
        if (r < 0)
                return (void) log_oom(), EX_OSERR;
        r = redis_url_parse(src.url, &url, &reason);
        if (r < 0) {
                log_error("Invalid Redis URL from %s: %s.", src.origin, reason);
                return req->redis_url ? EX_USAGE : EX_CONFIG;
        }
        r = redis_source_load_password(&src, &url);
        if (r < 0) {
                log_error_errno(r, "Failed to read the Redis password from %s: %m", strna(src.password_origin));
                return EX_CONFIG;
        }

        r = redis_open(&redis, &url, req->timeout);
        if (r >= 0)
                r = at > 0 ? redis_schedule_job(&redis, at, payload, len)
                           : redis_push_job(&redis, job_get_queue(job), payload, len);
        if (r < 0) {
                log_error("Failed to enqueue %s: %s", req->class, redis.error);
                return exit_status_for_redis(r);
        }

        memcpy(jid, job_get_jid(job), JOB_JID_LEN + 1);
        if (log_get_target() != LOG_TARGET_STDERR)
                log_info("Enqueued %s job %s on queue %s%s.", req->class, jid, job_get_queue(job),
                         at > 0 ? " (scheduled)" : "");
        return 0;
}
