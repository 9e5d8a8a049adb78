/* SPDX-License-Identifier: MIT */
/* Reload (SIGHUP, systemctl reload): the settings are built again the way the program built them at
 * start, and what can change while jobs run takes effect at once: queues, concurrency, handlers and
 * handler directories, timeouts, MaxPayload=, Tag=. The Redis URL needs a restart: it is kept, and
 * the log says so. Running handlers are not touched: they finish under the settings they started
 * with. systemd hears RELOADING=1 first and READY=1 when done. */

#include <inttypes.h>
#include <systemd/sd-daemon.h>

#include "engine/worker-internal.h"
#include "engine/worker.h"

void worker_set_reload(JobsWorker *w, WorkerReloadFn fn, void *userdata) {
        w->reload_fn = fn;
        w->reload_userdata = userdata;
}

static bool queues_equal(const WorkerConfig *a, const WorkerConfig *b) {
        if (a->n_queues != b->n_queues)
                return false;
        for (size_t i = 0; i < a->n_queues; i++)
                if (!streq(a->queues[i].name, b->queues[i].name) || a->queues[i].weight != b->queues[i].weight)
                        return false;
        return true;
}

void worker_reload(JobsWorker *w) {
        _cleanup_(worker_config_done) WorkerConfig c = {};
        const char *reason = NULL;
        bool queues_changed;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_usec(CLOCK_MONOTONIC));
        worker_config_init(&c);
        if (!w->reload_fn)
                r = log_warning_errno(-EOPNOTSUPP, "SIGHUP: this worker has no settings file to read again; nothing changed.");
        else {
                r = w->reload_fn(&c, w->reload_userdata);
                if (r < 0)
                        log_error_errno(r, "Reload failed (see above); the current settings stay.");
        }
        if (r >= 0 && c.n_queues == 0)
                r = worker_config_add_queue(&c, "default", &reason);
        if (r < 0) {
                (void) sd_notify(false, "READY=1");
                return;
        }

        if (!streq_ptr(c.redis_url, w->config.redis_url)) {
                log_warning("Reload: the Redis URL changed; it takes effect at the next restart "
                            "(systemctl restart jobs-worker).");
                free(c.redis_url);
                c.redis_url = w->config.redis_url;
                w->config.redis_url = NULL;
        }
        queues_changed = !queues_equal(&c, &w->config);
        worker_set_config(w, &c);
        if (queues_changed)
                fetch_cancel(w); /* wait on the new queues; jobs of old ones finish as they are */
        log_notice("Reloaded the settings: %zu queue(s), concurrency %u, %zu Handler= and %zu Timeout= entries; "
                   "%u job(s) keep running.", w->config.n_queues, w->config.concurrency, w->config.n_handlers,
                   w->config.n_timeouts, w->n_running);
        if (redis_async_is_up(w->redis))
                (void) fetch_register(w); /* the new queues' lists are ours before any fetch into them */
        (void) sd_notify(false, "READY=1");
        worker_update_status(w, true);
        worker_kick(w);
}
