/* SPDX-License-Identifier: MIT */
/* jobsctl generate and jobsctl check: the schedule file, validated, turned into units. */

#include <getopt.h>
#include <sysexits.h>

#include "units/calendar.h"
#include "units/generate.h"
#include "programs/jobsctl.h"
#include "util/log.h"

static const char *arg_source_path = NULL;  /* SourcePath= of the generated units */
static const char *arg_enqueue_path = NULL; /* ExecStart= program of the generated services */
static bool arg_calendar_check = true;

/* The verb's own options (they may come anywhere after it); the positional arguments must number
 * exactly n. Returns EX_OK with *ret_args set, -1 after --help, or EX_USAGE. */
static int parse_verb(int argc, char **argv, int n, bool generate, char ***ret_args) {
        enum { ARG_SOURCE_PATH = 0x100, ARG_ENQUEUE_PATH, ARG_NO_CALENDAR_CHECK };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "source-path", required_argument, NULL, ARG_SOURCE_PATH },
                { "enqueue-path", required_argument, NULL, ARG_ENQUEUE_PATH },
                { "no-calendar-check", no_argument, NULL, ARG_NO_CALENDAR_CHECK },
                {},
        };
        const char *usage = generate ? "jobsctl generate [--source-path PATH] [--enqueue-path PATH] "
                                       "[--no-calendar-check] SCHEDULE OUTDIR"
                                     : "jobsctl check [--no-calendar-check] SCHEDULE";
        int c;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case '?':
                case ':':
                        return ctl_option_error(c, argv, options);
                case 'h':
                        printf("Usage: %s\n%s\n", usage,
                               generate ? "Write the timers and services of SCHEDULE into OUTDIR, all or nothing."
                                        : "Check SCHEDULE as generate would, without writing anything.");
                        return -1;
                case ARG_SOURCE_PATH:
                case ARG_ENQUEUE_PATH:
                        if (!generate)
                                goto refused;
                        if (optarg[0] != '/') {
                                log_error("--%s=%s: must be an absolute path.",
                                          c == ARG_SOURCE_PATH ? "source-path" : "enqueue-path", optarg);
                                return EX_USAGE;
                        }
                        *(c == ARG_SOURCE_PATH ? &arg_source_path : &arg_enqueue_path) = optarg;
                        break;
                case ARG_NO_CALENDAR_CHECK:
                        arg_calendar_check = false;
                        break;
                default:
                        return EX_USAGE;
                refused:
                        log_error("Option %s does not apply to this command; see jobsctl --help.", argv[optind - 1]);
                        return EX_USAGE;
                }
        if (argc - optind != n) {
                log_error("Usage: %s", usage);
                return EX_USAGE;
        }
        *ret_args = argv + optind;
        return EX_OK;
}

/* Parse and validate; print every problem. Returns 0 or an exit status. */
static int load(const char *path, bool generating, Schedule **ret) {
        _cleanup_(schedule_freep) Schedule *s = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_full_file(path, SCHEDULE_FILE_MAX, &text, &len);
        if (r == -EFBIG) {
                log_error("%s: the file is larger than %u bytes; split the schedule.", path, SCHEDULE_FILE_MAX);
                return EX_DATAERR;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read schedule %s: %m", path);
                return EX_NOINPUT;
        }
        s = schedule_new();
        if (!s)
                return log_oom(), EX_OSERR;
        r = schedule_parse(s, path, text, len);
        if (r < 0)
                return log_oom(), EX_OSERR;

        if (arg_calendar_check) {
                r = calendar_check_schedule(s);
                if (r == -ENOENT) {
                        log_error("Cannot check OnCalendar= expressions: systemd-analyze was not found "
                                  "(install systemd, or pass --no-calendar-check to leave it to systemd).");
                        return EX_UNAVAILABLE;
                }
                if (r < 0) {
                        log_error_errno(r, "Cannot check OnCalendar= expressions with systemd-analyze: %m");
                        return EX_UNAVAILABLE;
                }
        }

        if (units_check(s) < 0)
                return log_oom(), EX_OSERR;
        schedule_sort_errors(s);
        for (size_t i = 0; i < s->n_errors; i++)
                log_error("%s", s->errors[i].message);
        if (s->n_errors_dropped > 0)
                log_error("%s: %zu more errors not shown.", path, s->n_errors_dropped);
        if (s->n_errors > 0) {
                log_error("%s: %zu error%s%s", path, s->n_errors + s->n_errors_dropped,
                          s->n_errors + s->n_errors_dropped == 1 ? "" : "s",
                          generating ? "; nothing was written." : ".");
                return EX_DATAERR;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int verb_check(int argc, char **argv) {
        _cleanup_(schedule_freep) Schedule *s = NULL;
        char **args = NULL;
        int r;

        r = parse_verb(argc, argv, 1, false, &args);
        if (r != EX_OK)
                return r < 0 ? EX_OK : r;
        if (!args) /* parse_verb() sets it on EX_OK */
                return EX_SOFTWARE;
        r = load(args[0], false, &s);
        if (r != 0)
                return r;
        printf("%s: %zu entr%s OK\n", args[0], s->n_entries, s->n_entries == 1 ? "y" : "ies");
        return EXIT_SUCCESS;
}

int verb_generate(int argc, char **argv) {
        _cleanup_(schedule_freep) Schedule *s = NULL;
        _cleanup_free_ char *abs = NULL, *name = NULL;
        char **args = NULL;
        int r;

        r = parse_verb(argc, argv, 2, true, &args);
        if (r != EX_OK)
                return r < 0 ? EX_OK : r;
        if (!args) /* parse_verb() sets it on EX_OK */
                return EX_SOFTWARE;
        const char *schedule = args[0], *outdir = args[1];
        r = load(schedule, true, &s);
        if (r != 0)
                return r;

        GenerateOptions o = {
                .emit = { .source_path = arg_source_path, .enqueue_path = arg_enqueue_path },
                .with_target = true,
        };
        if (!o.emit.source_path) {
                abs = realpath(schedule, NULL);
                if (!abs)
                        return log_error_errno(errno, "Cannot resolve the path of %s: %m", schedule), EX_NOINPUT;
                o.emit.source_path = abs;
        }

        r = units_generate(s, outdir, &o, &name);
        if (r == -EEXIST) {
                log_error("%s/%s exists and was not generated by jobs; move it away or choose another "
                          "directory. Nothing was changed.", outdir, strna(name));
                return EX_CANTCREAT;
        }
        if (r == -EINVAL && name) {
                log_error("Cannot generate the units of %s into %s: %s cannot be used (a path must be "
                          "absolute, without control characters or a final backslash; OUTDIR not /, . or ..).",
                          schedule, outdir, name);
                return EX_DATAERR;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot write the units into %s (%s): %m. Nothing was changed.", outdir,
                                strna(name));
                return EX_CANTCREAT;
        }
        printf("%s: %zu entr%s written to %s\n", schedule, s->n_entries, s->n_entries == 1 ? "y" : "ies", outdir);
        return EXIT_SUCCESS;
}
