/* SPDX-License-Identifier: MIT */
/* The occurrence a run of a schedule entry stands for: the latest scheduled elapse at or before the
 * moment its timer fired, over all the entry's calendars. Every host computes the same value from
 * the same calendars, whatever its AccuracySec=, RandomizedDelaySec= or catch-up delay. */
#pragma once

#include <stddef.h>

#include "model/calendar-spec.h"
#include "util/util.h"

/* Latest elapse <= at over n calendars into *ret; -ENOENT if none has elapsed. */
int occurrence_prev(CalendarSpec *const *specs, size_t n, usec_t at, usec_t *ret);

/* occurrence_prev(at) into *ret, and into *ret_before the elapse before it over the calendars (0 if
 * none or it fails): the occurrence a run stands for and the one before it. The same as
 * occurrence_prev(*ret - 1) but for a calendar whose last elapse <= at is in an hour a DST change
 * repeated (the chain of a timer that ran through it skips the second pass, see calendar-spec.c),
 * at half the cost. */
int occurrence_prev_pair(CalendarSpec *const *specs, size_t n, usec_t at, usec_t *ret, usec_t *ret_before);

/* First elapse > after over n calendars into *ret; -ENOENT if none will. */
int occurrence_next(CalendarSpec *const *specs, size_t n, usec_t after, usec_t *ret);

/* The number of elapses e with after < e < before, counting at most max, into *ret. */
int occurrence_count_between(CalendarSpec *const *specs, size_t n, usec_t after, usec_t before, unsigned max,
                             unsigned *ret);
