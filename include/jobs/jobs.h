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
 * A program with an sd-event loop of its own attaches the worker to it instead of running it (see
 * jobs_worker_start() below): jobs_worker_attach_event(w, event, 0), jobs_worker_start(w, on_stopped,
 * data), then its own sd_event_loop().
 *
 * Handlers run on the worker's event loop thread, one at a time: keep them short (milliseconds) or
 * hand longer work to an executable handler, which runs in its own process. Classes without a C
 * handler run the executable of the same name in the handler directories (see jobs-worker(8)).
 * Every function returns 0 or a negative errno: -EINVAL for a NULL or invalid argument, -EBUSY for a
 * setting changed or a run started once the worker ran; jobs_worker_errstr() then says why. */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* The version of this header (of the jobs release it comes with). */
#define JOBS_VERSION_MAJOR 0
#define JOBS_VERSION_MINOR 2
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
/* A started worker has stopped: exit_code is what jobs_worker_run() would have returned (0, or
 * -EINVAL when the Redis URL names a database the server lacks). */
typedef void (*JobsStoppedFn)(JobsWorker *w, int exit_code, void *userdata);

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

/* Settings, before jobs_worker_run or jobs_worker_start (-EBUSY after). The config file uses the
 * keys of worker.conf(5); a missing file is -ENOENT. */
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
 * before jobs_worker_run or jobs_worker_start, once stopped, or with NULL. */
void jobs_worker_stop(JobsWorker *w);

/* Embedding in a program's own sd-event loop, as sd_bus_attach_event() does for a bus. Attach
 * before jobs_worker_start() (-EBUSY after): the worker takes a reference on event (NULL: the
 * thread's sd_event_default()); its event sources get the priority given (SD_EVENT_PRIORITY_NORMAL
 * is 0). jobs_worker_get_event() returns the loop attached (no new reference), or NULL.
 *
 * jobs_worker_start() sets the worker up on that loop and returns at once; the worker then runs as
 * the program runs its loop, and ends when jobs_worker_stop() is called, by "TERM" in
 * <identity>-signals, or on a configuration error. Once it has stopped (its jobs finished, recorded
 * and signed off in Redis, or the shutdown deadline passed) the worker has removed all its event
 * sources and closed its connections, and calls on_stopped (if not NULL) from a callback of its
 * own: freeing the worker there is allowed. The program's loop goes on. Without an attached loop,
 * with SIGCHLD not blocked or SIGPIPE not ignored, the start is -EINVAL and may be tried again once
 * that is fixed; past those checks a worker starts once (-EBUSY), and a start that fails leaves
 * nothing on the loop. Unlike jobs_worker_run(), the worker then:
 * - takes no signal but SIGCHLD: SIGTERM, SIGINT, SIGTSTP and SIGHUP are the program's, which calls
 *   jobs_worker_stop() when it should stop (there is no reload: SIGHUP is jobs-worker's own);
 * - needs SIGCHLD blocked in every thread of the program (block it before creating threads) and
 *   SIGPIPE ignored, both before the start; it adds its own SIGCHLD source to the loop, so the loop
 *   must have none (-EBUSY); it reaps only its own children (handlers, pool processes), by pid, and
 *   leaves the program's to it (waitpid(), or sd_event_add_child(), which watches a pidfd);
 * - sends nothing to systemd (READY=1, STATUS=, STOPPING=) and pings no watchdog: the program is
 *   the service, and sd_event_set_watchdog() on its loop is its own choice.
 * Freeing a started worker before on_stopped kills its handlers; their jobs stay in its in-flight
 * lists and are recovered by the next worker, as after kill -9. */
int jobs_worker_attach_event(JobsWorker *w, sd_event *event, int64_t priority);
sd_event *jobs_worker_get_event(JobsWorker *w);
int jobs_worker_start(JobsWorker *w, JobsStoppedFn on_stopped, void *userdata);

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
