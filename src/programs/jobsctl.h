/* SPDX-License-Identifier: MIT */
/* jobsctl's verbs and the options they share. Each verb lives in a jobsctl-*.c file and has one line
 * in the verb table in jobsctl.c; it returns an exit status from sysexits.h. */
#pragma once

#include <stdbool.h>

typedef int (*VerbFunction)(int argc, char **argv);

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args; /* positional arguments after the verb */
        VerbFunction run;            /* argv[0] is the verb, argv[1..argc) its arguments */
        const char *usage;           /* arguments, for --help */
        const char *help;            /* one line, for --help */
} Verb;

/* Options, parsed before the verb runs. */
extern const char *arg_source_path;    /* --source-path: SourcePath= of generated units */
extern const char *arg_enqueue_path;   /* --enqueue-path: ExecStart= program of generated services */
extern bool arg_calendar_check;        /* --no-calendar-check turns it off */

/* jobsctl-schedule.c */
int verb_generate(int argc, char **argv);
int verb_check(int argc, char **argv);
