/* SPDX-License-Identifier: MIT */
/* Sidekiq's retry policy: what a failure does to a job (fields, retry or dead) and when it runs again. */
#pragma once

#include <jansson.h>

#include "model/job.h"

typedef enum RetryAction {
        RETRY_ACTION_RETRY, /* ZADD retry <at> <job> */
        RETRY_ACTION_DEAD,  /* retries exhausted: ZADD dead <now> <job> */
        RETRY_ACTION_DROP,  /* retry: false, or "dead": false once exhausted: forget the job */
        _RETRY_ACTION_MAX,
        _RETRY_ACTION_INVALID = -EINVAL,
} RetryAction;

/* Sidekiq's dead set limits (dead_max_jobs, dead_timeout_in_seconds), for the worker and jobsctl. */
#define RETRY_DEAD_MAX_JOBS 10000
#define RETRY_DEAD_TIMEOUT_SEC (180 * 24 * 3600)

/* Attempts allowed by a job's "retry" field: true → 25, N → N, false → 0. */
unsigned retry_max_attempts(JobRetry r);

/* The longest wait before a retry. Sidekiq's formula grows as count^4: a job allowed a million
 * retries would wait 10^24 s, a score no clock reaches and a microsecond count no integer holds. */
#define RETRY_DELAY_MAX_SEC (365.0 * 24 * 3600)

/* Seconds until the next attempt after failure number count (0-based), rnd in 0..9 as Ruby's rand(10):
 * count^4 + 15 + rnd * (count + 1), at most RETRY_DELAY_MAX_SEC. */
double retry_delay(unsigned count, unsigned rnd);

/* Apply a failure to job at time now: error_class, error_message (cut to 10,000 chars), failed_at +
 * retry_count=0 the first time, retried_at + retry_count+1 later, queue = retry_queue if set. For
 * retry: false nothing is changed and the action is DROP. *ret_at receives the retry time (RETRY) or
 * now (DEAD). -ENOMEM. */
int retry_apply(json_t *job, const char *error_class, const char *error_message, double now, unsigned rnd,
                RetryAction *ret_action, double *ret_at);

const char *retry_action_to_string(RetryAction a);
