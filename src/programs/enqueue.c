/* SPDX-License-Identifier: MIT */
/* One push, shared by jobs-enqueue and `jobsctl enqueue`. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "model/active-job.h"
#include "model/occurrence.h"
#include "model/schedule.h"
#include "programs/enqueue.h"
#include "programs/redis-source.h"
#include "redis/claim.h"
#include "redis/redis-tls.h"
#include "util/log.h"
#include "util/timestamp.h"

int enqueue_parse_in(const char *s, EnqueueRequest *req) {
        usec_t in;
        int r = parse_duration(s, &in);

        if (r == -EINVAL)
                return log_error_errno(r, "Invalid --in '%s': use a duration such as 30s, 5min or \"1h 30min\".", s);
        if (r < 0 || in > ENQUEUE_IN_MAX)
                return log_error_errno(-ERANGE, "Invalid --in '%s': a job can be scheduled at most %s ahead.", s,
                                       ENQUEUE_IN_MAX_TEXT);
        req->in = in;
        req->at = 0;
        return 0;
}

int enqueue_parse_at(const char *s, EnqueueRequest *req) {
        usec_t at;
        int r = parse_timestamp(s, now_usec(CLOCK_REALTIME), &at);

        if (r == -ERANGE)
                return log_error_errno(r, "Invalid --at '%s': the time must lie between 1970-01-01 and "
                                          "9999-12-31 23:59:59 UTC.", s);
        if (r < 0)
                return log_error_errno(r, "Invalid --at '%s': use a date such as \"2026-12-24 18:00\" (local "
                                          "time), \"2026-12-24T18:00:00Z\", or seconds since the epoch: "
                                          "1767225600 or @1767225600.", s);
        req->at = (double) at / (double) USEC_PER_SEC;
        req->in = 0;
        return 0;
}

int enqueue_parse_epoch(const char *option, const char *s, usec_t *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != 0 || !isfinite(v) || v <= 0 || v > 253402300799.0)
                return log_error_errno(-EINVAL, "Invalid %s '%s': use seconds since the epoch, e.g. 1767225600.", option, s);
        *ret = (usec_t) (v * (double) USEC_PER_SEC + 0.5);
        return 0;
}

int enqueue_parse_wait_replicas(const char *what, const char *s, unsigned *ret) {
        uint64_t v;

        if (parse_u64(s, &v) < 0 || v > REDIS_WAIT_REPLICAS_MAX)
                return log_error_errno(-EINVAL, "Invalid %s '%s': use a number of replicas from 0 (do not wait) to %u.",
                                       what, s, REDIS_WAIT_REPLICAS_MAX);
        *ret = (unsigned) v;
        return 0;
}

int enqueue_parse_wait_timeout(const char *what, const char *s, usec_t *ret) {
        usec_t v;

        if (parse_duration(s, &v) < 0 || v < USEC_PER_MSEC || v > REDIS_WAIT_TIMEOUT_MAX)
                return log_error_errno(-EINVAL, "Invalid %s '%s': use a duration from 1ms to 10min, such as 500ms or 2s.",
                                       what, s);
        *ret = v;
        return 0;
}

static int exit_status_for_redis(int r) {
        switch (r) {
        case -ETIMEDOUT:
        case -EAGAIN:
                return EX_TEMPFAIL;
        case -EACCES:
        case -REDIS_TLS_EREFUSED: /* our TLS client certificate, or its absence */
                return EX_NOPERM;
        case -REDIS_TLS_EVERIFY: /* the server's certificate: the CA, the host name or the certificate */
        case -EINVAL:            /* unusable TLS credentials */
        case -ENXIO: /* the database index does not exist on that server: no retry will help */
                return EX_CONFIG;
        case -ENOMEM:
                return EX_OSERR;
        default:
                return EX_UNAVAILABLE;
        }
}

static int enqueue_hostname(char host[static CLAIM_HOST_MAX + 1]) {
        const char *e = getenv(ENQUEUE_HOSTNAME_ENV);

        if (e && *e) {
                if (strlen(e) > CLAIM_HOST_MAX || strpbrk(e, " \t\n")) {
                        log_error("Invalid $%s '%s': a host name of at most %u bytes without blanks.",
                                  ENQUEUE_HOSTNAME_ENV, e, CLAIM_HOST_MAX);
                        return EX_CONFIG;
                }
                strcpy(host, e);
                return 0;
        }
        if (gethostname(host, CLAIM_HOST_MAX) < 0) {
                log_error_errno(-errno, "Failed to read the host name: %m");
                return EX_OSERR;
        }
        host[CLAIM_HOST_MAX] = 0;
        return 0;
}

/* The entry's calendars, parsed once for the whole run. */
typedef struct EntryCalendars {
        CalendarSpec *specs[SCHEDULE_CALENDARS_MAX];
        size_t n;
} EntryCalendars;

static void entry_calendars_done(EntryCalendars *e) {
        for (size_t i = 0; i < e->n; i++)
                calendar_spec_free(e->specs[i]);
        e->n = 0;
}

/* The occurrence the run stands for: the latest elapse of the calendars at or before the moment
 * the timer fired (or --occurrence); the occurrence before it (to tell whether some were missed)
 * and from the gap how long the claim lives; the calendars as one text for the entry's record.
 * Two evaluations per calendar. */
static int enqueue_occurrence(const EnqueueRequest *req, EntryCalendars *cal, ClaimRequest *c, char **ret_text) {
        _cleanup_free_ char *text = NULL;
        char when[TIMESTAMP_MAX];
        size_t size = 0;
        usec_t at = req->trigger;
        int r;

        /* without /proc to tell the fork time: now (later than the fork, never earlier) */
        if (at == 0 && (!req->trigger_start || process_start_usec(&at) < 0))
                at = now_usec(CLOCK_REALTIME);

        for (size_t i = 0; i < req->n_calendars; i++) {
                _cleanup_free_ char *error = NULL;

                r = calendar_spec_parse(req->calendars[i], &cal->specs[i], &error);
                if (r == -ENOMEM)
                        return (void) log_oom(), EX_OSERR;
                if (r < 0) {
                        log_error("Invalid --calendar '%s': %s.", req->calendars[i], strna(error));
                        return EX_USAGE;
                }
                cal->n++;
                size += strlen(req->calendars[i]) + 1;
        }

        /* The occurrence before (to count missed ones; a statistic, it never stops the run) also
         * sizes the claim: twice the gap. Its exact life does not matter for correctness, since the
         * entry's record refuses any occurrence not later than the last one claimed. */
        if (c->occurrence == 0) {
                r = occurrence_prev_pair(cal->specs, cal->n, at, &c->occurrence, &c->previous);
                if (r < 0) {
                        log_error_errno(r, "Entry %s has no occurrence at or before %s: %s", req->entry,
                                        format_timestamp(when, sizeof when, at, true),
                                        r == -ENOENT ? "its calendars have not elapsed yet" : "%m");
                        return EX_DATAERR;
                }
        } else if (occurrence_prev(cal->specs, cal->n, c->occurrence - 1, &c->previous) < 0)
                c->previous = 0;
        if (c->previous > 0)
                c->ttl_sec = MIN(MAX((long long) (2 * ((c->occurrence - c->previous) / USEC_PER_SEC)), CLAIM_TTL_MIN_SEC),
                                 CLAIM_TTL_MAX_SEC);

        text = malloc(size);
        if (!text)
                return (void) log_oom(), EX_OSERR;
        text[0] = 0;
        for (size_t i = 0; i < cal->n; i++) {
                if (i > 0)
                        strcat(text, "\n");
                strcat(text, req->calendars[i]);
        }
        *ret_text = TAKE_PTR(text);
        return 0;
}

/* After a push with --wait-replicas: 0 when enough replicas confirmed it, else log and EX_TEMPFAIL.
 * retry says what running again does; the format names what was waited for ("Foo job J", "claim
 * of entry E (host H, job J)"). */
static int enqueue_check_wait(const RedisWait *w, const char *retry, const char *format, ...) _printf_(3, 4);
static int enqueue_check_wait(const RedisWait *w, const char *retry, const char *format, ...) {
        char t[DURATION_MAX], what[128 + SCHEDULE_NAME_MAX + JOB_CLASS_MAX + CLAIM_HOST_MAX + JOB_JID_MAX];
        va_list ap;

        if (w->replicas == 0 || w->acked >= w->replicas)
                return 0;
        va_start(ap, format);
        (void) vsnprintf(what, sizeof what, format, ap);
        va_end(ap);
        log_error("The %s is on the Redis master, but only %u of %u replicas confirmed it within %s: it is lost "
                  "if the master fails before a replica has it. %s",
                  what, w->acked, w->replicas, format_duration(t, sizeof t, w->timeout), retry);
        return EX_TEMPFAIL;
}

/* The journal fields of the line that says a job was enqueued. */
typedef struct EnqueueFields {
        char jid[16 + JOB_JID_MAX], compat[16 + JOB_JID_MAX], class[16 + JOB_CLASS_MAX], queue[16 + JOB_QUEUE_MAX];
        const char *list[5];
} EnqueueFields;

static const char *const *enqueue_fields(EnqueueFields *f, const char *jid, const char *class, const char *queue) {
        snprintf(f->jid, sizeof f->jid, LOG_FIELD_JID "%s", jid);
        snprintf(f->compat, sizeof f->compat, LOG_FIELD_JID_COMPAT "%s", jid);
        snprintf(f->class, sizeof f->class, "JOB_CLASS=%s", class);
        snprintf(f->queue, sizeof f->queue, "JOB_QUEUE=%s", queue);
        f->list[0] = f->jid, f->list[1] = f->compat, f->list[2] = f->class, f->list[3] = f->queue, f->list[4] = NULL;
        return f->list;
}

static int claim_and_push(Redis *redis, const EnqueueRequest *req, RedisWait *wait, json_t *job, const char *payload,
                          size_t len, double now, char jid[static JOB_JID_LEN + 1]) {
        _cleanup_(entry_calendars_done) EntryCalendars cal = {};
        char host[CLAIM_HOST_MAX + 1], when[TIMESTAMP_MAX];
        _cleanup_free_ char *calendars = NULL;
        ClaimRequest c = {
                .entry = req->entry, .jid = job_get_jid(job), .now = now, .ttl_sec = CLAIM_TTL_DEFAULT_SEC,
                .queue = job_get_queue(job), .class = req->class, .payload = payload, .payload_len = len,
                .occurrence = req->occurrence,
        };
        ClaimResult res;
        unsigned missed;
        int r;

        r = enqueue_hostname(host);
        if (r != 0)
                return r;
        c.host = host;
        if (req->n_calendars > 0) {
                r = enqueue_occurrence(req, &cal, &c, &calendars);
                if (r != 0)
                        return r;
                c.calendars = calendars;
        }

        r = redis_claim_push(redis, &c, wait, &res);
        if (r < 0) {
                log_error("Failed to enqueue %s for entry %s: %s", req->class, req->entry,
                          r == -EPROTO && !redis->error[0] ? "unexpected reply to the claim script" : redis->error);
                return exit_status_for_redis(r);
        }
        format_timestamp(when, sizeof when, c.occurrence, true);
        if (!res.claimed) {
                char held[TIMESTAMP_MAX], f_jid[16 + sizeof res.holder_jid], f_jid_compat[16 + sizeof res.holder_jid],
                        f_host[17 + sizeof res.holder_host];
                const char *fields[] = { f_jid, f_jid_compat, f_host, NULL };

                snprintf(f_jid, sizeof f_jid, LOG_FIELD_JID "%s", res.holder_jid);
                snprintf(f_jid_compat, sizeof f_jid_compat, LOG_FIELD_JID_COMPAT "%s", res.holder_jid);
                snprintf(f_host, sizeof f_host, "JOBS_CLAIMED_BY=%s", res.holder_host);

                /* Not an error: another host (or an earlier run here) did the work. */
                if (res.holder_occurrence == c.occurrence)
                        log_fields(LOG_NOTICE, 0, fields,
                                   "Occurrence %s of entry %s already enqueued by host %s as job %s; not enqueued again.",
                                   when, req->entry, res.holder_host, res.holder_jid);
                else
                        log_fields(LOG_NOTICE, 0, fields,
                                   "Occurrence %s of entry %s is not after the last one claimed (%s, by host %s as job %s); "
                                   "not enqueued.", when, req->entry,
                                   format_timestamp(held, sizeof held, res.holder_occurrence, true), res.holder_host,
                                   res.holder_jid);
                jid[0] = 0;
                return enqueue_check_wait(wait,
                                          "A retry of this run waits for the replicas again and enqueues the job only "
                                          "if the master lost it.",
                                          "claim of entry %s (host %s, job %s)", req->entry, res.holder_host,
                                          res.holder_jid);
        }
        memcpy(jid, job_get_jid(job), JOB_JID_LEN + 1);
        /* Some occurrences passed with no host claiming them: count them (a second round trip, only
         * then; the job is in Redis already, so a failure here is only logged). */
        if (res.missed_after > 0 &&
            occurrence_count_between(cal.specs, cal.n, res.missed_after, c.occurrence, CLAIM_MISSED_WINDOW, &missed) >= 0 &&
            missed > 0) {
                log_warning("Entry %s: %u occurrence%s since %s passed with no host enqueueing %s.", req->entry, missed,
                            missed == 1 ? "" : "s", format_timestamp(when, sizeof when, res.missed_after, true),
                            missed == 1 ? "it" : "them");
                if (redis_claim_add_missed(redis, req->entry, missed) < 0)
                        log_warning("Failed to count the missed occurrences of entry %s: %s", req->entry, redis->error);
                format_timestamp(when, sizeof when, c.occurrence, true);
        }
        EnqueueFields f;
        const char *const *fields = enqueue_fields(&f, jid, req->class, job_get_queue(job));
        if (res.manual)
                log_fields(LOG_INFO, 0, fields, "Enqueued %s job %s on queue %s for entry %s as a manual run (jobsctl run-now), "
                           "not deduplicated.", req->class, jid, job_get_queue(job), req->entry);
        else if (log_get_target() != LOG_TARGET_STDERR)
                log_fields(LOG_INFO, 0, fields, "Enqueued %s job %s on queue %s for occurrence %s of entry %s.", req->class,
                           jid, job_get_queue(job), when, req->entry);
        return enqueue_check_wait(wait,
                                  res.manual ? "A manual run has no claim: a retry of it counts as the entry's scheduled "
                                               "run, enqueued unless that occurrence is claimed already."
                                             : "A retry of this run enqueues it again only if the master lost it.",
                                  "%s job %s", req->class, jid);
}

int enqueue_run(const EnqueueRequest *req, char jid[static JOB_JID_LEN + 1]) {
        _cleanup_(json_decrefp) json_t *args = NULL, *job = NULL;
        _cleanup_free_ char *payload = NULL;
        _cleanup_(redis_source_done) RedisSource src = {};
        _cleanup_(redis_url_done) RedisURL url = {};
        _cleanup_(redis_done) Redis redis = {};
        RedisWait wait = { .replicas = req->wait_replicas, .timeout = req->wait_timeout };
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

        if (req->active_job)
                r = active_job_new(req->class, req->queue, args, &req->retry, now, &job, &reason);
        else
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

        if (req->entry) {
                r = json_object_set_new(job, CLAIM_JOB_FIELD, json_string(req->entry));
                if (r < 0) {
                        log_oom();
                        return EX_OSERR;
                }
                free(payload);
                payload = NULL;
                r = job_serialize(job, req->max_payload, &payload, &len);
                if (r < 0) {
                        log_error_errno(r, "Failed to serialize job: %m");
                        return r == -EMSGSIZE ? EX_DATAERR : EX_OSERR;
                }
        }

        r = redis_open(&redis, &url, req->timeout);
        if (r >= 0 && req->entry)
                return claim_and_push(&redis, req, &wait, job, payload, len, now, jid);
        if (r >= 0)
                r = at > 0 ? redis_schedule_job(&redis, at, payload, len, &wait)
                           : redis_push_job(&redis, job_get_queue(job), payload, len, &wait);
        if (r < 0) {
                log_error("Failed to enqueue %s: %s", req->class, redis.error);
                return exit_status_for_redis(r);
        }

        memcpy(jid, job_get_jid(job), JOB_JID_LEN + 1);
        EnqueueFields f;
        const char *const *fields = enqueue_fields(&f, jid, req->class, job_get_queue(job));
        if (log_get_target() != LOG_TARGET_STDERR)
                log_fields(LOG_INFO, 0, fields, "Enqueued %s job %s on queue %s%s.", req->class, jid, job_get_queue(job),
                           at > 0 ? " (scheduled)" : "");
        return enqueue_check_wait(&wait, "Running this again enqueues a second job.", "%s job %s", req->class, jid);
}
