/* SPDX-License-Identifier: MIT */
/* Running fetched jobs: the worker's list of jobs, the queue of those waiting for a slot, and the
 * count of those running (see run.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "jobs/jobs.h"
#include "util/util.h"

/* A fetched payload: parse it, then run it, hold it for a free slot, or give it back. */
void work_job_start(JobsWorker *w, const char *queue, const char *raw, size_t len);
/* Start waiting jobs while slots are free; once quiet or stopping, give them all back. */
void work_start_pending(JobsWorker *w);
/* The job's handler ended (or it never started): it no longer counts as running. */
void work_job_stopped(JobsJob *j, usec_t took);
/* Redis confirmed the job's end: forget it. */
void work_job_remove(JobsJob *j);
JobsJob *work_job_free(JobsJob *j);
void work_job_log(JobsJob *j, int level, const char *status, const char *const *extra, const char *fmt, ...)
        _printf_(5, 6);
int handler_find_exec(JobsWorker *w, const char *class, char **ret_path);
