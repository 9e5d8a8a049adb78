/* SPDX-License-Identifier: MIT */
/* Calendar expressions checked against systemd's own grammar by running `systemd-analyze calendar`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/schedule.h"

/* Program used; $JOBS_SYSTEMD_ANALYZE overrides it (tests), else it is looked up in $PATH. */
#define CALENDAR_ANALYZE_DEFAULT "systemd-analyze"

/* Bytes of expressions passed to one invocation; far below ARG_MAX, so 10,000 entries need one run. */
#define CALENDAR_BATCH_BYTES (512U * 1024)

/* Check n expressions; valid[i] says whether systemd accepts exprs[i]. Duplicates may be passed.
 * -ENOENT if systemd-analyze cannot be run, -EPROTO if its output cannot be understood. */
int calendar_check(const char *const *exprs, size_t n, bool *valid);

/* Check every OnCalendar= of every entry; report each one systemd rejects
 * as an error on its entry. Returns 0 or a negative errno from calendar_check(). */
int calendar_check_schedule(Schedule *s);
