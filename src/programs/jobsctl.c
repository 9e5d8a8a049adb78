/* SPDX-License-Identifier: MIT */
/* jobsctl: the operator's tool — a verb table over the jobsctl-*.c commands. */

#include <limits.h>
#include <locale.h>

#include "jobsctl.h"
#include "log.h"

#define VERB_ANY UINT_MAX

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args; /* counting the verb itself */
        int (*dispatch)(int argc, char **argv, void *userdata);
} Verb;

static const Verb verbs[] = {
        /* Operator verbs: Redis (Sidekiq's layout) and the local timers. They parse their own options. */
        { "status", 1, VERB_ANY, verb_status },
        { "queues", 1, VERB_ANY, verb_queues },
        { "queue", 1, VERB_ANY, verb_queue },
        { "retries", 1, VERB_ANY, verb_job_set },
        { "dead", 1, VERB_ANY, verb_job_set },
        { "scheduled", 1, VERB_ANY, verb_job_set },
        { "processes", 1, VERB_ANY, verb_processes },
        { "quiet", 1, VERB_ANY, verb_signal },
        { "stop", 1, VERB_ANY, verb_signal },
        { "enqueue", 1, VERB_ANY, verb_enqueue },
        { "run-now", 1, VERB_ANY, verb_run_now },
};

int main(int argc, char **argv) {
        int k;

        (void) setlocale(LC_ALL, "");
        log_open("jobsctl", "ctl");

        k = ctl_parse_global(argc, argv);
        if (k < 0)
                return k == -1 ? EX_OK : -k;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = &verbs[i];
                unsigned n = (unsigned) (argc - k);

                if (!streq(argv[k], v->name))
                        continue;
                if (n < v->min_args || (v->max_args != VERB_ANY && n > v->max_args)) {
                        log_error("Wrong number of arguments for '%s'; see %s --help.", v->name,
                                  program_invocation_short_name);
                        return EX_USAGE;
                }
                return v->dispatch(argc - k, argv + k, NULL);
        }
        log_error("Unknown command '%s'; see %s --help.", argv[k], program_invocation_short_name);
        return EX_USAGE;
}
