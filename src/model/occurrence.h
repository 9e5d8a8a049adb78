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

/* The up to max occurrences before occ, newest first, into earlier; their number into *ret_n. */
int occurrence_earlier(CalendarSpec *const *specs, size_t n, usec_t occ, usec_t *earlier, size_t max, size_t *ret_n);
