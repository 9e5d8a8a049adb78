/* SPDX-License-Identifier: MIT */
/* One push, shared by jobs-enqueue and `jobsctl enqueue`: validate, connect, push, map to sysexits. */
#pragma once

#include "model/job.h"
#include "redis/redis.h"
#include "util/util.h"

typedef struct EnqueueRequest {
        const char *redis_url; /* NULL: $REDIS_URL, else the default */
        const char *class;
        const char *queue;
        const char *args_json; /* NULL: [] */
        JobRetry retry;
        double at;             /* 0: now; else epoch seconds */
        usec_t in;             /* relative delay, used when at == 0 */
        size_t max_payload;
        usec_t timeout;
} EnqueueRequest;

#define ENQUEUE_REQUEST_INIT                                                           \
        (EnqueueRequest) {                                                             \
                .queue = "default", .retry = { JOB_RETRY_TRUE, JOB_RETRY_DEFAULT },    \
                .max_payload = JOB_PAYLOAD_MAX_DEFAULT, .timeout = REDIS_TIMEOUT_DEFAULT, \
        }

/* Parse --in / --at values into the request; log and return -EINVAL on bad input. */
int enqueue_parse_in(const char *s, EnqueueRequest *req);
int enqueue_parse_at(const char *s, EnqueueRequest *req);

/* Build and push the job. Returns 0 and fills jid, or logs the failure once and returns the exit
 * status: EX_DATAERR, EX_USAGE, EX_CONFIG, EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM, EX_OSERR. */
int enqueue_run(const EnqueueRequest *req, char jid[static JOB_JID_LEN + 1]);
