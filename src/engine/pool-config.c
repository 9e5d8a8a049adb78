/* SPDX-License-Identifier: MIT */
/* [Pool] sections of worker.conf. */

#include <fnmatch.h>
#include <limits.h>

#include "engine/pool-config.h"
#include "model/job.h"
#include "util/conf-parser.h"

static char **strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

void pool_config_init(PoolConfig *p, unsigned index, unsigned line) {
        *p = (PoolConfig) { .size = POOL_SIZE_DEFAULT, .start_timeout = POOL_START_TIMEOUT_DEFAULT, .line = line };
        exec_settings_init(&p->limits);
        p->name = strdupf("pool%u", index);
}

void pool_config_done(PoolConfig *p) {
        free(p->name);
        for (size_t i = 0; i < p->n_patterns; i++)
                free(p->patterns[i]);
        free(p->patterns);
        strv_free(p->argv);
        *p = (PoolConfig) {};
}

static char **strv_copy(char *const *v, size_t n) {
        char **c = calloc(n + 1, sizeof *c);

        for (size_t i = 0; c && i < n; i++)
                if (!(c[i] = strdup(v[i])))
                        return strv_free(c);
        return c;
}

int pool_config_copy(const PoolConfig *src, PoolConfig *ret) {
        size_t n_argv = 0;

        while (src->argv && src->argv[n_argv])
                n_argv++;
        *ret = *src;
        ret->name = strdup(src->name ? src->name : "pool");
        ret->patterns = strv_copy(src->patterns, src->n_patterns);
        ret->argv = strv_copy(src->argv, n_argv);
        if (!ret->name || !ret->patterns || !ret->argv) {
                pool_config_done(ret);
                return -ENOMEM;
        }
        return 0;
}

static int set_argv(PoolConfig *p, const char *value, const char **reason) {
        _cleanup_free_ char *copy = strdup(value);
        char **v, *save = NULL;
        size_t n = 0;

        if (!copy || !(v = calloc(POOL_ARGV_MAX + 1, sizeof *v)))
                return -ENOMEM;
        /* No shell: words separated by blanks, as the handler's argv. */
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (n >= POOL_ARGV_MAX) {
                        strv_free(v);
                        *reason = "ExecStart= has more than 64 words";
                        return -EINVAL;
                }
                if (!(v[n++] = strdup(w))) {
                        strv_free(v);
                        return -ENOMEM;
                }
        }
        if (n == 0 || v[0][0] != '/') {
                strv_free(v);
                *reason = "ExecStart= needs an absolute path to the handler program, then its arguments";
                return -EINVAL;
        }
        strv_free(p->argv);
        p->argv = v;
        return 0;
}

static int add_patterns(PoolConfig *p, const char *value, const char **reason) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                /* A class name, or a pattern of class characters and * ? [ ] */
                if (!string_is_charset(w, JOB_CLASS_MAX, "_:.-*?[]!")) {
                        *reason = "Class= takes class names or fnmatch patterns of them (A-Z a-z 0-9 _ : . - * ? [ ])";
                        return -EINVAL;
                }
                if (p->n_patterns >= POOL_PATTERNS_MAX) {
                        *reason = "a pool has at most 64 Class= patterns";
                        return -EINVAL;
                }
                char **a = reallocarray(p->patterns, p->n_patterns + 1, sizeof *a);
                if (!a)
                        return -ENOMEM;
                p->patterns = a;
                if (!(a[p->n_patterns] = strdup(w)))
                        return -ENOMEM;
                p->n_patterns++;
        }
        return 0;
}

static int set_unsigned(const char *value, unsigned min, unsigned max, unsigned def, unsigned *ret) {
        unsigned n;

        if (!*value) {
                *ret = def;
                return 0;
        }
        if (parse_unsigned(value, &n) < 0 || n < min || n > max)
                return -EINVAL;
        *ret = n;
        return 0;
}

int pool_config_assign(PoolConfig *p, const char *key, const char *value, const char **reason) {
        if (streq(key, "Name")) {
                if (!string_is_charset(value, POOL_NAME_MAX, "_.-")) {
                        *reason = "Name= is 1-64 characters of A-Z a-z 0-9 _ . -";
                        return -EINVAL;
                }
                return conf_set_string(&p->name, value);
        }
        if (streq(key, "Class")) {
                if (!*value) {
                        for (size_t i = 0; i < p->n_patterns; i++)
                                free(p->patterns[i]);
                        p->n_patterns = 0;
                        return 0;
                }
                return add_patterns(p, value, reason);
        }
        if (streq(key, "ExecStart"))
                return set_argv(p, value, reason);
        if (streq(key, "Size")) {
                if (set_unsigned(value, 1, POOL_SIZE_MAX, POOL_SIZE_DEFAULT, &p->size) < 0) {
                        *reason = "Size= must be a number of processes from 1 to 256";
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(key, "MaxJobsPerProcess")) {
                if (set_unsigned(value, 0, UINT_MAX, 0, &p->max_jobs) < 0) {
                        *reason = "MaxJobsPerProcess= must be a number (0: never recycle)";
                        return -EINVAL;
                }
                return 0;
        }
        if (streq(key, "TimeoutSec") || streq(key, "StartTimeoutSec")) {
                bool start = streq(key, "StartTimeoutSec");
                usec_t t;

                if (!*value || streq(value, "infinity"))
                        t = start && !*value ? POOL_START_TIMEOUT_DEFAULT : 0;
                else if (parse_duration(value, &t) < 0) {
                        *reason = "invalid duration (e.g. 30s, 5min, infinity)";
                        return -EINVAL;
                }
                *(start ? &p->start_timeout : &p->timeout) = t;
                return 0;
        }
        if (streq(key, "MemoryMax") || streq(key, "CPUWeight") || streq(key, "CPUQuota") || streq(key, "TasksMax"))
                return exec_settings_assign(&p->limits, key, value, reason);
        *reason = "unknown setting in [Pool] (known: Name, Class, ExecStart, Size, MaxJobsPerProcess, TimeoutSec, "
                  "StartTimeoutSec, MemoryMax, CPUWeight, CPUQuota, TasksMax)";
        return -EINVAL;
}

int pool_config_check(const PoolConfig *p, const char **reason) {
        if (p->n_patterns == 0) {
                *reason = "this [Pool] has no Class=: name the classes (or patterns) it serves";
                return -EINVAL;
        }
        if (!p->argv) {
                *reason = "this [Pool] has no ExecStart=: name the handler program to run";
                return -EINVAL;
        }
        return 0;
}

bool pool_config_matches(const PoolConfig *p, const char *class) {
        for (size_t i = 0; i < p->n_patterns; i++)
                if (fnmatch(p->patterns[i], class, 0) == 0)
                        return true;
        return false;
}
