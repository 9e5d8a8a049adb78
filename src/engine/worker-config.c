/* SPDX-License-Identifier: MIT */
/* Worker settings: defaults, queue specs, and the worker.conf file in systemd's Key=Value syntax. */

#include <ctype.h>

#include "engine/worker-config.h"
#include "model/job.h"
#include "util/conf-parser.h"

void worker_config_init(WorkerConfig *c) {
        *c = (WorkerConfig) {
                .concurrency = WORKER_CONCURRENCY_DEFAULT,
                .shutdown_timeout = WORKER_SHUTDOWN_TIMEOUT_DEFAULT,
                .max_payload = JOB_PAYLOAD_MAX_DEFAULT,
                .heartbeat = WORKER_HEARTBEAT_DEFAULT,
                .poll_average = WORKER_POLL_AVERAGE_DEFAULT,
                .job_cgroups = true,
        };
        exec_settings_init(&c->exec);
}

void worker_config_clear_queues(WorkerConfig *c) {
        for (size_t i = 0; i < c->n_queues; i++)
                free(c->queues[i].name);
        free(c->queues);
        c->queues = NULL;
        c->n_queues = 0;
}

static void settings_clear(ClassSetting **s, size_t *n) {
        for (size_t i = 0; i < *n; i++) {
                free((*s)[i].class);
                free((*s)[i].path);
        }
        free(*s);
        *s = NULL;
        *n = 0;
}

void worker_config_clear_handler_dirs(WorkerConfig *c) {
        for (size_t i = 0; c->handler_dirs && c->handler_dirs[i]; i++)
                free(c->handler_dirs[i]);
        free(c->handler_dirs);
        c->handler_dirs = NULL;
}

void worker_config_done(WorkerConfig *c) {
        free(c->redis_url);
        free(c->tag);
        worker_config_clear_queues(c);
        settings_clear(&c->handlers, &c->n_handlers);
        settings_clear(&c->timeouts, &c->n_timeouts);
        worker_config_clear_handler_dirs(c);
        exec_settings_done(&c->exec);
        for (size_t i = 0; i < c->n_classes; i++) {
                free(c->classes[i].class);
                exec_settings_done(&c->classes[i].s);
        }
        free(c->classes);
        worker_config_init(c);
}

int worker_config_add_queue(WorkerConfig *c, const char *spec, const char **ret_reason) {
        _cleanup_free_ char *name = strdup(spec);
        unsigned weight = 0;
        char *comma;
        QueueSpec *q;

        if (!name)
                return -ENOMEM;
        comma = strchr(name, ',');
        if (comma) {
                *comma = 0;
                if (parse_unsigned(comma + 1, &weight) < 0 || weight < 1 || weight > WORKER_QUEUE_WEIGHT_MAX) {
                        *ret_reason = "queue weight must be a number from 1 to 100 (\"critical,2\")";
                        return -EINVAL;
                }
        }
        if (!job_queue_is_valid(name)) {
                *ret_reason = "queue names use A-Z a-z 0-9 _ . : - and are at most 128 bytes";
                return -EINVAL;
        }
        for (size_t i = 0; i < c->n_queues; i++)
                if (streq(c->queues[i].name, name)) {
                        *ret_reason = "queue listed twice";
                        return -EINVAL;
                }
        if (c->n_queues >= WORKER_QUEUES_MAX) {
                *ret_reason = "too many queues (at most 64)";
                return -E2BIG;
        }
        q = realloc(c->queues, (c->n_queues + 1) * sizeof *q);
        if (!q)
                return -ENOMEM;
        c->queues = q;
        c->queues[c->n_queues++] = (QueueSpec) { TAKE_PTR(name), weight };
        return 0;
}

static int settings_add(ClassSetting **s, size_t *n, ClassSetting v) {
        ClassSetting *a;

        for (size_t i = 0; i < *n; i++)
                if (streq((*s)[i].class, v.class)) { /* later entries win, as in unit files */
                        free((*s)[i].class);
                        free((*s)[i].path);
                        (*s)[i] = v;
                        return 0;
                }
        if (*n >= WORKER_HANDLERS_MAX)
                return -E2BIG;
        a = realloc(*s, (*n + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        *s = a;
        (*s)[(*n)++] = v;
        return 0;
}

int worker_config_add_handler(WorkerConfig *c, const char *class, const char *path, const char **ret_reason) {
        char *cl, *p;
        int r;

        if (!job_class_is_valid(class)) {
                *ret_reason = "class names use A-Z a-z 0-9 _ : . - and do not start with '.' or '-'";
                return -EINVAL;
        }
        if (!path || path[0] != '/') {
                *ret_reason = "the handler must be an absolute path";
                return -EINVAL;
        }
        cl = strdup(class);
        p = strdup(path);
        if (!cl || !p) {
                free(cl);
                free(p);
                return -ENOMEM;
        }
        r = settings_add(&c->handlers, &c->n_handlers, (ClassSetting) { cl, p, 0 });
        if (r < 0) {
                free(cl);
                free(p);
                *ret_reason = "too many handlers";
        }
        return r;
}

int worker_config_add_handler_dir(WorkerConfig *c, const char *dir, const char **ret_reason) {
        size_t n = 0;
        char **a;

        if (!dir || dir[0] != '/') {
                *ret_reason = "a handler directory must be an absolute path";
                return -EINVAL;
        }
        while (c->handler_dirs && c->handler_dirs[n])
                n++;
        if (n >= WORKER_HANDLER_DIRS_MAX) {
                *ret_reason = "too many handler directories";
                return -E2BIG;
        }
        a = realloc(c->handler_dirs, (n + 2) * sizeof *a);
        if (!a)
                return -ENOMEM;
        c->handler_dirs = a;
        a[n] = strdup(dir);
        a[n + 1] = NULL;
        return a[n] ? 0 : -ENOMEM;
}

int worker_config_add_timeout(WorkerConfig *c, const char *spec, const char **ret_reason) {
        _cleanup_free_ char *s = strdup(spec);
        char *sp, *cl;
        usec_t t;
        int r;

        if (!s)
                return -ENOMEM;
        sp = strpbrk(s, " \t");
        if (!sp) {
                *ret_reason = "expected \"Class duration\", e.g. \"NightlyReport 2h\"";
                return -EINVAL;
        }
        *sp = 0;
        if (!job_class_is_valid(s)) {
                *ret_reason = "class names use A-Z a-z 0-9 _ : . - and do not start with '.' or '-'";
                return -EINVAL;
        }
        if (parse_duration(sp + 1, &t) < 0 || t == 0) {
                *ret_reason = "invalid duration (e.g. 30s, 5min, \"1h 30min\")";
                return -EINVAL;
        }
        cl = strdup(s);
        if (!cl)
                return -ENOMEM;
        r = settings_add(&c->timeouts, &c->n_timeouts, (ClassSetting) { cl, NULL, t });
        if (r < 0) {
                free(cl);
                *ret_reason = "too many timeouts";
        }
        return r;
}

bool worker_config_weighted(const WorkerConfig *c) {
        for (size_t i = 0; i < c->n_queues; i++)
                if (c->queues[i].weight > 0)
                        return true;
        return false;
}

usec_t worker_config_timeout_for(const WorkerConfig *c, const char *class) {
        for (size_t i = 0; i < c->n_timeouts; i++)
                if (streq(c->timeouts[i].class, class))
                        return c->timeouts[i].timeout;
        return c->job_timeout;
}

const ExecSettings *worker_config_exec_for(const WorkerConfig *c, const char *class) {
        for (size_t i = 0; i < c->n_classes; i++)
                if (streq(c->classes[i].class, class))
                        return &c->classes[i].s;
        return NULL;
}

/* The settings of a [Class NAME] section, made at its first header. */
static int class_exec_get(WorkerConfig *c, const char *class, ExecSettings **ret, const char **reason) {
        ClassExec *a;

        for (size_t i = 0; i < c->n_classes; i++)
                if (streq(c->classes[i].class, class)) {
                        *ret = &c->classes[i].s;
                        return 0;
                }
        if (!job_class_is_valid(class)) {
                *reason = "class names use A-Z a-z 0-9 _ : . - and do not start with '.' or '-'";
                return -EINVAL;
        }
        if (c->n_classes >= EXEC_CLASSES_MAX) {
                *reason = "too many [Class] sections";
                return -E2BIG;
        }
        a = realloc(c->classes, (c->n_classes + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        c->classes = a;
        a[c->n_classes].class = strdup(class);
        if (!a[c->n_classes].class)
                return -ENOMEM;
        exec_settings_init(&a[c->n_classes].s);
        *ret = &a[c->n_classes++].s;
        return 0;
}

/* Settings that are one duration within limits; an empty value restores the default. */
typedef struct DurationSetting {
        const char *key;
        size_t offset; /* of the usec_t in WorkerConfig */
        usec_t def, min, max;
        const char *reason;
} DurationSetting;

static const DurationSetting duration_settings[] = {
        { "HeartbeatSec", offsetof(WorkerConfig, heartbeat), WORKER_HEARTBEAT_DEFAULT, WORKER_HEARTBEAT_MIN,
          WORKER_HEARTBEAT_MAX, "HeartbeatSec= must be a duration from 100ms to 5s" },
        { "PollIntervalSec", offsetof(WorkerConfig, poll_average), WORKER_POLL_AVERAGE_DEFAULT,
          WORKER_POLL_AVERAGE_MIN, WORKER_POLL_AVERAGE_MAX, "PollIntervalSec= must be a duration from 100ms to 1h" },
};

static int duration_assign(WorkerConfig *c, const DurationSetting *d, const char *value, const char **reason) {
        usec_t *p = (usec_t *) ((char *) c + d->offset);
        usec_t t;

        if (!*value) {
                *p = d->def;
                return 0;
        }
        if (parse_duration(value, &t) < 0 || t < d->min || t > d->max) {
                *reason = d->reason;
                return -EINVAL;
        }
        *p = t;
        return 0;
}

/* One Key=Value assignment. An empty value restores the default of any setting and empties a list
 * (conf_set_string()), as in unit files. */
static int config_assign(WorkerConfig *c, const char *key, const char *value, const char **reason) {
        usec_t t;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(duration_settings); i++)
                if (streq(key, duration_settings[i].key))
                        return duration_assign(c, &duration_settings[i], value, reason);
        r = exec_settings_assign(&c->exec, key, value, reason);
        if (r != -ENOENT)
                return r;
        if (streq(key, "JobCgroups")) {
                r = *value ? parse_boolean(value) : 1;
                if (r < 0) {
                        *reason = "JobCgroups= is yes or no";
                        return -EINVAL;
                }
                c->job_cgroups = r;
                return 0;
        }

        if (streq(key, "Redis")) {
                return conf_set_string(&c->redis_url, value);
        }
        if (streq(key, "Queue")) {
                if (!*value) {
                        worker_config_clear_queues(c);
                        return 0;
                }
                /* Several queues on one line, like Sidekiq's -q options. */
                _cleanup_free_ char *copy = strdup(value);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                        r = worker_config_add_queue(c, w, reason);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (streq(key, "Concurrency")) {
                unsigned n;
                if (!*value) {
                        c->concurrency = WORKER_CONCURRENCY_DEFAULT;
                        return 0;
                }
                if (parse_unsigned(value, &n) < 0 || n < 1 || n > WORKER_CONCURRENCY_MAX) {
                        *reason = "Concurrency= must be a number from 1 to 1024";
                        return -EINVAL;
                }
                c->concurrency = n;
                return 0;
        }
        if (streq(key, "TimeoutSec") || streq(key, "ShutdownTimeoutSec")) {
                bool shutdown = streq(key, "ShutdownTimeoutSec");
                if (!*value || streq(value, "infinity"))
                        t = shutdown ? WORKER_SHUTDOWN_TIMEOUT_DEFAULT : 0;
                else if (parse_duration(value, &t) < 0) {
                        *reason = "invalid duration (e.g. 30s, 5min, \"1h 30min\", infinity)";
                        return -EINVAL;
                }
                if (shutdown)
                        c->shutdown_timeout = t;
                else
                        c->job_timeout = t;
                return 0;
        }
        if (streq(key, "Timeout")) {
                if (!*value) {
                        settings_clear(&c->timeouts, &c->n_timeouts);
                        return 0;
                }
                return worker_config_add_timeout(c, value, reason);
        }
        if (streq(key, "Handler")) {
                if (!*value) {
                        settings_clear(&c->handlers, &c->n_handlers);
                        return 0;
                }
                _cleanup_free_ char *copy = strdup(value);
                char *sp;
                if (!copy)
                        return -ENOMEM;
                sp = strpbrk(copy, " \t");
                if (!sp) {
                        *reason = "expected \"Class /path/to/executable\"";
                        return -EINVAL;
                }
                *sp = 0;
                return worker_config_add_handler(c, copy, strstrip(sp + 1), reason);
        }
        if (streq(key, "HandlerDirectory")) {
                if (!*value) {
                        worker_config_clear_handler_dirs(c);
                        /* An explicit empty list: no directories at all. */
                        c->handler_dirs = calloc(1, sizeof(char *));
                        return c->handler_dirs ? 0 : -ENOMEM;
                }
                return worker_config_add_handler_dir(c, value, reason);
        }
        if (streq(key, "Tag"))
                return conf_set_string(&c->tag, value);
        if (streq(key, "MaxPayload")) {
                uint64_t v;
                if (!*value) {
                        c->max_payload = JOB_PAYLOAD_MAX_DEFAULT;
                        return 0;
                }
                if (parse_u64(value, &v) < 0 || v < 64 || v > 512ULL * 1024 * 1024) {
                        *reason = "MaxPayload= must be a byte count from 64 to 536870912";
                        return -EINVAL;
                }
                c->max_payload = (size_t) v;
                return 0;
        }
        *reason = "unknown setting (known: Redis, Queue, Concurrency, TimeoutSec, Timeout, ShutdownTimeoutSec, "
                  "Handler, HandlerDirectory, Tag, MaxPayload, HeartbeatSec, PollIntervalSec, JobCgroups, "
                  EXEC_SETTINGS_KEYS ")";
        return -EINVAL;
}

typedef struct ConfigLoad {
        WorkerConfig *c;
        const char *path;
        ExecSettings *class; /* in a [Class NAME] section: its settings; NULL in [Worker] */
        char *error; /* "path:line: what is wrong", the first one */
} ConfigLoad;

/* Keep the first error as "path:line: message" and stop with r. */
static int load_fail(ConfigLoad *l, unsigned line, int r, const char *message) {
        l->error = line > 0 ? strdupf("%s:%u: %s", l->path, line, message) : strdupf("%s: %s", l->path, message);
        return l->error ? r : -ENOMEM;
}

static int on_section(void *userdata, const char *section, unsigned line) {
        ConfigLoad *l = userdata;
        _cleanup_free_ char *m = NULL;
        const char *reason = NULL;
        int r;

        l->class = NULL;
        if (streq(section, "Worker"))
                return 0;
        if (strncmp(section, "Class ", 6) == 0) {
                r = class_exec_get(l->c, section + 6, &l->class, &reason);
                if (r >= 0 || r == -ENOMEM)
                        return r;
                m = strdupf("[%s]: %s", section, reason);
                return m ? load_fail(l, line, r, m) : -ENOMEM;
        }
        m = strdupf("unknown section [%s] (known: [Worker], [Class NAME]; X-* sections are ignored)", section);
        return m ? load_fail(l, line, -EINVAL, m) : -ENOMEM;
}

static int on_assignment(void *userdata, const char *key, const char *value, unsigned line) {
        ConfigLoad *l = userdata;
        char b[CONF_VALUE_SHOWN_MAX + 4];
        _cleanup_free_ char *m = NULL;
        const char *reason = NULL;
        int r;

        if (l->class) {
                r = exec_settings_assign(l->class, key, value, &reason);
                if (r == -ENOENT)
                        r = -EINVAL, reason = "unknown setting in a [Class] section (known: " EXEC_SETTINGS_KEYS ")";
        } else
                r = config_assign(l->c, key, value, &reason);
        if (r >= 0 || r == -ENOMEM)
                return r;
        m = strdupf("%s=%s: %s", key, conf_value_shown(value, b), reason ? reason : strerror(-r));
        return m ? load_fail(l, line, r, m) : -ENOMEM;
}

static int on_error(void *userdata, ConfError error, unsigned line, const char *message) {
        return load_fail(userdata, line, -EINVAL, message);
}

int worker_config_load(WorkerConfig *c, const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        ConfigLoad l = { .c = c, .path = path };
        size_t len;
        int r;

        r = read_full_file(path, WORKER_CONFIG_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                *ret_error = strdupf("%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        const ConfParser p = {
                .first_section = "[Worker]",
                .line_max = WORKER_CONFIG_LINE_MAX,
                .section = on_section,
                .assignment = on_assignment,
                .error = on_error,
                .userdata = &l,
        };
        r = conf_parse(&p, text, len);
        if (r < 0 && l.error)
                *ret_error = TAKE_PTR(l.error);
        free(l.error);
        return r;
}
