/* SPDX-License-Identifier: MIT */
/* One push, shared by jobs-enqueue and `jobsctl enqueue`: validate, connect, push, map to sysexits. */
#pragma once

#include "model/job.h"
#include "model/schedule.h"
#include "redis/redis.h"
#include "util/util.h"

typedef struct EnqueueRequest {
        const char *redis_url; /* NULL: $REDIS_URL, else the default */
        const char *class;
        const char *queue;
        const char *args_json; /* NULL: [] */
        bool active_job;       /* --active-job: as Rails' ActiveJob pushes it (model/active-job.h) */
        JobRetry retry;
        double at;             /* 0: now; else epoch seconds */
        usec_t in;             /* relative delay, used when at == 0 */
        size_t max_payload;
        usec_t timeout;
        /* A run of a schedule entry (--entry): the occurrence it stands for is claimed fleet-wide
         * and pushed at most once. Without an entry the job is pushed unconditionally. */
        const char *entry;
        usec_t occurrence;     /* --occurrence; 0: from the calendars */
        const char *calendars[SCHEDULE_CALENDARS_MAX]; /* --calendar, n_calendars of them */
        size_t n_calendars;
        usec_t trigger;        /* --trigger-time: when the timer fired; 0: now */
        bool trigger_start;    /* --trigger-time start: when this process was forked */
        /* --wait-replicas, --wait-timeout (with an entry, else $JOBS_WAIT_REPLICAS and
         * $JOBS_WAIT_TIMEOUT): replicas that must confirm the push, else exit 75 (the job is on the
         * master all the same). */
        unsigned wait_replicas;
        usec_t wait_timeout;
} EnqueueRequest;

/* The host name recorded with a claim: $JOBS_HOSTNAME (tests, containers), else gethostname(). */
#define ENQUEUE_HOSTNAME_ENV "JOBS_HOSTNAME"
/* The defaults of --wait-replicas and --wait-timeout for runs of a schedule entry, read by the
 * timers' services from /etc/default/jobs. */
#define ENQUEUE_WAIT_REPLICAS_ENV "JOBS_WAIT_REPLICAS"
#define ENQUEUE_WAIT_TIMEOUT_ENV "JOBS_WAIT_TIMEOUT"

#define ENQUEUE_REQUEST_INIT                                                           \
        (EnqueueRequest) {                                                             \
                .queue = "default", .retry = { JOB_RETRY_TRUE, JOB_RETRY_DEFAULT },    \
                .max_payload = JOB_PAYLOAD_MAX_DEFAULT, .timeout = REDIS_TIMEOUT_DEFAULT, \
                .wait_timeout = REDIS_WAIT_TIMEOUT_DEFAULT,                            \
        }

/* The furthest ahead --in schedules a job. */
#define ENQUEUE_IN_MAX (100ULL * 31557600ULL * USEC_PER_SEC)
#define ENQUEUE_IN_MAX_TEXT "100 years"

/* Parse --in / --at values into the request; log and return -EINVAL on bad input. */
int enqueue_parse_in(const char *s, EnqueueRequest *req);
int enqueue_parse_at(const char *s, EnqueueRequest *req);

/* --wait-replicas and --wait-timeout values; what names the option or variable in the message. */
int enqueue_parse_wait_replicas(const char *what, const char *s, unsigned *ret);
int enqueue_parse_wait_timeout(const char *what, const char *s, usec_t *ret);

/* --occurrence and --trigger-time values (epoch seconds, decimals allowed). */
int enqueue_parse_epoch(const char *option, const char *s, usec_t *ret);

/* Build and push the job. Returns 0 and fills jid, or logs the failure once and returns the exit
 * status: EX_DATAERR, EX_USAGE, EX_CONFIG, EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM, EX_OSERR. */
int enqueue_run(const EnqueueRequest *req, char jid[static JOB_JID_LEN + 1]);
