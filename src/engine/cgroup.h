/* SPDX-License-Identifier: MIT */
/* A cgroup per job: the worker's delegated cgroup v2 subtree (Delegate=yes), the worker itself in its
 * leaf "worker", each handler in a sibling "job-<class>-<jid>" with the class's limits; its usage read
 * when it ends, then the whole cgroup killed (cgroup.kill) and removed once empty. Each process of a
 * handler pool gets one the same way, "pool-<pool>-<n>", killed when the process ends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "engine/exec-settings.h"

#define CGROUP_WORKER_LEAF "worker"
#define CGROUP_JOB_PREFIX "job-"
#define CGROUP_POOL_PREFIX "pool-"
#define CGROUP_NAME_CLASS_MAX 96 /* bytes of the class in a cgroup name; the jid (64) follows */
#define CGROUP_NAME_MAX 255
#define CGROUP_FILE_MAX 4096    /* bytes read of a cgroup attribute file */
#define CGROUP_ROOT_ENV "JOBS_CGROUP_ROOT" /* tests and benchmarks: a cgroup v2 directory to use as ours */

typedef struct CgroupRemoval CgroupRemoval;

typedef struct CgroupTree {
        int root_fd;              /* the delegated cgroup, -1: no cgroups per job */
        char *root;               /* its path under /sys/fs/cgroup */
        sd_event *event;
        int64_t priority;         /* of its sources on event */
        CgroupRemoval *removals;  /* killed job cgroups waiting to be empty */
        bool memory, io;          /* those controllers are enabled for the job cgroups */
} CgroupTree;

typedef struct JobCgroup {
        int fd;                   /* its directory */
        bool memory, io;          /* its tree's */
        char name[CGROUP_NAME_MAX + 1];
} JobCgroup;

typedef struct CgroupUsage {
        bool known;
        uint64_t cpu_usec;
        uint64_t memory_peak;     /* UINT64_MAX: not known (no memory controller) */
        uint64_t io_read, io_write; /* UINT64_MAX: not known (no io controller) */
        uint64_t oom_kills;
} CgroupUsage;

void cgroup_tree_init(CgroupTree *t);
/* Kill and remove what is left, free it. */
void cgroup_tree_done(CgroupTree *t);

/* Find our delegated cgroup ($JOBS_CGROUP_ROOT, or the service's own where systemd delegated it),
 * move this process into its leaf, enable the controllers for its children, kill and remove job
 * cgroups a dead worker left. Returns 1 when jobs get cgroups, 0 when there is no delegated cgroup
 * (*ret_why says why, for one log line), < 0 when setting it up failed (*ret_why says where). */
int cgroup_tree_setup(CgroupTree *t, sd_event *event, const char **ret_why);

static inline bool cgroup_tree_enabled(const CgroupTree *t) {
        return t->root_fd >= 0;
}

/* Make the cgroup of a job, with the limits of s. */
int cgroup_job_new(CgroupTree *t, const char *class, const char *jid, const ExecSettings *s, JobCgroup **ret);
/* Make the cgroup of process index of a pool, "pool-<pool>-<index>", with the limits of s; the rest is as
 * a job's. */
int cgroup_pool_new(CgroupTree *t, const char *pool, unsigned index, const ExecSettings *s, JobCgroup **ret);
/* What it used so far. */
int cgroup_job_usage(JobCgroup *cg, CgroupUsage *ret);
/* SIGKILL to every process in it (cgroup.kill). */
int cgroup_job_kill(JobCgroup *cg);
/* Remove it if empty, else kill what is in it and remove it once empty (later, by the event loop, if
 * not at once); free it. Returns NULL. */
JobCgroup *cgroup_job_release(CgroupTree *t, JobCgroup *cg);
