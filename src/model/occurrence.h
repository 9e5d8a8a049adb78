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

/* First elapse > after over n calendars into *ret; -ENOENT if none will. */
int occurrence_next(CalendarSpec *const *specs, size_t n, usec_t after, usec_t *ret);

/* The number of elapses e with after < e < before, counting at most max, into *ret. */
int occurrence_count_between(CalendarSpec *const *specs, size_t n, usec_t after, usec_t before, unsigned max,
                             unsigned *ret);
