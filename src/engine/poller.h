/* SPDX-License-Identifier: MIT */
/* The poller for `retry` and `schedule`: its timer, at the cadence Sidekiq 6.4 computes (see poller.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "jobs/jobs.h"
#include "util/util.h"

#define POLL_AVERAGE_USEC (5 * USEC_PER_SEC) /* Sidekiq's average_scheduled_poll_interval */
#define POLL_SMALL_CLUSTER 10                /* below this many processes, the interval is kept near its average */
#define POLL_PROCESSES_MAX 10000             /* a larger `processes` set is taken as this many */

typedef struct Poller {
        sd_event_source *timer;
        bool in_flight;           /* a poll awaits its reply */
        uint64_t n_processes;     /* SCARD processes at the last heartbeat */
} Poller;

void poller_init(Poller *p);
void poller_done(Poller *p);

/* The heartbeat counted n processes: the first count starts polling; a much smaller cluster than
 * the last wait was drawn for draws a new one. */
void poller_set_processes(JobsWorker *w, uint64_t n);
/* The connection dropped: no reply is coming for the poll in flight. */
void poller_connection_lost(Poller *p);

/* The wait before a process's next poll. With n processes (0 counts as 1) and avg = n × POLL_AVERAGE_USEC:
 * uniform in [avg/2, 3avg/2) with fewer than POLL_SMALL_CLUSTER processes, so the cluster as a whole
 * polls about every POLL_AVERAGE_USEC; uniform in [0, avg) from there on (Sidekiq's choice: enough
 * processes spread the polls evenly; the cluster then polls about every POLL_AVERAGE_USEC / 2).
 * n is capped at 10000; r is a random number in [0, 1), values outside are clamped. */
usec_t poll_interval_usec(uint64_t n_processes, double r);
