/* SPDX-License-Identifier: MIT */
/* The public view of a job, for C handlers (jobs_job_* in jobs/jobs.h): valid during the handler call.
 * A NULL job is a caller's mistake, answered with NULL or -EINVAL. */

#include <stdarg.h>

#include "engine/worker-internal.h"

const char *jobs_job_class(const JobsJob *j) {
        assert_return(j, NULL);
        return j->class;
}

const char *jobs_job_id(const JobsJob *j) {
        assert_return(j, NULL);
        return j->jid;
}

const char *jobs_job_queue(const JobsJob *j) {
        assert_return(j, NULL);
        return j->queue;
}

const char *jobs_job_payload(const JobsJob *j) {
        assert_return(j, NULL);
        return j->raw;
}

const char *jobs_job_args(const JobsJob *j) {
        assert_return(j, NULL);
        /* Made on first use and kept: a cache, not a change the caller can see. Every job is
         * allocated writable (run.c), so writing through the cast is defined. */
        if (!j->args_text && j->job) {
                /* An ActiveJob payload's arguments are inside its serialization. */
                json_t *a = active_job_arguments(j->job);
                ((JobsJob *) j)->args_text = json_dumps(a ? a : json_object_get(j->job, "args"), JSON_COMPACT | JSON_ENCODE_ANY);
        }
        return j->args_text ? j->args_text : "[]";
}

int jobs_job_retry_count(const JobsJob *j) {
        assert_return(j, -EINVAL);
        return j->retry_count;
}

int jobs_job_fail(JobsJob *j, const char *error_class, const char *format, ...) {
        va_list ap;
        char *m = NULL;
        int r;

        assert_return(j, -EINVAL);
        assert_return(format, -EINVAL);
        va_start(ap, format);
        r = vasprintf(&m, format, ap);
        va_end(ap);
        free(j->fail_message);
        j->fail_message = r < 0 ? NULL : m;
        free(j->fail_class);
        j->fail_class = error_class ? strdup(error_class) : NULL;
        if (r < 0 || (error_class && !j->fail_class))
                return -ENOMEM; /* the handler's error then says "Cannot allocate memory" */
        return -EIO;
}
