/* SPDX-License-Identifier: MIT */
/* The settings of a worker, before it runs: its configuration (worker.conf keys, Redis URL, queues,
 * concurrency) and the C handlers registered for job classes. */

#include "engine/worker-internal.h"
#include "engine/worker.h"

void jobs_log_open(const char *program) {
        log_open(program, "worker");
        log_open_journal();
}

void worker_set_config(JobsWorker *w, WorkerConfig *c) {
        worker_config_done(&w->config);
        w->config = *c;
        worker_config_init(c);
}

int jobs_worker_load_config(JobsWorker *w, const char *path) {
        _cleanup_free_ char *e = NULL;
        int r = worker_config_load(&w->config, path, &e);

        if (r < 0 && e)
                log_debug("%s", e);
        return r;
}

int jobs_worker_set_redis(JobsWorker *w, const char *url) {
        char *s = strdup(url);

        if (!s)
                return -ENOMEM;
        free(w->config.redis_url);
        w->config.redis_url = s;
        return 0;
}

int jobs_worker_add_queue(JobsWorker *w, const char *spec) {
        const char *reason;
        return worker_config_add_queue(&w->config, spec, &reason);
}

int jobs_worker_set_concurrency(JobsWorker *w, unsigned n) {
        if (n < 1 || n > WORKER_CONCURRENCY_MAX)
                return -ERANGE;
        w->config.concurrency = n;
        return 0;
}

int jobs_worker_register(JobsWorker *w, const char *job_class, JobsHandlerFn fn, void *userdata) {
        CHandler *a;

        if (!fn || !job_class_is_valid(job_class))
                return -EINVAL;
        if (worker_find_c_handler(w, job_class))
                return -EEXIST;
        if (w->n_c_handlers >= WORKER_HANDLERS_MAX)
                return -E2BIG;
        a = realloc(w->c_handlers, (w->n_c_handlers + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        w->c_handlers = a;
        a[w->n_c_handlers] = (CHandler) { strdup(job_class), fn, userdata };
        if (!a[w->n_c_handlers].class)
                return -ENOMEM;
        w->n_c_handlers++;
        return 0;
}

const CHandler *worker_find_c_handler(JobsWorker *w, const char *class) {
        for (size_t i = 0; i < w->n_c_handlers; i++)
                if (streq(w->c_handlers[i].class, class))
                        return &w->c_handlers[i];
        return NULL;
}
