/* SPDX-License-Identifier: MIT */
/* The occurrence of a schedule entry, over all its calendars. */

#include "model/occurrence.h"
#include "model/schedule.h"

/* The latest prev or the earliest next over the calendars. */
static int pick(CalendarSpec *const *specs, size_t n, usec_t t, bool prev, usec_t *ret) {
        usec_t best = 0, v;
        bool found = false;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = prev ? calendar_spec_prev(specs[i], t, &v) : calendar_spec_next(specs[i], t, &v);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (!found || (prev ? v > best : v < best))
                        best = v;
                found = true;
        }
        if (!found)
                return -ENOENT;
        *ret = best;
        return 0;
}

int occurrence_prev(CalendarSpec *const *specs, size_t n, usec_t at, usec_t *ret) {
        return pick(specs, n, at, true, ret);
}

int occurrence_prev_pair(CalendarSpec *const *specs, size_t n, usec_t at, usec_t *ret, usec_t *ret_before) {
        usec_t p[SCHEDULE_CALENDARS_MAX], b[SCHEDULE_CALENDARS_MAX], best = 0, before = 0;
        bool found = false;
        int r;

        if (n > SCHEDULE_CALENDARS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                r = calendar_spec_prev_pair(specs[i], at, &p[i], &b[i]);
                if (r == -ENOENT) {
                        p[i] = 0;
                        continue;
                }
                if (r < 0)
                        return r;
                if (!found || p[i] > best)
                        best = p[i];
                found = true;
        }
        if (!found)
                return -ENOENT;
        /* a calendar whose prev(at) is the occurrence knows the elapse before it; another one
         * last elapsed at p[i], before the occurrence */
        for (size_t i = 0; i < n; i++)
                before = MAX(before, p[i] == best ? b[i] : p[i]);
        *ret = best;
        *ret_before = before;
        return 0;
}

int occurrence_next(CalendarSpec *const *specs, size_t n, usec_t after, usec_t *ret) {
        return pick(specs, n, after, false, ret);
}

int occurrence_count_between(CalendarSpec *const *specs, size_t n, usec_t after, usec_t before, unsigned max,
                             unsigned *ret) {
        unsigned k = 0;
        usec_t t = after;
        int r;

        while (k < max) {
                r = occurrence_next(specs, n, t, &t);
                if (r == -ENOENT || (r >= 0 && t >= before))
                        break;
                if (r < 0)
                        return r;
                k++;
        }
        *ret = k;
        return 0;
}
