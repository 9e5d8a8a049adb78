/* SPDX-License-Identifier: MIT */
/* The fetcher: jobs move from their queues into this process's in-flight lists, by a script while
 * jobs wait, else by BLMOVE on the second connection; lists of dead processes go back (see fetch.c). */
#pragma once

#include <hiredis/async.h>
#include <stdbool.h>

#include "jobs/jobs.h"

typedef struct Fetcher {
        bool in_flight;           /* the fetch script awaits its reply */
        bool block_in_flight;     /* BLMOVE awaits a job or its timeout */
        unsigned queue_turn;      /* which queue BLMOVE waits on */
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
/* End a BLMOVE in flight (quiet, stop). */
void fetch_cancel(JobsWorker *w);
char *fetch_inflight_key(JobsWorker *w, const char *queue);
/* Put back the lists of processes that stopped beating, and all of ours if all_own. */
int fetch_recover(JobsWorker *w, bool all_own, redisCallbackFn *fn, void *privdata);
/* Put back at once the lists of processes of this host that are gone. */
int fetch_recover_local(JobsWorker *w);
