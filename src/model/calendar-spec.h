/* SPDX-License-Identifier: MIT */
/* A calendar expression of systemd 252's OnCalendar= (systemd.time(7)), parsed and evaluated here:
 * when it elapses next after a time, and when it last elapsed at or before a time.
 *
 * Not thread-safe: an expression with a time zone ("... Europe/Berlin") is evaluated by switching
 * $TZ with setenv()/tzset() for the duration of the call and restoring it afterwards, as systemd
 * itself does (in a forked child). Callers are single-threaded programs. */
#pragma once

#include "util/util.h"

typedef struct CalendarSpec CalendarSpec;

/* Longest expression accepted, in bytes (systemd has no limit; schedules allow 256). */
#define CALENDAR_SPEC_LEN_MAX 1024U

/* Values in one component list ("1,3,5..9/2"), as systemd: at most 241. */
#define CALENDAR_SPEC_COMPONENTS_MAX 241U

/* Parse expr. -EINVAL and *ret_error = "what is wrong" (malloc'd) when it cannot be evaluated;
 * -ENOMEM. ret_error may be NULL. */
int calendar_spec_parse(const char *expr, CalendarSpec **ret, char **ret_error);

CalendarSpec *calendar_spec_free(CalendarSpec *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CalendarSpec *, calendar_spec_free);

/* First elapse > after (realtime µs since the epoch). -ENOENT if none (past the year 2199 or a
 * fixed date in the past); -EINVAL if after is beyond the year 9999; -EDEADLK if systemd would give
 * up too (it stops after 1000 steps, e.g. on a date no month has). */
int calendar_spec_next(const CalendarSpec *c, usec_t after, usec_t *ret);

/* Latest elapse <= at. -ENOENT if none since the epoch. About 2 × 64 evaluations of next at most,
 * whatever the frequency of the expression. */
int calendar_spec_prev(const CalendarSpec *c, usec_t at, usec_t *ret);

/* prev(at) into *ret and prev(*ret - 1) into *ret_before (0 if there is none or it fails), with
 * the zone switched once for both. */
int calendar_spec_prev_pair(const CalendarSpec *c, usec_t at, usec_t *ret, usec_t *ret_before);

/* The normalized form, exactly as `systemd-analyze calendar` prints it ("Normalized form:"). */
int calendar_spec_to_string(const CalendarSpec *c, char **ret);
