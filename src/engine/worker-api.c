/* SPDX-License-Identifier: MIT */
/* The settings of a worker, before it runs: its configuration (worker.conf keys, Redis URL, queues,
 * concurrency) and the C handlers registered for job classes; and the error text of the last
 * public call, as hiredis keeps errstr on its context. */

#include <stdarg.h>

#include "engine/worker-internal.h"
#include "engine/worker.h"

void jobs_log_open(const char *program) {
        log_open(program, "worker");
        log_open_journal();
}

int worker_error(JobsWorker *w, int r, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        r = r > 0 ? -r : r; /* errno or a negative errno */
        va_start(ap, fmt);
        errno = -r; /* for %m */
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL; /* jobs_worker_errstr() falls back to strerror() */
        va_end(ap);
        free(w->errstr);
        w->errstr = s;
        w->error = r;
        return r;
}

void worker_error_clear(JobsWorker *w) {
        free(w->errstr);
        w->errstr = NULL;
        w->error = 0;
}

int worker_check_settable(JobsWorker *w, const char *func) {
        if (!w->started)
                return 0;
        return worker_error(w, -EBUSY, "%s(): the worker already ran; settings apply before jobs_worker_run() or "
                            "jobs_worker_start().", func);
}

const char *jobs_worker_errstr(const JobsWorker *w) {
        if (!w || w->error == 0)
                return "";
        return w->errstr ? w->errstr : strerror(-w->error);
}

void worker_set_config(JobsWorker *w, WorkerConfig *c) {
        worker_config_done(&w->config);
        w->config = *c;
        worker_config_init(c);
}

int jobs_worker_load_config(JobsWorker *w, const char *path) {
        _cleanup_free_ char *e = NULL;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        worker_check(w, path, -EINVAL);
        r = worker_check_settable(w, __func__);
        if (r < 0)
                return r;
        r = worker_config_load(&w->config, path, &e);
        if (r == -ENOENT && !e)
                return worker_error(w, r, "%s: no such file.", path);
        if (r < 0)
                return e ? worker_error(w, r, "%s", e) : worker_error(w, r, "%s: cannot load: %m", path);
        return r;
}

int jobs_worker_set_redis(JobsWorker *w, const char *url) {
        _cleanup_(redis_url_done) RedisURL u = {};
        const char *reason = NULL;
        char *s;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        worker_check(w, url, -EINVAL);
        r = worker_check_settable(w, __func__);
        if (r < 0)
                return r;
        /* Found wrong here rather than when the worker runs. */
        r = redis_url_parse(url, &u, &reason);
        if (r < 0)
                return worker_error(w, r, "Invalid Redis URL: %s (expected redis://[[user]:password@]host[:port][/db] "
                                    "or unix:///path[?db=N]).", strna(reason));
        s = strdup(url);
        if (!s)
                return worker_error(w, -ENOMEM, "Out of memory.");
        free(w->config.redis_url);
        w->config.redis_url = s;
        return 0;
}

int jobs_worker_add_queue(JobsWorker *w, const char *spec) {
        const char *reason = NULL;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        worker_check(w, spec, -EINVAL);
        r = worker_check_settable(w, __func__);
        if (r < 0)
                return r;
        r = worker_config_add_queue(&w->config, spec, &reason);
        if (r < 0)
                return worker_error(w, r, "Invalid queue \"%.*s\": %s.", JOB_QUEUE_MAX + 8, spec,
                                    reason ? reason : strerror(-r));
        return r;
}

int jobs_worker_set_concurrency(JobsWorker *w, unsigned n) {
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        r = worker_check_settable(w, __func__);
        if (r < 0)
                return r;
        if (n < 1 || n > WORKER_CONCURRENCY_MAX)
                return worker_error(w, -ERANGE, "Concurrency %u is out of range: give 1 to %u.", n,
                                    (unsigned) WORKER_CONCURRENCY_MAX);
        w->config.concurrency = n;
        return 0;
}

int jobs_worker_register(JobsWorker *w, const char *job_class, JobsHandlerFn fn, void *userdata) {
        CHandler *a;
        int r;

        assert_return(w, -EINVAL);
        worker_error_clear(w);
        worker_check(w, job_class, -EINVAL);
        worker_check(w, fn, -EINVAL);
        r = worker_check_settable(w, __func__);
        if (r < 0)
                return r;
        if (!job_class_is_valid(job_class))
                return worker_error(w, -EINVAL, "Invalid job class \"%.*s\": letters, digits and _ : . - only, at "
                                    "most %u bytes, not starting with a dot or dash.", JOB_CLASS_MAX + 8, job_class,
                                    (unsigned) JOB_CLASS_MAX);
        if (worker_find_c_handler(w, job_class))
                return worker_error(w, -EEXIST, "A handler for %s is already registered.", job_class);
        if (w->n_c_handlers >= WORKER_HANDLERS_MAX)
                return worker_error(w, -E2BIG, "Too many handlers: at most %u.", (unsigned) WORKER_HANDLERS_MAX);
        a = realloc(w->c_handlers, (w->n_c_handlers + 1) * sizeof *a);
        if (!a)
                return worker_error(w, -ENOMEM, "Out of memory.");
        w->c_handlers = a;
        a[w->n_c_handlers] = (CHandler) { strdup(job_class), fn, userdata };
        if (!a[w->n_c_handlers].class)
                return worker_error(w, -ENOMEM, "Out of memory.");
        w->n_c_handlers++;
        return 0;
}

const CHandler *worker_find_c_handler(JobsWorker *w, const char *class) {
        for (size_t i = 0; i < w->n_c_handlers; i++)
                if (streq(w->c_handlers[i].class, class))
                        return &w->c_handlers[i];
        return NULL;
}
