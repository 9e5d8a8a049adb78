/* SPDX-License-Identifier: MIT */
/* Running one fetched job: validate it, log it, find its handler (C function or executable in the
 * allowlist) and start it; the worker's list of jobs and its count of running ones. The C
 * embedding API's view of a job is job-api.c. */

#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engine/worker-internal.h"

/* MESSAGE_IDs of the job lifecycle; catalog/jobs.catalog explains them. */
static const struct {
        const char *status, *message_id;
} lifecycle_ids[] = {
        { "start", "MESSAGE_ID=4f6b1a0c3e9d4c2a9b1e7d5f0a8c6e21" },
        { "done", "MESSAGE_ID=8d2e5b7a1c4f4e3b8a6d9c0e2f1b3a52" },
        { "fail", "MESSAGE_ID=c1a9e7d3b5f24a6c8e0d2b4f6a8c1e73" },
        { "retry", "MESSAGE_ID=2b7d9f1e3a5c4b8d9e1f3a5c7b9d2e84" },
        { "dead", "MESSAGE_ID=e5c3a1f9d7b54e2a8c6f4d2b0e9a7c95" },
        { "drop", "MESSAGE_ID=7a9c1e3f5b2d4a6c8e1f3b5d7a9c2e16" },
        { "requeue", "MESSAGE_ID=3d5f7b9a1c2e4f6a8b1d3f5a7c9e2b47" },
};

void work_job_log(JobsJob *j, int level, const char *status, const char *const *extra, const char *fmt, ...) {
        char id[16 + JOB_JID_MAX], id_compat[16 + JOB_JID_MAX], cls[16 + JOB_CLASS_MAX], q[16 + JOB_QUEUE_MAX], st[32], rc[32];
        const char *fields[16];
        size_t n = 0;
        va_list ap;

        if (level > log_get_max_level())
                return;
        snprintf(id, sizeof id, LOG_FIELD_JID "%s", j->jid);
        snprintf(id_compat, sizeof id_compat, LOG_FIELD_JID_COMPAT "%s", j->jid);
        snprintf(cls, sizeof cls, "JOB_CLASS=%s", j->class);
        snprintf(q, sizeof q, "JOB_QUEUE=%s", j->queue);
        fields[n++] = id;
        fields[n++] = id_compat;
        fields[n++] = cls;
        fields[n++] = q;
        if (status) {
                snprintf(st, sizeof st, "JOB_STATUS=%s", status);
                fields[n++] = st;
                for (size_t i = 0; i < ELEMENTSOF(lifecycle_ids); i++)
                        if (streq(lifecycle_ids[i].status, status))
                                fields[n++] = lifecycle_ids[i].message_id;
        }
        snprintf(rc, sizeof rc, "JOB_RETRY_COUNT=%d", MAX(j->retry_count, 0));
        fields[n++] = rc;
        for (size_t i = 0; extra && extra[i] && n < ELEMENTSOF(fields) - 1; i++)
                fields[n++] = extra[i];
        fields[n] = NULL;

        va_start(ap, fmt);
        (void) log_fieldsv(level, 0, fields, fmt, ap);
        va_end(ap);
}

/* The one place n_running changes. */
static void job_set_running(JobsJob *j, bool running) {
        if (j->running == running)
                return;
        j->running = running;
        if (running)
                j->worker->n_running++;
        else
                j->worker->n_running--;
}

void work_job_stopped(JobsJob *j, usec_t took) {
        JobsWorker *w = j->worker;

        if (!j->running)
                return;
        job_set_running(j, false);
        w->run_usec_avg = w->run_usec_known ? w->run_usec_avg - w->run_usec_avg / 8 + took / 8 : took;
        w->run_usec_known = true;
}

void work_job_remove(JobsJob *j) {
        JobsWorker *w = j->worker;

        if (j->prev)
                j->prev->next = j->next;
        else
                w->jobs = j->next;
        if (j->next)
                j->next->prev = j->prev;
        w->n_jobs--;
        work_job_free(j);
}

JobsJob *work_job_free(JobsJob *j) {
        if (!j)
                return NULL;
        if (j->pid > 0) {
                /* Still running (the worker is being freed): it must be gone before its spawn block. */
                exec_kill(j);
                (void) waitpid(j->pid, NULL, 0);
        }
        exec_release(j);
        j->out_source = sd_event_source_disable_unref(j->out_source);
        j->err_source = sd_event_source_disable_unref(j->err_source);
        j->timeout_source = sd_event_source_disable_unref(j->timeout_source);
        json_decref(j->job);
        free(j->queue);
        free(j->raw);
        free(j->args_text);
        free(j->fail_class);
        free(j->fail_message);
        job_ack_done(&j->ack);
        free(j);
        return NULL;
}

/* An executable for class: a Handler= entry, else the file named exactly like the class in the first
 * handler directory that has it. The class charset has no '/' and no leading '.': it cannot leave
 * the directory. -ENOENT if none. */
int handler_find_exec(JobsWorker *w, const char *class, char **ret_path) {
        static const char *const defaults[] = WORKER_HANDLER_DIRS_DEFAULT;
        const WorkerConfig *c = &w->config;
        size_t n_dirs = 0;

        if (!job_class_is_valid(class) || strchr(class, '/') || class[0] == '.')
                return -EINVAL;
        for (size_t i = 0; i < c->n_handlers; i++)
                if (streq(c->handlers[i].class, class)) {
                        char *p = strdup(c->handlers[i].path);
                        if (!p)
                                return -ENOMEM;
                        *ret_path = p;
                        return 0;
                }
        if (c->handler_dirs)
                while (c->handler_dirs[n_dirs])
                        n_dirs++;
        else
                n_dirs = ELEMENTSOF(defaults);
        for (size_t i = 0; i < n_dirs; i++) {
                const char *dir = c->handler_dirs ? c->handler_dirs[i] : defaults[i];
                _cleanup_free_ char *p = strdupf("%s/%s", dir, class);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || access(p, X_OK) < 0)
                        continue;
                *ret_path = TAKE_PTR(p);
                return 0;
        }
        return -ENOENT;
}

static void handler_dirs_describe(JobsWorker *w, char *buf, size_t n) {
        static const char *const defaults[] = WORKER_HANDLER_DIRS_DEFAULT;
        const WorkerConfig *c = &w->config;
        size_t off = 0;

        buf[0] = 0;
        for (size_t i = 0; c->handler_dirs ? c->handler_dirs[i] != NULL : i < ELEMENTSOF(defaults); i++) {
                int k = snprintf(buf + off, n - off, "%s%s", off ? ", " : "", c->handler_dirs ? c->handler_dirs[i] : defaults[i]);
                if (k < 0 || (size_t) k >= n - off)
                        break;
                off += (size_t) k;
        }
        if (!off)
                snprintf(buf, n, "no handler directories");
}

static void run_c_handler(JobsJob *j, const CHandler *h) {
        int r = h->fn(j, h->userdata);

        if (r >= 0)
                return ack_finish(j, true, NULL, NULL);
        if (j->fail_class || j->fail_message)
                return ack_finish(j, false, j->fail_class, j->fail_message);
        char m[256];
        snprintf(m, sizeof m, "handler returned an error: %s", strerror(-r));
        ack_finish(j, false, "HandlerError", m);
}

static void work_job_run(JobsJob *j) {
        JobsWorker *w = j->worker;
        _cleanup_free_ char *path = NULL;
        const CHandler *ch;
        int r;

        job_set_running(j, true);
        j->started = now_usec(CLOCK_MONOTONIC);
        j->run_at = epoch_now();
        work_job_log(j, LOG_INFO, "start", NULL, "Starting %s job %s from queue %s.", j->class, j->jid, j->queue);

        ch = worker_find_c_handler(w, j->class);
        if (ch)
                return run_c_handler(j, ch);

        if (pool_run(w, j) > 0)
                return;
        r = handler_find_exec(w, j->class, &path);
        if (r == -ENOMEM)
                return ack_finish(j, false, "NoMemoryError", "out of memory looking up the handler");
        if (r < 0) {
                char dirs[512], m[2048];
                handler_dirs_describe(w, dirs, sizeof dirs);
                snprintf(m, sizeof m, "no handler for class %s: no C handler is registered, no Handler= entry and no "
                         "executable named %s in %s", j->class, j->class, dirs);
                return ack_finish(j, false, "NameError", m);
        }
        r = exec_spawn(j, path);
        if (r < 0) {
                char m[PATH_MAX + 128];
                snprintf(m, sizeof m, "cannot start %s: %s", path, strerror(-r));
                return ack_finish(j, false, "HandlerSpawnError", m);
        }
}

/* Start waiting jobs while slots are free; once quiet or stopping, give them all back. */
void work_start_pending(JobsWorker *w) {
        while (w->pending_head && (w->state >= WORKER_QUIET || w->n_running < w->config.concurrency)) {
                JobsJob *j = w->pending_head;

                w->pending_head = j->pending_next;
                if (!w->pending_head)
                        w->pending_tail = NULL;
                j->pending_next = NULL;
                w->n_pending--;
                if (w->state >= WORKER_QUIET)
                        ack_requeue(j);
                else
                        work_job_run(j);
        }
}

void work_job_start(JobsWorker *w, const char *queue, const char *raw, size_t len) {
        JobsJob *j;
        int r;

        j = calloc(1, sizeof *j);
        if (!j || !(j->queue = strdup(queue)) || !(j->raw = malloc(len + 1))) {
                /* It stays in our in-flight list: pushed back when this process stops. */
                if (j)
                        work_job_free(j);
                return (void) log_oom();
        }
        memcpy(j->raw, raw, len);
        j->raw[len] = 0;
        j->raw_len = len;
        j->worker = w;
        j->pid = -1;
        j->out_w = j->err_w = -1;
        j->retry_count = -1;
        job_ack_init(&j->ack);
        j->started = now_usec(CLOCK_MONOTONIC);
        j->run_at = epoch_now();
        j->next = w->jobs;
        if (w->jobs)
                w->jobs->prev = j;
        w->jobs = j;
        w->n_jobs++;

        const char *reason = NULL;
        r = job_parse(raw, len, w->config.max_payload, &j->job, &reason);
        if (r < 0) {
                int arg = r == -ERANGE ? job_find_big_integer(raw, len) : -ENOENT;
                if (arg >= 0)
                        snprintf(j->invalid_reason, sizeof j->invalid_reason, "integer out of range at args[%d]", arg);
                else
                        snprintf(j->invalid_reason, sizeof j->invalid_reason, "%s", reason);
                snprintf(j->jid, sizeof j->jid, "unknown");
                snprintf(j->class, sizeof j->class, "unknown");
                return ack_finish(j, false, "JobsInvalidPayload", j->invalid_reason);
        }
        snprintf(j->jid, sizeof j->jid, "%s", job_get_jid(j->job));
        /* An ActiveJob payload runs as the job class it wraps: handler, timeout and log fields. */
        const char *wrapped = active_job_class(j->job);
        snprintf(j->class, sizeof j->class, "%s", wrapped ? wrapped : job_get_class(j->job));
        j->retry_count = job_get_retry_count(j->job);

        if (w->state >= WORKER_QUIET)
                return ack_requeue(j); /* fetched as quiet or stop began: not started, back it goes */
        if (w->n_running < w->config.concurrency && !w->pending_head)
                return work_job_run(j);
        if (w->pending_tail)
                w->pending_tail->pending_next = j;
        else
                w->pending_head = j;
        w->pending_tail = j;
        w->n_pending++;
}
