/* SPDX-License-Identifier: MIT */
/* The occurrence of a schedule entry, over all its calendars. */

#include "model/occurrence.h"

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
