/* SPDX-License-Identifier: MIT */
/* libjobs: embed the jobs worker in a C program and run Sidekiq-format jobs with C functions.
 *
 *     static int say_hello(JobsJob *job, void *userdata) {
 *             printf("hello %s\n", jobs_job_args(job));
 *             return 0;                        // done; a negative errno fails the job (retry, dead)
 *     }
 *
 *     JOBS_CLEANUP_WORKER JobsWorker *w = NULL;  // freed when it goes out of scope
 *     jobs_log_open("my-worker");
 *     jobs_worker_new(&w);
 *     if (jobs_worker_add_queue(w, "default") < 0)  // or "critical,2" for weighted order
 *             fprintf(stderr, "%s\n", jobs_worker_errstr(w));   // why, in a sentence
 *     jobs_worker_register(w, "SayHello", say_hello, NULL);
 *     r = jobs_worker_run(w);                   // until SIGTERM/SIGINT; systemd notify, watchdog
 *
 * Handlers run on the worker's event loop thread, one at a time: keep them short (milliseconds) or
 * hand longer work to an executable handler, which runs in its own process. Classes without a C
 * handler run the executable of the same name in the handler directories (see jobs-worker(8)).
 * Every function returns 0 or a negative errno: -EINVAL for a NULL or invalid argument, -EBUSY for a
 * setting changed or a run started once the worker ran; jobs_worker_errstr() then says why. */
#pragma once

#include <stdarg.h>

/* The version of this header (of the jobs release it comes with). */
#define JOBS_VERSION_MAJOR 0
#define JOBS_VERSION_MINOR 1
#define JOBS_VERSION_PATCH 0
/* For #if: JOBS_VERSION_AT_LEAST(0, 2, 0). */
#define JOBS_VERSION_AT_LEAST(major, minor, patch)                                                     \
        (JOBS_VERSION_MAJOR > (major) ||                                                                \
         (JOBS_VERSION_MAJOR == (major) &&                                                              \
          (JOBS_VERSION_MINOR > (minor) || (JOBS_VERSION_MINOR == (minor) && JOBS_VERSION_PATCH >= (patch)))))

#ifdef __cplusplus
extern "C" {
#endif

typedef struct JobsWorker JobsWorker;
typedef struct JobsJob JobsJob;

/* Return 0 when the job is done. Return a negative errno, or jobs_job_fail(...), to fail it. */
typedef int (*JobsHandlerFn)(JobsJob *job, void *userdata);

/* Log as the jobs programs do: native journal entries with fields under systemd, lines on stderr
 * otherwise; $JOBS_LOG_LEVEL and $JOBS_LOG_FIELDS apply. Call once, first. */
void jobs_log_open(const char *program);

int jobs_worker_new(JobsWorker **ret);
/* Accepts NULL; returns NULL. */
JobsWorker *jobs_worker_free(JobsWorker *w);
/* For __attribute__((cleanup)), as systemd's _cleanup_(sd_event_unrefp): frees *w, leaves NULL. */
static inline void jobs_worker_freep(JobsWorker **w) {
        if (w)
                *w = jobs_worker_free(*w);
}
#define JOBS_CLEANUP_WORKER __attribute__((cleanup(jobs_worker_freep)))

/* Why the last call on w failed: a sentence naming the file:line, key or argument at fault and what
 * to do; "" if that call succeeded (or w is NULL). Valid until the next call on w. */
const char *jobs_worker_errstr(const JobsWorker *w);

/* Settings, before jobs_worker_run (-EBUSY after). The config file uses the keys of worker.conf(5);
 * a missing file is -ENOENT. */
int jobs_worker_load_config(JobsWorker *w, const char *path);
int jobs_worker_set_redis(JobsWorker *w, const char *url);
int jobs_worker_add_queue(JobsWorker *w, const char *spec);
int jobs_worker_set_concurrency(JobsWorker *w, unsigned n);
int jobs_worker_register(JobsWorker *w, const char *job_class, JobsHandlerFn fn, void *userdata);

/* Run until stopped (SIGTERM, SIGINT, "TERM" in <identity>-signals or jobs_worker_stop()). A worker
 * runs once: a second call, also from inside a handler, returns -EBUSY.
 * Blocks SIGTERM, SIGINT, SIGTSTP and SIGCHLD in the calling thread, ignores SIGPIPE, and reaps
 * every child process of the program (handlers must not wait for children of their own). */
int jobs_worker_run(JobsWorker *w);
/* Ask a running worker to stop as on SIGTERM (from a handler or another loop callback); nothing
 * before jobs_worker_run, or with NULL. */
void jobs_worker_stop(JobsWorker *w);

/* The job being run: valid only during the handler call. NULL for a NULL job. For a job enqueued
 * through Rails' ActiveJob (its payload's class is Sidekiq's JobWrapper), the class is the job
 * class it wraps and the args are the ActiveJob arguments; the payload is as stored. */
const char *jobs_job_class(const JobsJob *job);
const char *jobs_job_id(const JobsJob *job);
const char *jobs_job_queue(const JobsJob *job);
/* The job's "args" as compact JSON text, and the whole payload as stored in Redis. */
const char *jobs_job_args(const JobsJob *job);
const char *jobs_job_payload(const JobsJob *job);
/* -1 before the first failure, else Sidekiq's retry_count; -EINVAL for a NULL job. */
int jobs_job_retry_count(const JobsJob *job);

/* Record why the job failed (error_class, error_message) and return -EIO for the handler to return;
 * -EINVAL with a NULL job or format, -ENOMEM if it cannot be recorded. */
int jobs_job_fail(JobsJob *job, const char *error_class, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
