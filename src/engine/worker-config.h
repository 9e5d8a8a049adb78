/* SPDX-License-Identifier: MIT */
/* The worker's settings: defaults, "name[,weight]" queue specs and /etc/jobs/worker.conf (Key=Value). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "engine/exec-settings.h"
#include "util/util.h"

#define WORKER_QUEUES_MAX 64
#define WORKER_QUEUE_WEIGHT_MAX 100
#define WORKER_CONCURRENCY_MAX 1024
#define WORKER_HANDLERS_MAX 1024
#define WORKER_HANDLER_DIRS_MAX 16
#define WORKER_CONFIG_FILE_MAX (256 * 1024)
#define WORKER_CONFIG_LINE_MAX 16384U /* bytes of one line, continuations joined: 64 long queue names fit */
#define WORKER_CONFIG_PATH_DEFAULT JOBS_SYSCONFDIR "/jobs/worker.conf"
#define WORKER_CONCURRENCY_DEFAULT 5
#define WORKER_SHUTDOWN_TIMEOUT_DEFAULT (25 * USEC_PER_SEC)
#define WORKER_HANDLER_DIRS_DEFAULT { JOBS_SYSCONFDIR "/jobs/handlers", "/usr/lib/jobs/handlers" }
/* HeartbeatSec=: Sidekiq's 5 s is also the longest, since others recover the in-flight lists of a
 * process silent for 20 s. Shorter beats (and polls, PollIntervalSec=) make tests quick. */
#define WORKER_HEARTBEAT_DEFAULT (5 * USEC_PER_SEC)
#define WORKER_HEARTBEAT_MIN (100 * USEC_PER_MSEC)
#define WORKER_HEARTBEAT_MAX WORKER_HEARTBEAT_DEFAULT
#define WORKER_POLL_AVERAGE_DEFAULT (5 * USEC_PER_SEC) /* Sidekiq's average_scheduled_poll_interval */
#define WORKER_POLL_AVERAGE_MIN (100 * USEC_PER_MSEC)
#define WORKER_POLL_AVERAGE_MAX (3600 * USEC_PER_SEC)

typedef struct QueueSpec {
        char *name;
        unsigned weight; /* 0 = strict order */
} QueueSpec;

typedef struct ClassSetting {
        char *class;
        char *path;    /* Handler=: the executable; NULL for Timeout= entries */
        usec_t timeout;
} ClassSetting;

typedef struct WorkerConfig {
        char *redis_url;            /* NULL: $REDIS_URL or the default */
        QueueSpec *queues;
        size_t n_queues;
        unsigned concurrency;
        usec_t job_timeout;         /* 0 = none */
        usec_t shutdown_timeout;
        char **handler_dirs;        /* NULL-terminated; NULL = defaults */
        ClassSetting *handlers;     /* Handler=Class /path */
        size_t n_handlers;
        ClassSetting *timeouts;     /* Timeout=Class 30s */
        size_t n_timeouts;
        char *tag;
        size_t max_payload;
        usec_t heartbeat;           /* HeartbeatSec= */
        usec_t poll_average;        /* PollIntervalSec=: the cluster's average poll interval */
        bool job_cgroups;           /* JobCgroups=: a cgroup per job where the service has a delegated one */
        ExecSettings exec;          /* [Worker]'s Environment=, MemoryMax=, ...: every class's defaults */
        ClassExec *classes;         /* [Class NAME] sections */
        size_t n_classes;
} WorkerConfig;

void worker_config_init(WorkerConfig *c);
void worker_config_done(WorkerConfig *c);

/* Empty the queue list / the handler directories (NULL again: the defaults). */
void worker_config_clear_queues(WorkerConfig *c);
void worker_config_clear_handler_dirs(WorkerConfig *c);

/* "name" or "name,weight". -EINVAL with *ret_reason. */
int worker_config_add_queue(WorkerConfig *c, const char *spec, const char **ret_reason);
int worker_config_add_handler(WorkerConfig *c, const char *class, const char *path, const char **ret_reason);
int worker_config_add_handler_dir(WorkerConfig *c, const char *dir, const char **ret_reason);
/* "Class duration" */
int worker_config_add_timeout(WorkerConfig *c, const char *spec, const char **ret_reason);

/* Read a config file ([Worker] and [Class NAME] sections, systemd's Key=Value syntax, util/conf-parser.h). -ENOENT if
 * missing; other errors set *ret_error to "path:line: what is wrong" (free it). Values already set are
 * overridden; an empty assignment resets the setting to its default (Queue= empties the list). */
int worker_config_load(WorkerConfig *c, const char *path, char **ret_error);

/* True if any queue has a weight: then the order is shuffled by weight on every fetch. */
bool worker_config_weighted(const WorkerConfig *c);
/* The [Class NAME] settings of class, NULL if it has none. */
const ExecSettings *worker_config_exec_for(const WorkerConfig *c, const char *class);
/* The timeout for a class: its Timeout= entry, else TimeoutSec=. */
usec_t worker_config_timeout_for(const WorkerConfig *c, const char *class);
