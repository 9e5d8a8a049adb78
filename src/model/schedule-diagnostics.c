/* SPDX-License-Identifier: MIT */
/* Diagnostics of a schedule: "FILE:LINE: what is wrong; what is allowed", kept in file and line order. */

#include <stdarg.h>
#include <stdio.h>

#include "model/schedule-parser.h"

int schedule_add_error(Schedule *s, ScheduleEntry *entry, const char *path, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *full = NULL;
        va_list ap;

        if (entry)
                entry->broken = true;
        if (s->n_errors >= SCHEDULE_ERRORS_MAX) {
                s->n_errors_dropped++;
                return 0;
        }
        va_start(ap, fmt);
        msg = strdupvf(fmt, ap);
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        full = line > 0 ? strdupf("%s:%u: %s", path, line, msg) : strdupf("%s: %s", path, msg);
        if (!full)
                return -ENOMEM;
        /* errors is grown one by one: it stays small (SCHEDULE_ERRORS_MAX) */
        ScheduleError *n = reallocarray(s->errors, s->n_errors + 1, sizeof(ScheduleError));
        if (!n)
                return -ENOMEM;
        s->errors = n;
        size_t file = 0;
        for (size_t i = s->n_paths; i > 0; i--)
                if (streq(s->paths[i - 1], path)) {
                        file = i - 1;
                        break;
                }
        s->errors[s->n_errors++] = (ScheduleError) { TAKE_PTR(full), file, line };
        return 0;
}

static bool error_after(const ScheduleError *x, const ScheduleError *y) {
        return x->file != y->file ? x->file > y->file : x->line > y->line;
}

void schedule_sort_errors(Schedule *s) {
        /* insertion sort: stable, and there are at most SCHEDULE_ERRORS_MAX of them */
        for (size_t i = 1; i < s->n_errors; i++) {
                ScheduleError t = s->errors[i];
                size_t j = i;
                for (; j > 0 && error_after(&s->errors[j - 1], &t); j--)
                        s->errors[j] = s->errors[j - 1];
                s->errors[j] = t;
        }
}
