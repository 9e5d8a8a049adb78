/* SPDX-License-Identifier: MIT */
/* An embedded worker with C handlers: "SayHello" logs its arguments, "Noop" does nothing (for the
 * benchmark). Build against libjobs; run with the same options as jobs-worker's basics:
 *
 *     hello-worker [-r URL] [-q QUEUE]... [-c N] [--stop-after N]
 *
 * --stop-after N stops the worker (as on SIGTERM) once N jobs ran, to time a batch. */

#include <getopt.h>
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

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "redis", required_argument, NULL, 'r' },
                { "queue", required_argument, NULL, 'q' },
                { "concurrency", required_argument, NULL, 'c' },
                { "stop-after", required_argument, NULL, 's' },
                {},
        };
        Counter counter = {};
        JobsWorker *w;
        int o, r;

        jobs_log_open("hello-worker");
        r = jobs_worker_new(&w);
        if (r < 0)
                return EX_OSERR;
        counter.worker = w;
        while ((o = getopt_long(argc, argv, "r:q:c:", options, NULL)) >= 0)
                switch (o) {
                case 'r':
                        r = jobs_worker_set_redis(w, optarg);
                        break;
                case 'q':
                        r = jobs_worker_add_queue(w, optarg);
                        break;
                case 'c':
                        r = jobs_worker_set_concurrency(w, (unsigned) strtoul(optarg, NULL, 10));
                        break;
                case 's':
                        counter.stop_after = strtoul(optarg, NULL, 10);
                        break;
                default:
                        jobs_worker_free(w);
                        return EX_USAGE;
                }
        if (r < 0) {
                fprintf(stderr, "Invalid option: %s\n", strerror(-r));
                jobs_worker_free(w);
                return EX_USAGE;
        }
        if (jobs_worker_register(w, "SayHello", say_hello, NULL) < 0 ||
            jobs_worker_register(w, "Noop", noop, &counter) < 0) {
                jobs_worker_free(w);
                return EX_SOFTWARE;
        }
        r = jobs_worker_run(w);
        jobs_worker_free(w);
        return r < 0 ? EX_SOFTWARE : 0;
}
