/* SPDX-License-Identifier: MIT */
/* The worker and the jobs it holds. The worker is its lifecycle (worker.c) and settings
 * (worker-api.c) plus one part per concern, each with its own struct, header and init/done: the
 * fetcher (fetch.h), acks (ack.h), heartbeat (heartbeat.h), poller (poller.h) and stats (stats.h).
 * Not part of the public API. */
#pragma once

#include <jansson.h>
#include <signal.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "jobs/jobs.h"
#include "model/active-job.h"
#include "model/job.h"
#include "util/log.h"
#include "redis/redis-async.h"
#include "redis/sentinel-watch.h"
#include "model/retry.h"
#include "util/spawn-child.h"
#include "redis/url.h"
#include "util/util.h"
#include "engine/ack.h"
#include "engine/cgroup.h"
#include "engine/dead-alert.h"
#include "engine/exec.h"
#include "engine/fetch.h"
#include "engine/heartbeat.h"
#include "engine/poller.h"
#include "engine/pool.h"
#include "engine/run.h"
#include "engine/stats.h"
#include "engine/worker-config.h"
#include "engine/worker.h"

#define WORKER_ALIVE_TTL_MSEC 20000          /* in-flight lists of a process silent this long are recovered */
#define WORKER_PROCESS_TTL_SEC 60            /* Sidekiq's expiry of <identity> and <identity>:work */
#define WORKER_FETCH_BATCH_MAX 256           /* jobs moved per fetch round trip */
#define WORKER_PREFETCH_MAX 4                /* jobs held ready beyond the free slots, so a slot that frees
                                              * does not wait a round trip for its next job (and fetches,
                                              * with the acks riding along, come every other job) ... */
#define WORKER_PREFETCH_BELOW_USEC (10 * USEC_PER_MSEC) /* ... while jobs run this long or less on average:
                                              * longer ones stay in Redis for whichever worker is free */
#define WORKER_WAIT_MIN_SEC 30              /* idle wait (BLMOVE) timeout by default, ... */
#define WORKER_WAIT_PER_QUEUE_SEC 2          /* ... or this per queue if longer: the waits of all queues
                                              * together renew at most every 2 s */
#define WORKER_POLL_BATCH_MAX 100            /* due jobs moved per poll */
#define WORKER_STOP_GRACE_USEC (5 * USEC_PER_SEC) /* after the shutdown timeout, to push jobs back */
#define WORKER_LINE_MAX 4096                 /* handler output lines are cut here */
#define WORKER_IDENTITY_MAX 320


typedef enum WorkerState {
        WORKER_STARTING, /* connecting, recovering */
        WORKER_RUNNING,
        WORKER_QUIET,    /* SIGTSTP: no new jobs */
        WORKER_STOPPING, /* SIGTERM: finishing, then pushing back */
        WORKER_STOPPED,
        _WORKER_STATE_MAX,
} WorkerState;

typedef struct CHandler {
        char *class;
        JobsHandlerFn fn;
        void *userdata;
} CHandler;

typedef struct LineBuffer {
        char buf[WORKER_LINE_MAX];
        size_t len;
} LineBuffer;

/* exec.c: a handler's output (an executable's or a pool process's), line by line. */
typedef void (*OutputLineFn)(void *userdata, LineBuffer *b, const char *line, size_t len);
/* Read what the fd of *s has; hand on complete lines (without \r\n), and the rest too at EOF (then
 * *s is unref'ed) or when a line is too long. Nothing if *s is NULL. */
void output_drain_source(sd_event_source **s, LineBuffer *b, OutputLineFn fn, void *userdata);
/* At the writer's end: what is left in the pipe, and a last line without its newline, handed on;
 * *s unref'ed. */
void output_finish(sd_event_source **s, LineBuffer *b, OutputLineFn fn, void *userdata);

struct JobsJob {
        JobsWorker *worker;
        JobsJob *prev, *next;
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
        JobCgroup *cgroup;        /* its own cgroup, if the worker has a delegated one */
        CgroupUsage usage;        /* what it used, read when it ended */

        JobsJob *pending_next;    /* fetched, waiting for a free slot */
        JobsJob *pool_next;       /* waiting for a process of its pool (pool.c) */

        bool running;             /* counted in n_running; see work_job_stopped() */
        JobAck ack;               /* its outcome, kept until Redis confirmed it */
};

struct JobsWorker {
        WorkerConfig config;
        RedisURL url;
        char where[256];
        sd_event *event;          /* the worker's own (jobs_worker_run()) or the program's, attached */
        int64_t priority;         /* of every event source of the worker */
        bool own_loop;            /* jobs_worker_run(): signals, watchdog and sd_notify are the worker's */
        JobsStoppedFn on_stopped; /* jobs_worker_start()'s, called from the stopped source */
        void *stopped_userdata;
        sd_event_source *stopped; /* deferred: the end of a started worker, out of the callback it came in */
        sd_event_source *sigchld;
        RedisAsync *redis;        /* every command but the blocking fetch */
        RedisSentinelWatch *sentinel_watch; /* through sentinels: their +switch-master, to follow at once */
        bool sentinel_watch_warned; /* a sentinel refused the subscription: said once */
        CgroupTree cgroups;       /* a cgroup per job, if delegated (cgroup.h) */
        CHandler *c_handlers;
        size_t n_c_handlers;
        char hostname[256];
        char identity[WORKER_IDENTITY_MAX];
        char alive_prefix[136];   /* "<boot-id> <pid-namespace> ": 63 + 1 + 63 + 1 */
        char alive_value[168];
        double started_at;
        bool started;             /* jobs_worker_run() or _start() was called: it runs once, settings are fixed */
        int error;                /* of the last public call, 0 if it succeeded */
        char *errstr;             /* why, for jobs_worker_errstr(); NULL if none or out of memory */
        WorkerState state;        /* written by worker_set_state() only */
        bool ready;               /* READY=1 sent: at once, Redis or not */
        bool connected;           /* the first heartbeat was answered: registered, may fetch */
        bool outage_warned;       /* this Redis outage was logged (once), its end will be */
        bool outage_pending;      /* ... while connecting, before its reason was known */
        usec_t outage_since;      /* CLOCK_MONOTONIC */
        bool watchdog;
        int exit_code;
        WorkerReloadFn reload_fn; /* see reload.c */
        void *reload_userdata;
        sd_event_source *kick;    /* deferred: flush stats, fetch, resend acks */
        sd_event_source *stop_timer;
        bool final_in_flight;
        DeadAlert dead_alert;     /* OnDead= */

        /* run.c's: the jobs held, from fetch to confirmed ack */
        JobsJob *jobs;
        unsigned n_jobs;
        unsigned n_running;       /* written by run.c's job_set_running() only */
        JobsJob *pending_head, *pending_tail;
        unsigned n_pending;
        usec_t run_usec_avg;      /* moving average (1/8) of how long jobs ran */
        bool run_usec_known;

        Pool **pools;             /* pool.c's: started at their first job */
        size_t n_pools;
        Fetcher fetcher;
        Acker acker;
        Heartbeat heartbeat;
        Poller poller;
        Stats stats;
        char last_status[512];
        usec_t status_at;
};

/* Jobs have been short lately (the moving average of their run time): then the worker holds jobs
 * ready (fetch.c) and lets acks ride with the next fetch (ack.c). */
static inline bool worker_jobs_short(const JobsWorker *w) {
        return w->run_usec_known && w->run_usec_avg <= WORKER_PREFETCH_BELOW_USEC;
}

/* sd-event's assert_return(): a caller's mistake is an error returned, never a crash. For the worker
 * argument itself, which has nowhere to keep the error text. */
#define assert_return(expr, r)                                                                          \
        do {                                                                                           \
                if (!(expr)) {                                                                         \
                        log_debug("%s(): argument check '%s' failed, ignoring the call.", __func__, #expr); \
                        return (r);                                                                    \
                }                                                                                      \
        } while (0)

/* The same for every other argument, with the text kept for jobs_worker_errstr(). */
#define worker_check(w, expr, r)                                                                        \
        do {                                                                                           \
                if (!(expr))                                                                           \
                        return worker_error((w), (r), "%s(): argument check '%s' failed: see jobs/jobs.h for " \
                                            "what it accepts.", __func__, #expr);                      \
        } while (0)

/* worker-api.c */
/* Keep why a public call fails (%m is r) for jobs_worker_errstr(), and return r. */
int worker_error(JobsWorker *w, int r, const char *fmt, ...) _printf_(3, 4);
/* At the start of a public call: it has no error yet. */
void worker_error_clear(JobsWorker *w);
/* Settings are fixed once the worker ran: -EBUSY, with the text. */
int worker_check_settable(JobsWorker *w, const char *func);

/* worker.c */
void worker_kick(JobsWorker *w);
void worker_update_status(JobsWorker *w, bool force);
void worker_begin_stop(JobsWorker *w, const char *why);
void worker_set_quiet(JobsWorker *w, const char *why);
void worker_maybe_finish_stop(JobsWorker *w);
void worker_set_connected(JobsWorker *w);
void worker_redis_outage(JobsWorker *w, const char *why, bool pending);

/* reload.c */
void worker_reload(JobsWorker *w);
void worker_reconnect(JobsWorker *w);
/* Child pid (> 0) exited and is not reaped yet: si filled as by waitid(WNOWAIT). */
bool child_exited(pid_t pid, siginfo_t *si);
const CHandler *worker_find_c_handler(JobsWorker *w, const char *class);
