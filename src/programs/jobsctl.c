/* SPDX-License-Identifier: MIT */
/* jobsctl: the operator's tool. Options first, then a verb from the table below. */

#include <getopt.h>
#include <sysexits.h>

#include "config.h"
#include "jobsctl.h"
#include "log.h"

const char *arg_source_path;
const char *arg_enqueue_path;
bool arg_calendar_check = true;

/* One line per verb; the functions are in jobsctl-*.c. */
static const Verb verbs[] = {
        { "generate", 2, 2, verb_generate, "SCHEDULE OUTDIR", "Write the timers and services of SCHEDULE into OUTDIR" },
        { "check", 1, 1, verb_check, "SCHEDULE", "Check SCHEDULE without writing anything" },
};

static void help(void) {
        printf("Usage: jobsctl [OPTIONS] VERB [ARGUMENTS...]\n"
               "Operate scheduled jobs: generate units from a schedule, inspect and change the queues.\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-9s %-16s %s\n", verbs[i].name, verbs[i].usage, verbs[i].help);
        printf("\nOptions:\n"
               "      --source-path PATH   SourcePath= of generated units (default: the schedule's absolute path)\n"
               "      --enqueue-path PATH  program the generated services run (default: %s)\n"
               "      --no-calendar-check  do not ask systemd-analyze about OnCalendar= expressions\n"
               "  -h, --help               show this help\n"
               "      --version            show the version\n\n"
               "Exit status: 0 ok, 64 usage, 65 bad schedule, 66 schedule unreadable,\n"
               "69 systemd-analyze unavailable, 73 cannot write the output directory.\n"
               "See jobsctl(1) and jobs-schedule(5).\n",
               JOBS_ENQUEUE_PATH);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_SOURCE_PATH = 0x100, ARG_ENQUEUE_PATH, ARG_NO_CALENDAR_CHECK, ARG_VERSION };
        static const struct option options[] = {
                { "source-path", required_argument, NULL, ARG_SOURCE_PATH },
                { "enqueue-path", required_argument, NULL, ARG_ENQUEUE_PATH },
                { "no-calendar-check", no_argument, NULL, ARG_NO_CALENDAR_CHECK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SOURCE_PATH:
                        if (optarg[0] != '/') {
                                log_error("--source-path=%s: must be an absolute path.", optarg);
                                return -EINVAL;
                        }
                        arg_source_path = optarg;
                        break;
                case ARG_ENQUEUE_PATH:
                        if (optarg[0] != '/') {
                                log_error("--enqueue-path=%s: must be an absolute path.", optarg);
                                return -EINVAL;
                        }
                        arg_enqueue_path = optarg;
                        break;
                case ARG_NO_CALENDAR_CHECK:
                        arg_calendar_check = false;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("jobsctl %s\n", JOBS_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char **argv) {
        int r;

        log_open("jobsctl", NULL);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EX_USAGE : EXIT_SUCCESS;
        if (optind >= argc) {
                log_error("Missing verb; see jobsctl --help.");
                return EX_USAGE;
        }
        const char *name = argv[optind];
        unsigned nargs = (unsigned) (argc - optind - 1);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(verbs[i].name, name))
                        continue;
                if (nargs < verbs[i].min_args || nargs > verbs[i].max_args) {
                        log_error("Usage: jobsctl %s %s", verbs[i].name, verbs[i].usage);
                        return EX_USAGE;
                }
                return verbs[i].run(argc - optind, argv + optind);
        }
        log_error("Unknown verb '%s'; see jobsctl --help.", name);
        return EX_USAGE;
}
