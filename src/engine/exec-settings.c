/* SPDX-License-Identifier: MIT */
/* How a handler runs (environment, directory, umask, cgroup limits): parsing the settings with
 * systemd's syntax, merging a class's over the worker's, building the environment. */

#include <ctype.h>
#include <unistd.h>

#include "engine/exec-settings.h"
#include "util/conf-parser.h"
#include "util/util.h"

extern char **environ;

/* Never handed to a handler, whatever the settings say: the Redis URL (it may carry the password),
 * the service's credentials, systemd's supervision of the worker, and the worker's own JOB_*. */
static const char *const env_forbidden[] = { "REDIS_URL", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                                             "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" };
/* Taken from the worker's environment without being named. */
static const char *const env_passed[] = { "PATH", "LANG", "TZ" };

static char **strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
        return NULL;
}

static size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

void exec_settings_init(ExecSettings *s) {
        *s = (ExecSettings) {
                .umask = -1,
                .memory_max = EXEC_UNSET,
                .cpu_weight = EXEC_UNSET,
                .cpu_quota_usec = EXEC_UNSET,
                .tasks_max = EXEC_UNSET,
        };
}

void exec_settings_done(ExecSettings *s) {
        strv_free(s->environment);
        strv_free(s->pass_environment);
        free(s->working_directory);
        exec_settings_init(s);
}

static bool env_name_is_valid(const char *s, size_t n) {
        if (n == 0 || n > 255 || isdigit((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_')
                        return false;
        return true;
}

static bool env_name_is_forbidden(const char *s, size_t n) {
        if (n >= 4 && strncmp(s, "JOB_", 4) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(env_forbidden); i++)
                if (strlen(env_forbidden[i]) == n && strncmp(s, env_forbidden[i], n) == 0)
                        return true;
        return false;
}

/* Environment=/PassEnvironment=: each word checked, appended to *list. */
static int env_list_add(char ***list, const char *value, bool assignments, const char **reason) {
        size_t n = strv_length(*list);
        const char *p = value;
        int r;

        for (;;) {
                _cleanup_free_ char *w = NULL;
                size_t name_len;
                char **a;

                r = conf_next_word(&p, &w);
                if (r == -EINVAL)
                        *reason = "unterminated quote or trailing backslash";
                if (r <= 0)
                        return r;
                name_len = assignments ? strcspn(w, "=") : strlen(w);
                if ((assignments && !w[name_len]) || !env_name_is_valid(w, name_len)) {
                        *reason = assignments ? "expected NAME=value words (names: A-Z a-z 0-9 _, not starting with a digit)"
                                              : "expected variable names (A-Z a-z 0-9 _, not starting with a digit)";
                        return -EINVAL;
                }
                if (env_name_is_forbidden(w, name_len)) {
                        *reason = "REDIS_URL, CREDENTIALS_DIRECTORY, systemd's NOTIFY_SOCKET, WATCHDOG_* and LISTEN_* "
                                  "and the JOB_* variables are never given to handlers";
                        return -EINVAL;
                }
                if (strlen(w) > EXEC_ENV_ENTRY_MAX || n >= EXEC_ENV_MAX) {
                        *reason = "too many or too long entries (at most 128 of 4096 bytes in a section)";
                        return -E2BIG;
                }
                a = realloc(*list, (n + 2) * sizeof *a);
                if (!a)
                        return -ENOMEM;
                *list = a;
                a[n++] = TAKE_PTR(w);
                a[n] = NULL;
        }
}

/* "512M", "2G", "1048576", "50%" (of physical memory), "infinity". */
static int parse_bytes(const char *v, bool percent_ok, uint64_t *ret) {
        static const char suffixes[] = "KMGTPE";
        _cleanup_free_ char *num = strdup(v);
        size_t n;
        uint64_t x, mult = 1;

        if (!num)
                return -ENOMEM;
        if (streq(v, "infinity")) {
                *ret = EXEC_INFINITY;
                return 0;
        }
        n = strlen(num);
        if (n > 1 && num[n - 1] == '%') {
                long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
                num[n - 1] = 0;
                if (!percent_ok || parse_u64(num, &x) < 0 || x == 0 || x > 100 || pages <= 0 || page <= 0)
                        return -EINVAL;
                *ret = (uint64_t) pages * (uint64_t) page / 100 * x;
                return 0;
        }
        if (n > 1) {
                const char *s = strchr(suffixes, toupper((unsigned char) num[n - 1]));
                if (s && *s) {
                        for (const char *k = suffixes; k <= s; k++)
                                mult *= 1024;
                        num[n - 1] = 0;
                }
        }
        if (parse_u64(num, &x) < 0 || x > (EXEC_INFINITY - 1) / mult)
                return -EINVAL;
        *ret = x * mult;
        return 0;
}

int exec_settings_assign(ExecSettings *s, const char *key, const char *value, const char **reason) {
        uint64_t x;
        unsigned u;

        if (streq(key, "Environment") || streq(key, "PassEnvironment")) {
                char ***list = streq(key, "Environment") ? &s->environment : &s->pass_environment;
                if (!*value) {
                        *list = strv_free(*list);
                        return 0;
                }
                return env_list_add(list, value, list == &s->environment, reason);
        }
        if (streq(key, "WorkingDirectory")) {
                if (*value && value[0] != '/') {
                        *reason = "WorkingDirectory= must be an absolute path";
                        return -EINVAL;
                }
                return conf_set_string(&s->working_directory, value);
        }
        if (streq(key, "UMask")) {
                char *end;
                long m;
                if (!*value) {
                        s->umask = -1;
                        return 0;
                }
                errno = 0;
                m = strtol(value, &end, 8);
                if (errno || *end || !isdigit((unsigned char) value[0]) || m < 0 || m > 0777) {
                        *reason = "UMask= is an octal mode from 0000 to 0777, e.g. 0027";
                        return -EINVAL;
                }
                s->umask = (int) m;
                return 0;
        }
        if (streq(key, "MemoryMax")) {
                if (!*value) {
                        s->memory_max = EXEC_UNSET;
                        return 0;
                }
                if (parse_bytes(value, true, &x) < 0) {
                        *reason = "MemoryMax= is bytes with an optional K, M, G, T suffix (base 1024), a percentage "
                                  "of physical memory or infinity";
                        return -EINVAL;
                }
                s->memory_max = x;
                return 0;
        }
        if (streq(key, "CPUWeight")) {
                if (!*value) {
                        s->cpu_weight = EXEC_UNSET;
                        return 0;
                }
                if (parse_unsigned(value, &u) < 0 || u < EXEC_CPU_WEIGHT_MIN || u > EXEC_CPU_WEIGHT_MAX) {
                        *reason = "CPUWeight= is a number from 1 to 10000 (100 is the default weight)";
                        return -EINVAL;
                }
                s->cpu_weight = u;
                return 0;
        }
        if (streq(key, "CPUQuota")) {
                _cleanup_free_ char *num = strdup(value);
                size_t n = strlen(value);
                if (!num)
                        return -ENOMEM;
                if (!*value) {
                        s->cpu_quota_usec = EXEC_UNSET;
                        return 0;
                }
                if (n > 1)
                        num[n - 1] = 0;
                if (n < 2 || value[n - 1] != '%' || parse_u64(num, &x) < 0 || x == 0 || x > 100000) {
                        *reason = "CPUQuota= is a percentage of one CPU, e.g. 20% or 200%";
                        return -EINVAL;
                }
                s->cpu_quota_usec = x * EXEC_CPU_QUOTA_PERIOD_USEC / 100;
                return 0;
        }
        if (streq(key, "TasksMax")) {
                if (!*value) {
                        s->tasks_max = EXEC_UNSET;
                        return 0;
                }
                if (streq(value, "infinity"))
                        x = EXEC_INFINITY;
                else if (parse_u64(value, &x) < 0 || x == 0 || x >= EXEC_INFINITY) {
                        *reason = "TasksMax= is a number of processes and threads (at least 1) or infinity";
                        return -EINVAL;
                }
                s->tasks_max = x;
                return 0;
        }
        return -ENOENT;
}

void exec_settings_merge(const ExecSettings *w, const ExecSettings *c, ExecSettings *ret) {
        *ret = *w;
        if (!c)
                return;
        ret->environment = NULL;
        ret->pass_environment = NULL;
        if (c->working_directory)
                ret->working_directory = c->working_directory;
        if (c->umask >= 0)
                ret->umask = c->umask;
        if (c->memory_max != EXEC_UNSET)
                ret->memory_max = c->memory_max;
        if (c->cpu_weight != EXEC_UNSET)
                ret->cpu_weight = c->cpu_weight;
        if (c->cpu_quota_usec != EXEC_UNSET)
                ret->cpu_quota_usec = c->cpu_quota_usec;
        if (c->tasks_max != EXEC_UNSET)
                ret->tasks_max = c->tasks_max;
}

bool exec_settings_has_limits(const ExecSettings *s) {
        return s->memory_max != EXEC_UNSET || s->cpu_weight != EXEC_UNSET || s->cpu_quota_usec != EXEC_UNSET ||
               s->tasks_max != EXEC_UNSET;
}

/* Put entry in env, replacing an earlier one of the same name. */
static void env_put(const char **env, size_t *n, const char *entry) {
        size_t len = strcspn(entry, "=") + 1;

        for (size_t i = 0; i < *n; i++)
                if (strncmp(env[i], entry, len) == 0) {
                        env[i] = entry;
                        return;
                }
        env[(*n)++] = entry;
}

static void env_pass(char *const *from, const char **env, size_t *n, const char *name) {
        size_t len = strlen(name);

        for (char *const *e = from; e && *e; e++)
                if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
                        return env_put(env, n, *e);
}

int exec_env_build(char *const *from, const ExecSettings *w, const ExecSettings *c, char *const *extra, size_t n_extra,
                   const char ***ret) {
        const ExecSettings *layers[2] = { w, c };
        size_t max = ELEMENTSOF(env_passed) + 1 + n_extra, n = 0;
        const char **env;

        for (size_t l = 0; l < ELEMENTSOF(layers); l++)
                if (layers[l])
                        max += strv_length(layers[l]->environment) + strv_length(layers[l]->pass_environment);
        env = calloc(max + 1, sizeof *env);
        if (!env)
                return -ENOMEM;
        if (!from)
                from = environ;
        env_put(env, &n, EXEC_PATH_DEFAULT);
        for (size_t i = 0; i < ELEMENTSOF(env_passed); i++)
                env_pass(from, env, &n, env_passed[i]);
        for (size_t l = 0; l < ELEMENTSOF(layers); l++)
                for (size_t i = 0; layers[l] && layers[l]->pass_environment && layers[l]->pass_environment[i]; i++)
                        env_pass(from, env, &n, layers[l]->pass_environment[i]);
        for (size_t l = 0; l < ELEMENTSOF(layers); l++)
                for (size_t i = 0; layers[l] && layers[l]->environment && layers[l]->environment[i]; i++)
                        env_put(env, &n, layers[l]->environment[i]);
        for (size_t i = 0; i < n_extra; i++)
                env_put(env, &n, extra[i]);
        env[n] = NULL;
        *ret = env;
        return 0;
}
