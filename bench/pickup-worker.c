/* SPDX-License-Identifier: MIT */
/* bench/pickup.sh's worker: libjobs with one C handler, "Stamp", whose only argument is the
 * CLOCK_MONOTONIC nanoseconds at which the job was pushed; it writes "<queue> <latency ns>\n" to
 * the file descriptor 3 (a pipe the script reads), so the pusher knows the job started.
 *
 *     pickup-worker URL QUEUE...
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jobs/jobs.h>

static int stamp(JobsJob *job, void *userdata) {
        struct timespec ts;
        char line[128];
        uint64_t pushed, now;
        int n;

        (void) userdata;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
        pushed = strtoull(jobs_job_args(job) + 1, NULL, 10);
        n = snprintf(line, sizeof line, "%s %" PRIu64 "\n", jobs_job_queue(job), now - pushed);
        return write(3, line, (size_t) n) == n ? 0 : -EIO;
}

int main(int argc, char **argv) {
        JOBS_CLEANUP_WORKER JobsWorker *w = NULL;

        if (argc < 3) {
                fprintf(stderr, "usage: pickup-worker URL QUEUE...\n");
                return EX_USAGE;
        }
        jobs_log_open("pickup-worker");
        if (jobs_worker_new(&w) < 0)
                return EX_OSERR;
        if (jobs_worker_set_redis(w, argv[1]) < 0 || jobs_worker_register(w, "Stamp", stamp, NULL) < 0)
                goto fail;
        for (int i = 2; i < argc; i++)
                if (jobs_worker_add_queue(w, argv[i]) < 0)
                        goto fail;
        return jobs_worker_run(w) < 0 ? EX_SOFTWARE : 0;
fail:
        fprintf(stderr, "pickup-worker: %s\n", jobs_worker_errstr(w));
        return EX_USAGE;
}
