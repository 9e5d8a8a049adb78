/* SPDX-License-Identifier: MIT */
/* What the jobs-worker program may do to a worker beyond the public API in jobs/jobs.h: hand it the
 * settings it built from worker.conf and its command line. The worker's state stays in
 * worker-internal.h, which only the engine includes. */
#pragma once

#include "jobs/jobs.h"
#include "engine/worker-config.h"

/* Replace the worker's settings by *c, taking what *c owns; *c is left empty and initialized. */
void worker_set_config(JobsWorker *w, WorkerConfig *c);

/* How to build the settings again on SIGHUP (from the same file and command line as at start): fill
 * *ret (initialized, empty), return < 0 after logging why not. Without one, SIGHUP changes nothing. */
typedef int (*WorkerReloadFn)(WorkerConfig *ret, void *userdata);
void worker_set_reload(JobsWorker *w, WorkerReloadFn fn, void *userdata);
