/* SPDX-License-Identifier: MIT */
/* Schedule → a directory of units: written whole into a temporary directory, then moved into place. */
#pragma once

#include "units/emit.h"
#include "model/schedule.h"

typedef struct GenerateOptions {
        EmitOptions emit;
        bool with_target;   /* also write jobs.target (jobsctl: yes; the generator: the package ships it) */
} GenerateOptions;

/* The one validation before anything is written (jobsctl check, jobsctl generate, jobs-generator):
 * render every entry not marked broken and record a diagnostic against each whose values cannot be
 * written as units, marking it broken. Paths given by the caller are not looked at (units_write()
 * and units_generate() check them). Returns 0 or -ENOMEM. */
int units_check(Schedule *s);

/* Write the units of every entry not marked broken, the jobs.target.wants/ symlinks of the timers,
 * and jobs.target when asked, into the directory dirfd (which should be empty). On error
 * *ret_name (if given) names the file that failed. */
int units_write(const Schedule *s, int dirfd, const GenerateOptions *o, char **ret_name);

/* Make outdir hold exactly the units of s: new and changed files replace the old ones, generated
 * files of entries that are gone are removed, files we did not generate are never touched (one
 * with the name of a unit we must write is an error, -EEXIST). The new directory is built beside
 * outdir and exchanged with it atomically; on any error, or if killed, outdir is left as it was
 * (hidden temporary directories of killed runs are removed by the next run). outdir is created if
 * missing (its parent must exist); a symlink to a directory is followed, the directory exchanged. *ret_name (if given) names what failed. */
int units_generate(const Schedule *s, const char *outdir, const GenerateOptions *o, char **ret_name);
