/* SPDX-License-Identifier: MIT */
/* The fetcher: jobs move from their queues into this process's in-flight lists by a script, which
 * moves payloads above MaxPayload to dead instead; one connection per queue only waits for jobs; lists
 * of dead processes go back, and what our own lists hold that we do not after a reconnect (see
 * fetch.c). */
#pragma once

#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>

#include "jobs/jobs.h"
#include "redis/redis-async.h"

/* The idle wait on one queue, over a connection of its own. */
typedef struct FetchWait {
        JobsWorker *worker;
        RedisAsync *redis;
        char *queue;
        bool in_flight;           /* its BLMOVE awaits its end */
        uint64_t sent;            /* CLOCK_MONOTONIC, when it was sent */
} FetchWait;

typedef struct Fetcher {
        bool in_flight;           /* the fetch script awaits its reply */
        bool idle;                /* the last fetch found every queue empty, and no wait ended since */
        FetchWait *waits;         /* one per queue, made at the first idle wait */
        size_t n_waits;
} Fetcher;

void fetcher_init(Fetcher *f);
/* Close the wait connections (their pending replies are answered NULL first). */
void fetcher_done(Fetcher *f);

static inline bool fetcher_is_blocking(const Fetcher *f) {
        return f->idle;
}

/* Announce this process's in-flight lists and that it is alive. */
int fetch_register(JobsWorker *w);
/* Fetch as many jobs as there are free slots (and some ready ones while jobs are short); true if a
 * fetch was sent. */
bool fetch_maybe(JobsWorker *w);
/* End the wait for a job (quiet, stop, new queues): the wait connections are closed. */
void fetch_cancel(JobsWorker *w);
/* Redis stopped answering, or the sentinels named another master: drop the wait connections too,
 * which reconnect (those waiting to retry, now). */
void fetch_reset(JobsWorker *w);
/* Through sentinels: the master of a wait connection that is not master, or NULL. */
const char *fetch_wait_elsewhere(const JobsWorker *w, const char *master);
/* The timeout of each idle wait: IdleWaitSec=, or by default 30 s, 2 s per queue with more than 15
 * queues, so that all waits together renew at most every 2 s. */
unsigned fetch_wait_timeout_sec(const JobsWorker *w);
char *fetch_inflight_key(JobsWorker *w, const char *queue);
/* Put back the lists of processes that stopped beating, and all of ours if all_own. */
int fetch_recover(JobsWorker *w, bool all_own, redisCallbackFn *fn, void *privdata);
/* Put back at once the lists of processes of this host that are gone. */
int fetch_recover_local(JobsWorker *w);
/* After a reconnect: put back what our in-flight lists hold that this worker does not (a fetch
 * reply lost with the connection). */
int fetch_reconcile(JobsWorker *w);
