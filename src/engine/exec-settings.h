/* SPDX-License-Identifier: MIT */
/* How a handler runs: its environment, working directory, umask and cgroup limits, set in worker.conf's
 * [Worker] section for every class and in a [Class NAME] section for one, with systemd's names and
 * syntax (Environment=, PassEnvironment=, WorkingDirectory=, UMask=, MemoryMax=, CPUWeight=,
 * CPUQuota=, TasksMax=). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXEC_ENV_MAX 128             /* Environment= and PassEnvironment= entries of one section */
#define EXEC_ENV_ENTRY_MAX 4096      /* bytes of one NAME=value */
#define EXEC_CLASSES_MAX 1024        /* [Class NAME] sections */
#define EXEC_UNSET UINT64_MAX        /* a limit not given here: the [Worker] value, else none */
#define EXEC_INFINITY (UINT64_MAX - 1) /* "infinity": explicitly no limit */
#define EXEC_CPU_WEIGHT_MIN 1
#define EXEC_CPU_WEIGHT_MAX 10000
#define EXEC_CPU_QUOTA_PERIOD_USEC 100000 /* systemd's CPUQuotaPeriodSec= default */
#define EXEC_WORKING_DIRECTORY_DEFAULT "/"
#define EXEC_UMASK_DEFAULT 0022
#define EXEC_PATH_DEFAULT "PATH=/usr/local/bin:/usr/bin:/bin"

typedef struct ExecSettings {
        char **environment;      /* "NAME=value", NULL-terminated, later ones win; NULL: none */
        char **pass_environment; /* names taken from the worker's environment */
        char *working_directory; /* NULL: unset */
        int umask;               /* -1: unset */
        uint64_t memory_max;     /* bytes; EXEC_UNSET / EXEC_INFINITY */
        uint64_t cpu_weight;     /* 1..10000; EXEC_UNSET */
        uint64_t cpu_quota_usec; /* per EXEC_CPU_QUOTA_PERIOD_USEC; EXEC_UNSET / EXEC_INFINITY */
        uint64_t tasks_max;      /* EXEC_UNSET / EXEC_INFINITY */
} ExecSettings;

typedef struct ClassExec {
        char *class;
        ExecSettings s;
} ClassExec;

void exec_settings_init(ExecSettings *s);
void exec_settings_done(ExecSettings *s);

/* One Key=Value of the keys above. -ENOENT if key is not one of them; -EINVAL with *ret_reason. An
 * empty value resets the setting (and empties a list), as in unit files. */
int exec_settings_assign(ExecSettings *s, const char *key, const char *value, const char **ret_reason);

/* The keys exec_settings_assign() knows, for error messages. */
#define EXEC_SETTINGS_KEYS "Environment, PassEnvironment, WorkingDirectory, UMask, MemoryMax, CPUWeight, CPUQuota, TasksMax"

/* The settings of class: its [Class] section's, each unset one taken from the [Worker] section's.
 * Lists are not merged here (see exec_env_build()). ret borrows from both. */
void exec_settings_merge(const ExecSettings *worker, const ExecSettings *class, ExecSettings *ret);

/* True if any cgroup limit is set. */
bool exec_settings_has_limits(const ExecSettings *s);

/* A handler's environment: PATH, LANG, TZ and the PassEnvironment= names from env (the worker's),
 * then Environment= of the [Worker] and the class section (later ones win), then the n_extra
 * JOB_* entries. Returns a NULL-terminated array of borrowed strings (free only the array). */
int exec_env_build(char *const *env, const ExecSettings *worker, const ExecSettings *class, char *const *extra,
                   size_t n_extra, const char ***ret);
