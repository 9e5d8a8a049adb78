/* SPDX-License-Identifier: MIT */
/* jobs-worker: run Sidekiq-format jobs from Redis with executable handlers, under systemd. */

#include <getopt.h>
#include <sysexits.h>

#include "config.h"
#include "jobs/jobs.h"
#include "util/log.h"
#include "engine/worker.h"
#include "redis/url.h"

static void help(void) {
        printf("Usage: jobs-worker [OPTIONS]\n"
               "Take jobs from Redis queues (Sidekiq's format) and run their handlers.\n\n"
               "  -C, --config FILE          settings file (default: %s if it exists)\n"
               "  -r, --redis URL            redis://[:password@]host:port/db or unix:///path?db=N\n"
               "                             (default: Redis= in the config, $REDIS_URL, else %s)\n"
               "  -q, --queue NAME[,WEIGHT]  a queue to work on, repeatable; in the order given, or\n"
               "                             shuffled by weight when weights are given (default: default)\n"
               "  -c, --concurrency N        handlers running at once (default: %d)\n"
               "  -t, --timeout DURATION     kill a handler running longer than this (default: none)\n"
               "      --shutdown-timeout DURATION  on SIGTERM, wait this long for running jobs, then push\n"
               "                             them back to their queues (default: 25s)\n"
               "      --handler-dir DIR      where executable handlers are, repeatable\n"
               "                             (default: %s/jobs/handlers, /usr/lib/jobs/handlers)\n"
               "  -g, --tag TAG              shown with the process in the Web UI and jobsctl\n"
               "  -h, --help                 show this help\n"
               "      --version              show the version\n\n"
               "Signals: SIGTERM/SIGINT stop, SIGTSTP quiets, SIGHUP reloads the settings. See jobs-worker(8) and worker.conf(5).\n",
               WORKER_CONFIG_PATH_DEFAULT, REDIS_URL_DEFAULT, WORKER_CONCURRENCY_DEFAULT, JOBS_SYSCONFDIR);
}

enum { ARG_SHUTDOWN_TIMEOUT = 0x100, ARG_HANDLER_DIR, ARG_VERSION };
static const struct option options[] = {
        { "config", required_argument, NULL, 'C' },
        { "redis", required_argument, NULL, 'r' },
        { "queue", required_argument, NULL, 'q' },
        { "concurrency", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 't' },
        { "shutdown-timeout", required_argument, NULL, ARG_SHUTDOWN_TIMEOUT },
        { "handler-dir", required_argument, NULL, ARG_HANDLER_DIR },
        { "tag", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        {},
};
static const char short_options[] = "C:r:q:c:t:g:h";

/* First pass: only where the config file is, so the command line can override it. */
static int load_config(int argc, char **argv, WorkerConfig *c) {
        _cleanup_free_ char *error = NULL;
        const char *path = NULL;
        int o, r;

        opterr = 0;
        while ((o = getopt_long(argc, argv, short_options, options, NULL)) >= 0)
                if (o == 'C')
                        path = optarg;
        opterr = 1;
        optind = 0;
        r = worker_config_load(c, path ? path : WORKER_CONFIG_PATH_DEFAULT, &error);
        if (r == -ENOENT && !path)
                return 0;
        if (r == -ENOENT)
                return log_error_errno(r, "Config file %s does not exist.", path);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot load %s: %m", path);
        return 0;
}

static int parse_argv(int argc, char **argv, WorkerConfig *c) {
        bool queues_reset = false, dirs_reset = false;
        const char *reason = NULL;
        usec_t t;
        int o, r;

        while ((o = getopt_long(argc, argv, short_options, options, NULL)) >= 0)
                switch (o) {
                case 'C':
                        break;
                case 'r':
                        free(c->redis_url);
                        c->redis_url = strdup(optarg);
                        if (!c->redis_url)
                                return log_oom();
                        break;
                case 'q':
                        if (!queues_reset) { /* the command line replaces Queue= of the config */
                                worker_config_clear_queues(c);
                                queues_reset = true;
                        }
                        r = worker_config_add_queue(c, optarg, &reason);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --queue '%s': %s.", optarg, reason);
                        break;
                case 'c': {
                        unsigned n;
                        if (parse_unsigned(optarg, &n) < 0 || n < 1 || n > WORKER_CONCURRENCY_MAX)
                                return log_error_errno(-EINVAL, "Invalid --concurrency '%s': use 1 to %d.", optarg,
                                                       WORKER_CONCURRENCY_MAX);
                        c->concurrency = n;
                        break;
                }
                case 't':
                case ARG_SHUTDOWN_TIMEOUT:
                        if (parse_duration(optarg, &t) < 0)
                                return log_error_errno(-EINVAL, "Invalid duration '%s' (e.g. 30s, 5min, \"1h 30min\").", optarg);
                        if (o == 't')
                                c->job_timeout = t;
                        else
                                c->shutdown_timeout = t;
                        break;
                case ARG_HANDLER_DIR:
                        if (!dirs_reset) {
                                worker_config_clear_handler_dirs(c);
                                dirs_reset = true;
                        }
                        r = worker_config_add_handler_dir(c, optarg, &reason);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --handler-dir '%s': %s.", optarg, reason);
                        break;
                case 'g':
                        free(c->tag);
                        c->tag = strdup(optarg);
                        if (!c->tag)
                                return log_oom();
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("jobs-worker %s\n", JOBS_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

typedef struct Args {
        int argc;
        char **argv;
} Args;

/* SIGHUP: the same file and the same command line again. */
static int reload_config(WorkerConfig *c, void *userdata) {
        const Args *a = userdata;
        int r;

        optind = 0;
        r = load_config(a->argc, a->argv, c);
        if (r < 0)
                return r;
        optind = 0;
        r = parse_argv(a->argc, a->argv, c);
        return r < 0 ? r : 0;
}

int main(int argc, char **argv) {
        Args args = { argc, argv };
        _cleanup_(worker_config_done) WorkerConfig c = {};
        JobsWorker *w = NULL;
        int r;

        log_open("jobs-worker", "worker");
        log_open_journal();

        worker_config_init(&c);
        r = load_config(argc, argv, &c);
        if (r < 0)
                return EX_CONFIG;
        r = parse_argv(argc, argv, &c);
        if (r <= 0)
                return r < 0 ? EX_USAGE : EXIT_SUCCESS;

        r = jobs_worker_new(&w);
        if (r < 0)
                return log_oom(), EX_OSERR;
        worker_set_config(w, &c);
        worker_set_reload(w, reload_config, &args);
        r = jobs_worker_run(w);
        jobs_worker_free(w);
        if (r == -EINVAL)
                return EX_CONFIG;
        return r < 0 ? EX_SOFTWARE : EXIT_SUCCESS;
}
