/* SPDX-License-Identifier: MIT */
/* Pools of long-lived handler processes (a [Pool] of worker.conf): each process gets one job at a
 * time as a JSON line on its stdin and answers one line per job on fd 3; the protocol is
 * jobs-handler(7). See pool.c. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "jobs/jobs.h"

#define POOL_PROTOCOL_VERSION 1
#define POOL_REPLY_MAX 16384                           /* bytes of one line on fd 3 */
#define POOL_BACKOFF_MIN_USEC (100 * USEC_PER_MSEC)    /* respawn delay after a first crash ... */
#define POOL_BACKOFF_MAX_USEC (30 * USEC_PER_SEC)      /* ... doubling up to this */
#define POOL_EXIT_WAIT_USEC (2 * USEC_PER_SEC)         /* at the worker's end, for processes to leave on EOF */

typedef struct Pool Pool;

/* Run job in the pool that serves its class: 1 if one does (the job's end comes through ack_*),
 * 0 if none does. */
int pool_run(JobsWorker *w, JobsJob *j);
/* A child exited: 1 if it was a pool process (reaped here), else 0. */
int pool_on_exit(JobsWorker *w, const siginfo_t *si);
/* A process of a pool that exited, not reaped yet (si filled, as waitid(WNOWAIT)); false if none. */
bool pool_next_exited(JobsWorker *w, siginfo_t *si);
/* Stop began: jobs waiting for a process go back to their queues; no process is started again. */
void pools_stop(JobsWorker *w);
/* The shutdown timeout passed: kill the processes still running jobs, whose jobs go back to their
 * queues. Returns how many. */
unsigned pools_kill_busy(JobsWorker *w);
/* At the worker's end: EOF to every process, a short wait, then kill. */
void pools_free(JobsWorker *w);
