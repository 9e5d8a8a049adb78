/* SPDX-License-Identifier: MIT */
/* libjobs: embed the jobs worker in a C program and run Sidekiq-format jobs with C functions.
 *
 *     static int say_hello(JobsJob *job, void *userdata) {
 *             printf("hello %s\n", jobs_job_args(job));
 *             return 0;                        // done; a negative errno fails the job (retry, dead)
 *     }
 *
 *     JobsWorker *w;
 *     jobs_log_open("my-worker");
 *     jobs_worker_new(&w);
 *     jobs_worker_add_queue(w, "default");      // or "critical,2" for weighted order
 *     jobs_worker_register(w, "SayHello", say_hello, NULL);
 *     r = jobs_worker_run(w);                   // until SIGTERM/SIGINT; systemd notify, watchdog
 *     jobs_worker_free(w);
 *
 * Handlers run on the worker's event loop thread, one at a time: keep them short (milliseconds) or
 * hand longer work to an executable handler, which runs in its own process. Classes without a C
 * handler run the executable of the same name in the handler directories (see jobs-worker(8)).
 * Every function returns 0 or a negative errno. */
#pragma once

#include <stdarg.h>

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
JobsWorker *jobs_worker_free(JobsWorker *w);

/* Settings (before jobs_worker_run). The config file uses the keys of worker.conf(5). */
int jobs_worker_load_config(JobsWorker *w, const char *path);
int jobs_worker_set_redis(JobsWorker *w, const char *url);
int jobs_worker_add_queue(JobsWorker *w, const char *spec);
int jobs_worker_set_concurrency(JobsWorker *w, unsigned n);
int jobs_worker_register(JobsWorker *w, const char *job_class, JobsHandlerFn fn, void *userdata);

/* Run until stopped (SIGTERM, SIGINT, "TERM" in <identity>-signals or jobs_worker_stop()).
 * Blocks SIGTERM, SIGINT, SIGTSTP and SIGCHLD in the calling thread, ignores SIGPIPE, and reaps
 * every child process of the program (handlers must not wait for children of their own). */
int jobs_worker_run(JobsWorker *w);
/* Ask a running worker to stop as on SIGTERM (from a handler or another loop callback). */
void jobs_worker_stop(JobsWorker *w);

/* The job being run: valid only during the handler call. */
const char *jobs_job_class(const JobsJob *job);
const char *jobs_job_id(const JobsJob *job);
const char *jobs_job_queue(const JobsJob *job);
/* The job's "args" as compact JSON text, and the whole payload as stored in Redis. */
const char *jobs_job_args(JobsJob *job);
const char *jobs_job_payload(const JobsJob *job);
/* -1 before the first failure, else Sidekiq's retry_count. */
int jobs_job_retry_count(const JobsJob *job);

/* Record why the job failed (error_class, error_message) and return -EIO for the handler to return. */
int jobs_job_fail(JobsJob *job, const char *error_class, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
