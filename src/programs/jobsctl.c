/* SPDX-License-Identifier: MIT */
/* jobsctl: the operator's tool. Options first, then a verb from the table below. */

#include <locale.h>

#include "programs/jobsctl.h"
#include "util/log.h"

/* One line per verb; the functions are in jobsctl-*.c. */
static const Verb verbs[] = {
        { "status", 0, VERB_ANY, verb_status, "", "Totals, queues, busy jobs, processes, timers" },
        { "queues", 0, VERB_ANY, verb_queues, "[--names]", "Queues with size and latency" },
        { "queue", 0, VERB_ANY, verb_queue, "clear NAME", "Delete every job waiting in a queue" },
        { "retries", 0, VERB_ANY, verb_job_set, "ACTION ...", "Jobs waiting to be retried (see below)" },
        { "dead", 0, VERB_ANY, verb_job_set, "ACTION ...", "Jobs that ran out of retries" },
        { "scheduled", 0, VERB_ANY, verb_job_set, "ACTION ...", "Jobs enqueued for later" },
        { "processes", 0, VERB_ANY, verb_processes, "", "Worker processes and their heartbeat" },
        { "quiet", 0, VERB_ANY, verb_signal, "IDENTITY|--all", "Ask workers to stop fetching jobs" },
        { "stop", 0, VERB_ANY, verb_signal, "IDENTITY|--all", "Ask workers to finish and exit" },
        { "enqueue", 0, VERB_ANY, verb_enqueue, "[OPTIONS] CLASS", "Push a job (options of jobs-enqueue)" },
        { "run-now", 0, VERB_ANY, verb_run_now, "NAME", "Start schedule entry NAME's service now" },
        { "schedule", 0, VERB_ANY, verb_schedule, "", "Fleet entries: last occurrence, host, job, outcome, next, missed" },
        { "check", 0, VERB_ANY, verb_check, "SCHEDULE", "Check a schedule file, write nothing" },
        { "generate", 0, VERB_ANY, verb_generate, "SCHEDULE OUTDIR", "Write a schedule's timers and services" },
};

int main(int argc, char **argv) {
        int k;

        (void) setlocale(LC_ALL, "");
        log_open("jobsctl", NULL);

        k = ctl_parse_global(argc, argv, verbs, ELEMENTSOF(verbs));
        if (k < 0)
                return k == -1 ? EX_OK : -k;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = &verbs[i];
                unsigned n = (unsigned) (argc - k - 1);

                if (!streq(argv[k], v->name))
                        continue;
                if (n < v->min_args || (v->max_args != VERB_ANY && n > v->max_args)) {
                        log_error("Usage: jobsctl %s %s", v->name, v->usage);
                        return EX_USAGE;
                }
                return v->run(argc - k, argv + k);
        }
        log_error("Unknown verb '%s'; see jobsctl --help.", argv[k]);
        return EX_USAGE;
}
