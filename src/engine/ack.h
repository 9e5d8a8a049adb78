/* SPDX-License-Identifier: MIT */
/* Acks: the end of each job (done, retry, dead, drop, push back) recorded in Redis in the same atomic
 * step that removes it from the in-flight list, and sent again until Redis confirms it (see ack.c). */
#pragma once

#include <stdbool.h>

#include "jobs/jobs.h"

typedef enum AckAction {
        ACK_DONE,    /* LREM from the in-flight list */
        ACK_DROP,    /* same, without recording anything (retry: false) */
        ACK_RETRY,   /* + ZADD retry */
        ACK_DEAD,    /* + ZADD dead, trimmed */
        ACK_REQUEUE, /* + RPUSH back to its queue (shutdown) */
        _ACK_ACTION_MAX,
} AckAction;

/* One job's outcome, kept in the job until Redis confirmed it. */
typedef struct JobAck {
        bool finished;
        bool in_flight;
        AckAction action;
        char *payload;            /* the updated job for retry/dead */
        double score;
} JobAck;

/* The worker's side: how many jobs ended and are not confirmed yet. */
typedef struct Acker {
        unsigned n_finished;
} Acker;

void acker_init(Acker *a);
void acker_done(Acker *a);
void job_ack_init(JobAck *a);
void job_ack_done(JobAck *a);

/* The job ended: decide where it goes (retry, dead, ...), log it, count it; sent by the next turn. */
void ack_finish(JobsJob *j, bool ok, const char *error_class, const char *error_message);
/* The job goes back to its queue, unstarted or killed by a stop. */
void ack_requeue(JobsJob *j);
/* Send the acks of every finished job not in flight. */
void ack_send_pending(JobsWorker *w);
/* Whether the acks may ride along with the next fetch. */
bool ack_may_wait(JobsWorker *w);
