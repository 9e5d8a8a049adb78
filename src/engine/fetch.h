/* SPDX-License-Identifier: MIT */
/* The fetcher: jobs move from their queues into this process's in-flight lists by a script, which
 * moves payloads above MaxPayload to dead instead; the second connection only waits for jobs; lists
 * of dead processes go back, and what our own lists hold that we do not after a reconnect (see
 * fetch.c). */
#pragma once

#include <hiredis/async.h>
#include <stdbool.h>

#include "jobs/jobs.h"

typedef struct Fetcher {
        bool in_flight;           /* the fetch script awaits its reply */
        bool block_in_flight;     /* the wait for a job (fetch_block()) awaits its end */
        unsigned queue_turn;      /* which queue the wait is on */
} Fetcher;

void fetcher_init(Fetcher *f);
void fetcher_done(Fetcher *f);

static inline bool fetcher_is_blocking(const Fetcher *f) {
        return f->block_in_flight;
}

/* Announce this process's in-flight lists and that it is alive. */
int fetch_register(JobsWorker *w);
/* Fetch as many jobs as there are free slots (and some ready ones while jobs are short); true if a
 * fetch was sent. */
bool fetch_maybe(JobsWorker *w);
/* End the wait for a job (quiet, stop). */
void fetch_cancel(JobsWorker *w);
char *fetch_inflight_key(JobsWorker *w, const char *queue);
/* Put back the lists of processes that stopped beating, and all of ours if all_own. */
int fetch_recover(JobsWorker *w, bool all_own, redisCallbackFn *fn, void *privdata);
/* Put back at once the lists of processes of this host that are gone. */
int fetch_recover_local(JobsWorker *w);
/* After a reconnect: put back what our in-flight lists hold that this worker does not (a fetch
 * reply lost with the connection). */
int fetch_reconcile(JobsWorker *w);
