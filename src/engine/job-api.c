/* SPDX-License-Identifier: MIT */
/* The public view of a job, for C handlers (jobs_job_* in jobs/jobs.h): valid during the handler call. */

#include <stdarg.h>

#include "engine/worker-internal.h"

const char *jobs_job_class(const JobsJob *j) {
        return j->class;
}

const char *jobs_job_id(const JobsJob *j) {
        return j->jid;
}

const char *jobs_job_queue(const JobsJob *j) {
        return j->queue;
}

const char *jobs_job_payload(const JobsJob *j) {
        return j->raw;
}

const char *jobs_job_args(JobsJob *j) {
        if (!j->args_text && j->job)
                j->args_text = json_dumps(json_object_get(j->job, "args"), JSON_COMPACT | JSON_ENCODE_ANY);
        return j->args_text ? j->args_text : "[]";
}

int jobs_job_retry_count(const JobsJob *j) {
        return j->retry_count;
}

int jobs_job_fail(JobsJob *j, const char *error_class, const char *format, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, format);
        if (vasprintf(&m, format, ap) < 0)
                m = NULL;
        va_end(ap);
        free(j->fail_message);
        j->fail_message = m;
        free(j->fail_class);
        j->fail_class = error_class ? strdup(error_class) : NULL;
        return -EIO;
}
