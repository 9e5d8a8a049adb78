/* SPDX-License-Identifier: MIT */
/* The heartbeat: every 5 s, one pipeline registering this process with Sidekiq's keys, reading its
 * signal queue and recovering in-flight lists of dead processes (see heartbeat.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "jobs/jobs.h"
#include "util/util.h"

#define WORKER_HEARTBEAT_USEC (5 * USEC_PER_SEC)

typedef struct Heartbeat {
        sd_event_source *timer;
        bool in_flight;           /* its pipeline awaits the closing PING */
        unsigned misses;          /* beats skipped because the last one is unanswered */
        usec_t sent;              /* CLOCK_MONOTONIC, for rtt_us */
        uint64_t rtt_us;
} Heartbeat;

void heartbeat_init(Heartbeat *h);
void heartbeat_done(Heartbeat *h);

/* Arm the timer on the worker's loop; the first beat goes once Redis is up (heartbeat_send). */
int heartbeat_start(JobsWorker *w);
void heartbeat_send(JobsWorker *w);
/* The connection dropped: no reply is coming for the pipeline in flight. */
void heartbeat_connection_lost(Heartbeat *h);
