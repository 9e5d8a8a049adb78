/* SPDX-License-Identifier: MIT */
/* A [Pool] section of worker.conf: which classes a pool of long-lived handler processes serves, the
 * command it runs, how many processes, their cgroup limits, and when they are recycled (see pool.c, jobs-handler(7)). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/exec-settings.h"
#include "util/util.h"

#define WORKER_POOLS_MAX 64
#define POOL_PATTERNS_MAX 64
#define POOL_ARGV_MAX 64
#define POOL_SIZE_MAX 256
#define POOL_NAME_MAX 64
#define POOL_SIZE_DEFAULT 1
#define POOL_START_TIMEOUT_DEFAULT (120 * USEC_PER_SEC) /* a Rails app may take a while to boot */

typedef struct PoolConfig {
        char *name;          /* Name=, default "pool<N>" */
        char **patterns;     /* Class=: fnmatch(3) patterns, e.g. "Reports::*" */
        size_t n_patterns;
        char **argv;         /* ExecStart=: NULL-terminated, argv[0] an absolute path */
        unsigned size;       /* Size= */
        unsigned max_jobs;   /* MaxJobsPerProcess=, 0 = never recycled */
        usec_t timeout;      /* TimeoutSec= per job, 0 = the class's Timeout= or TimeoutSec= */
        usec_t start_timeout; /* StartTimeoutSec=: from start to the handshake */
        ExecSettings limits; /* MemoryMax=, CPUWeight=, CPUQuota=, TasksMax= of each process's cgroup;
                              * unset ones are [Worker]'s. Only these four: no lists to free */
        unsigned line;       /* of its [Pool] header, for errors */
} PoolConfig;

void pool_config_init(PoolConfig *p, unsigned index, unsigned line);
void pool_config_done(PoolConfig *p);
/* A deep copy, for a running pool that outlives a reload. */
int pool_config_copy(const PoolConfig *src, PoolConfig *ret);

/* One Key=Value of a [Pool] section. -EINVAL with *ret_reason, or -ENOMEM. */
int pool_config_assign(PoolConfig *p, const char *key, const char *value, const char **ret_reason);
/* After the section: Class= and ExecStart= are required. */
int pool_config_check(const PoolConfig *p, const char **ret_reason);

bool pool_config_matches(const PoolConfig *p, const char *class);
