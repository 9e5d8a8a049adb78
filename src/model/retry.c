/* SPDX-License-Identifier: MIT */
/* Sidekiq's retry policy (lib/sidekiq/job_retry.rb): fields, attempts, backoff, dead. */

#include <string.h>

#include "model/retry.h"

unsigned retry_max_attempts(JobRetry r) {
        switch (r.kind) {
        case JOB_RETRY_TRUE:
                return JOB_RETRY_DEFAULT;
        case JOB_RETRY_COUNT:
                return r.count;
        default:
                return 0;
        }
}

double retry_delay(unsigned count, unsigned rnd) {
        double c = count;

        double d = c * c * c * c + 15 + (double) (rnd % 10) * (c + 1);

        return d < RETRY_DELAY_MAX_SEC ? d : RETRY_DELAY_MAX_SEC;
}

const char *retry_action_to_string(RetryAction a) {
        static const char *const names[_RETRY_ACTION_MAX] = {
                [RETRY_ACTION_RETRY] = "retry",
                [RETRY_ACTION_DEAD] = "dead",
                [RETRY_ACTION_DROP] = "drop",
        };
        return a >= 0 && a < _RETRY_ACTION_MAX ? names[a] : NULL;
}

/* Cut to at most JOB_ERROR_MESSAGE_MAX characters without splitting a UTF-8 sequence. */
static json_t *message_to_json(const char *m) {
        size_t n = 0, chars = 0;

        m = m ? m : "";
        while (m[n] && chars < JOB_ERROR_MESSAGE_MAX) {
                n++;
                while ((m[n] & 0xC0) == 0x80)
                        n++;
                chars++;
        }
        /* jansson refuses invalid UTF-8: fall back to a plain statement rather than lose the failure. */
        json_t *s = json_stringn(m, n);
        return s ? s : json_string("(error message was not valid UTF-8)");
}

int retry_apply(json_t *job, const char *error_class, const char *error_message, double now, unsigned rnd,
                RetryAction *ret_action, double *ret_at) {
        JobRetry policy = job_get_retry(job);
        json_t *rq, *dead;
        unsigned count;
        int prev, r;

        if (policy.kind == JOB_RETRY_FALSE) {
                *ret_action = RETRY_ACTION_DROP;
                *ret_at = now;
                return 0;
        }

        rq = json_object_get(job, "retry_queue");
        if (json_is_string(rq) && job_queue_is_valid(json_string_value(rq)))
                r = json_object_set(job, "queue", rq);
        else
                r = json_object_set_new(job, "queue", json_string(job_get_queue(job)));
        if (r < 0)
                return -ENOMEM;
        if (json_object_set_new(job, "error_message", message_to_json(error_message)) < 0 ||
            json_object_set_new(job, "error_class", json_string(error_class && *error_class ? error_class : "RuntimeError")) < 0)
                return -ENOMEM;

        prev = job_get_retry_count(job);
        if (json_is_integer(json_object_get(job, "retry_count"))) {
                /* never past what job_validate() accepts: the job must still parse in retry or dead */
                count = (unsigned) MIN(prev + 1, JOB_RETRY_COUNT_MAX);
                r = job_set_time(job, "retried_at", now);
        } else {
                count = 0;
                r = job_set_time(job, "failed_at", now);
        }
        if (r < 0)
                return r;
        if (json_object_set_new(job, "retry_count", json_integer(count)) < 0)
                return -ENOMEM;

        if (count < retry_max_attempts(policy) && count < JOB_RETRY_COUNT_MAX) {
                *ret_action = RETRY_ACTION_RETRY;
                *ret_at = now + retry_delay(count, rnd);
                return 0;
        }
        dead = json_object_get(job, "dead");
        *ret_action = json_is_false(dead) ? RETRY_ACTION_DROP : RETRY_ACTION_DEAD;
        *ret_at = now;
        return 0;
}
