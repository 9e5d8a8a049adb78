/* SPDX-License-Identifier: MIT */
/* An embedded worker with C handlers: "SayHello" logs its arguments, "Noop" does nothing (for the
 * benchmark). Build against libjobs; run with the same options as jobs-worker's basics:
 *
 *     hello-worker [-r URL] [-q QUEUE]... [-c N] [--stop-after N] [--attach]
 *
 * --stop-after N stops the worker (as on SIGTERM) once N jobs ran, to time a batch. --attach runs
 * the worker on the program's own sd-event loop, as a program with other work on its loop would
 * (attach(), below). A bad option value is refused with the reason before anything runs. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jobs/jobs.h>

typedef struct Counter {
        JobsWorker *worker;
        unsigned long n, stop_after;
} Counter;

static int say_hello(JobsJob *job, void *userdata) {
        const char *args = jobs_job_args(job);

        (void) userdata;
        if (strcmp(args, "[]") == 0)
                return jobs_job_fail(job, "ArgumentError", "SayHello needs a name, got %s", args);
        printf("Hello %s (job %s, retry %d)\n", args, jobs_job_id(job), jobs_job_retry_count(job));
        fflush(stdout);
        return 0;
}

static int noop(JobsJob *job, void *userdata) {
        Counter *c = userdata;

        (void) job;
        if (++c->n == c->stop_after)
                jobs_worker_stop(c->worker);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) s;
        (void) si;
        jobs_worker_stop(userdata); /* the program's signals are its own: it tells the worker */
        return 0;
}

static void on_stopped(JobsWorker *w, int exit_code, void *userdata) {
        (void) w;
        sd_event_exit(userdata, exit_code); /* here the worker was the loop's only work */
}

/* The worker on the program's loop: SIGCHLD blocked and SIGPIPE ignored first (jobs/jobs.h), the
 * program's own SIGTERM and SIGINT sources stop it, on_stopped ends the loop. */
static int attach(JobsWorker *w) {
        sd_event *e = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return -errno;
        r = sd_event_new(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, on_signal, w);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, on_signal, w);
        if (r >= 0)
                r = jobs_worker_attach_event(w, e, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = jobs_worker_start(w, on_stopped, e);
        if (r >= 0)
                r = sd_event_loop(e);
        sd_event_unref(e);
        return r;
}

/* A whole decimal number in [min, max], nothing else ("5x", "-1" and "" are refused). */
static int parse_number(const char *s, unsigned long min, unsigned long max, unsigned long *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "redis", required_argument, NULL, 'r' },
                { "queue", required_argument, NULL, 'q' },
                { "concurrency", required_argument, NULL, 'c' },
                { "stop-after", required_argument, NULL, 's' },
                { "attach", no_argument, NULL, 'a' },
                {},
        };
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;
        Counter counter = {};
        bool attached = false;
        unsigned long n;
        int o, r;

        jobs_log_open("hello-worker");
        r = jobs_worker_new(&w);
        if (r < 0)
                return EX_OSERR;
        counter.worker = w;
        while ((o = getopt_long(argc, argv, "r:q:c:", options, NULL)) >= 0) {
                const char *why = NULL;

                switch (o) {
                case 'r':
                        r = jobs_worker_set_redis(w, optarg);
                        break;
                case 'q':
                        r = jobs_worker_add_queue(w, optarg);
                        break;
                case 'c':
                        /* The worker checks the range; this checks that it is a number at all. */
                        r = parse_number(optarg, 0, 1000000, &n);
                        if (r < 0)
                                why = "not a number";
                        else
                                r = jobs_worker_set_concurrency(w, (unsigned) n);
                        break;
                case 'a':
                        attached = true;
                        break;
                case 's':
                        r = parse_number(optarg, 1, 1000000000, &counter.stop_after);
                        if (r < 0)
                                why = "give a number of jobs from 1 to 1000000000";
                        break;
                default:
                        return EX_USAGE; /* getopt said why */
                }
                if (r < 0) {
                        const char *name = "";

                        for (size_t i = 0; options[i].name; i++)
                                if (options[i].val == o)
                                        name = options[i].name;
                        fprintf(stderr, "hello-worker: --%s %s: %s\n", name, optarg, why ? why : jobs_worker_errstr(w));
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "hello-worker: unexpected argument \"%s\"; see the top of hello-worker.c for the options.\n",
                        argv[optind]);
                return EX_USAGE;
        }
        if (jobs_worker_register(w, "SayHello", say_hello, NULL) < 0 ||
            jobs_worker_register(w, "Noop", noop, &counter) < 0) {
                fprintf(stderr, "hello-worker: %s\n", jobs_worker_errstr(w));
                return EX_SOFTWARE;
        }
        if (attached) {
                r = attach(w);
                if (r < 0) /* the worker's reason, or the loop's */
                        fprintf(stderr, "hello-worker: %s\n", *jobs_worker_errstr(w) ? jobs_worker_errstr(w)
                                                                                 : strerror(-r));
        } else
                r = jobs_worker_run(w); /* logs why it failed; jobs_worker_errstr(w) has it too */
        return r < 0 ? EX_SOFTWARE : 0;
}
