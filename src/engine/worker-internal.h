/* SPDX-License-Identifier: MIT */
/* The worker core's shared state: the worker, the jobs it holds, and the functions its modules offer
 * one another (fetch, run, exec, ack, poller, heartbeat, stats). Not part of the public API. */
#pragma once

#include <jansson.h>
#include <signal.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "jobs/jobs.h"
#include "model/job.h"
#include "util/log.h"
#include "redis/redis-async.h"
#include "model/retry.h"
#include "util/spawn-child.h"
#include "redis/url.h"
#include "util/util.h"
#include "engine/worker-config.h"

#define WORKER_HEARTBEAT_USEC (5 * USEC_PER_SEC)
#define WORKER_ALIVE_TTL_MSEC 20000          /* in-flight lists of a process silent this long are recovered */
#define WORKER_PROCESS_TTL_SEC 60            /* Sidekiq's expiry of <identity> and <identity>:work */
#define WORKER_FETCH_BATCH_MAX 256           /* jobs moved per fetch round trip */
#define WORKER_PREFETCH_MAX 4                /* jobs held ready beyond the free slots, so a slot that frees
                                              * does not wait a round trip for its next job (and fetches,
                                              * with the acks riding along, come every other job) ... */
#define WORKER_PREFETCH_BELOW_USEC (10 * USEC_PER_MSEC) /* ... while jobs run this long or less on average:
                                              * longer ones stay in Redis for whichever worker is free */
#define WORKER_BLOCK_SINGLE_SEC 10           /* BLMOVE timeout with one queue */
#define WORKER_BLOCK_MULTI_SEC 2             /* with several queues: how late a lower queue may be seen when idle */
#define WORKER_POLL_BATCH_MAX 100            /* due jobs moved per poll */
#define WORKER_STOP_GRACE_USEC (5 * USEC_PER_SEC) /* after the shutdown timeout, to push jobs back */
#define WORKER_LINE_MAX 4096                 /* handler output lines are cut here */
#define WORKER_IDENTITY_MAX 320

typedef struct JobsWorker Worker;
typedef struct JobsJob WorkJob;

typedef enum WorkerState {
        WORKER_STARTING, /* connecting, recovering */
        WORKER_RUNNING,
        WORKER_QUIET,    /* SIGTSTP: no new jobs */
        WORKER_STOPPING, /* SIGTERM: finishing, then pushing back */
        WORKER_STOPPED,
        _WORKER_STATE_MAX,
} WorkerState;

typedef enum AckAction {
        ACK_DONE,    /* LREM from the in-flight list */
        ACK_DROP,    /* same, without recording anything (retry: false) */
        ACK_RETRY,   /* + ZADD retry */
        ACK_DEAD,    /* + ZADD dead, trimmed */
        ACK_REQUEUE, /* + RPUSH back to its queue (shutdown) */
        _ACK_ACTION_MAX,
} AckAction;

typedef struct CHandler {
        char *class;
        JobsHandlerFn fn;
        void *userdata;
} CHandler;

typedef struct LineBuffer {
        char buf[WORKER_LINE_MAX];
        size_t len;
} LineBuffer;

struct JobsJob {
        Worker *worker;
        WorkJob *prev, *next;
        char *queue;              /* fetched from queue:<queue>, held in its in-flight list */
        char *raw;                /* the payload exactly as stored, for LREM */
        size_t raw_len;
        json_t *job;              /* NULL if the payload is invalid */
        char invalid_reason[128];  /* why the payload is not a job, for its dead entry */
        char jid[JOB_JID_MAX + 1];
        char class[JOB_CLASS_MAX + 1];
        int retry_count;
        usec_t started;           /* CLOCK_MONOTONIC */
        double run_at;            /* epoch */
        char *args_text;          /* for jobs_job_args() */
        char *fail_class, *fail_message;

        /* executable handler */
        pid_t pid;
        Spawn *spawn;             /* its block, freed once it is reaped */
        int out_w, err_w;         /* our copies of its pipes' write ends, until then */
        sd_event_source *out_source, *err_source, *timeout_source;
        LineBuffer out, err;
        char last_err[512];
        bool timed_out, stop_killed;

        WorkJob *pending_next;    /* fetched, waiting for a free slot */

        /* outcome, kept until Redis confirmed it */
        bool running;
        bool finished;
        bool ack_in_flight;
        AckAction action;
        char *ack_payload;        /* the updated job for retry/dead */
        size_t ack_payload_len;
        double ack_score;
};

struct JobsWorker {
        WorkerConfig config;
        RedisURL url;
        char where[256];
        sd_event *event;
        RedisAsync *redis;        /* every command but the blocking fetch */
        RedisAsync *block;        /* BLMOVE only */
        const char **exec_env;    /* environment of handlers, see exec.c */
        size_t n_exec_env;
        CHandler *c_handlers;
        size_t n_c_handlers;
        char hostname[256];
        char identity[WORKER_IDENTITY_MAX];
        char alive_prefix[136];   /* "<boot-id> <pid-namespace> ": 63 + 1 + 63 + 1 */
        char alive_value[168];
        double started_at;
        WorkerState state;
        bool ready;               /* READY=1 sent: at once, Redis or not */
        bool connected;           /* the first heartbeat was answered: registered, may fetch */
        bool outage_warned;       /* this Redis outage was logged (once), its end will be */
        usec_t outage_since;      /* CLOCK_MONOTONIC */
        bool watchdog;
        int exit_code;

        WorkJob *jobs;            /* running and awaiting their ack */
        unsigned n_running;
        unsigned n_jobs;
        WorkJob *pending_head, *pending_tail;
        unsigned n_pending;
        usec_t run_usec_avg;      /* moving average (1/8) of how long jobs ran */
        bool run_usec_known;
        bool fetch_in_flight, block_in_flight;
        unsigned queue_turn;      /* which queue BLMOVE waits on */

        sd_event_source *kick;    /* deferred: flush stats, fetch, resend acks */
        sd_event_source *heartbeat_timer, *stop_timer;
        bool heartbeat_in_flight;
        unsigned heartbeat_misses;
        usec_t heartbeat_sent;
        uint64_t rtt_us;
        bool final_in_flight;
        sd_event_source *poll_timer;            /* retry/schedule poller, see poll.c */
        bool poll_in_flight;
        uint64_t n_processes;                  /* SCARD processes at the last heartbeat */

        uint64_t processed, failed;            /* since start, for STATUS= */
        uint64_t stat_processed, stat_failed;  /* not yet added in Redis */
        bool stats_in_flight;
        uint64_t stats_sent_processed, stats_sent_failed;
        char last_status[512];
        usec_t status_at;
};

/* Jobs have been short lately (the moving average of their run time): then the worker holds jobs
 * ready (fetch.c) and lets acks ride with the next fetch (ack.c). */
static inline bool worker_jobs_short(const Worker *w) {
        return w->run_usec_known && w->run_usec_avg <= WORKER_PREFETCH_BELOW_USEC;
}

/* worker.c */
void worker_kick(Worker *w);
void worker_update_status(Worker *w, bool force);
void worker_begin_stop(Worker *w, const char *why);
void worker_set_quiet(Worker *w, const char *why);
void worker_maybe_finish_stop(Worker *w);
void worker_redis_outage(Worker *w, const char *why);
const CHandler *worker_find_c_handler(Worker *w, const char *class);

/* fetch.c */
int fetch_register(Worker *w);
bool fetch_maybe(Worker *w);
void fetch_cancel(Worker *w);
char *fetch_inflight_key(Worker *w, const char *queue);
int fetch_recover(Worker *w, bool all_own, redisCallbackFn *fn, void *privdata);
int fetch_recover_local(Worker *w);
int fetch_reconcile(Worker *w);

/* run.c */
void work_job_start(Worker *w, const char *queue, const char *raw, size_t len);
void work_start_pending(Worker *w);
WorkJob *work_job_free(WorkJob *j);
void work_job_log(WorkJob *j, int level, const char *status, const char *const *extra, const char *fmt, ...)
        _printf_(5, 6);
int handler_find_exec(Worker *w, const char *class, char **ret_path);

/* exec.c */
int exec_spawn(WorkJob *j, const char *path);
void exec_kill(WorkJob *j);
void exec_on_exit(WorkJob *j, const siginfo_t *si);
void exec_release(WorkJob *j);

/* ack.c */
void ack_finish(WorkJob *j, bool ok, const char *error_class, const char *error_message);
void ack_requeue(WorkJob *j);
void ack_send_pending(Worker *w);
bool ack_may_wait(Worker *w);

/* heartbeat.c */
int heartbeat_start(Worker *w);
void heartbeat_send(Worker *w);

/* poll.c */
void poll_set_processes(Worker *w, uint64_t n);

/* stats.c */
void stats_flush(Worker *w);
