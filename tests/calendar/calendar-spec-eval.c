/* SPDX-License-Identifier: MIT */
/* Prints what the calendar evaluator makes of expressions, in the shape the differential test
 * compares with `systemd-analyze calendar`. One request per stdin line: "BASE_USEC ITERATIONS EXPR".
 * One answer per line:
 *   REJECT<TAB>message
 *   OK<TAB>normalized<TAB>elapse 1<TAB>...   elapses as "Www YYYY-MM-DD HH:MM:SS UTC", then "never"
 *                                            or "error <errno>" if the series ends early
 * and it checks prev() against the series (see check_prev()); a mismatch is printed as a field
 * "PREV-MISMATCH ...". */
#include <inttypes.h>
#include <stdio.h>

#include "model/calendar-spec.h"

#define LINE_MAX_BYTES 4096

static void print_utc(usec_t t) {
        char buf[64];
        time_t s = (time_t) (t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&s, &tm) || strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, sizeof(buf), "@%" PRIu64, t);
        printf("\t%s", buf);
}

/* prev() maps e to itself, or, in the hour repeated by a DST change, to an earlier elapse p with
 * next(p) > e (systemd's timer skips the repeat; see calendar-spec.c). */
static void check_prev(const CalendarSpec *c, usec_t e, usec_t before, bool first) {
        usec_t p = 0, n = 0;
        int r;

        r = calendar_spec_prev(c, e, &p);
        if (r < 0 || p > e || (p != e && (calendar_spec_next(c, p, &n) < 0 || n <= e)))
                printf("\tPREV-MISMATCH prev(%" PRIu64 ")=%d/%" PRIu64, e, r, p);
        /* before e: the elapse before it in the series, or (when the series started inside a
         * repeated hour, which the timer's own chain skips) an earlier one whose successor is e */
        r = calendar_spec_prev(c, e - 1, &p);
        if (first ? (r >= 0 && p > before)
                  : (r < 0 || p > before ||
                     (p != before && (calendar_spec_next(c, p, &n) < 0 || n != e))))
                printf("\tPREV-MISMATCH prev(%" PRIu64 "-1)=%d/%" PRIu64 " want %s%" PRIu64, e, r, p,
                       first ? "<=" : "", before);
}

int main(int argc, char **argv) {
        char line[LINE_MAX_BYTES];
        bool no_prev = argc > 1 && streq(argv[1], "--no-prev");

        while (fgets(line, sizeof(line), stdin)) {
                _cleanup_(calendar_spec_freep) CalendarSpec *c = NULL;
                _cleanup_free_ char *err = NULL, *norm = NULL;
                unsigned long long base;
                unsigned iterations;
                int n = 0, r;

                line[strcspn(line, "\n")] = 0;
                if (sscanf(line, "%llu %u %n", &base, &iterations, &n) < 2 || n == 0) {
                        fprintf(stderr, "bad request: %s\n", line);
                        return 2;
                }
                r = calendar_spec_parse(line + n, &c, &err);
                if (r < 0) {
                        printf("REJECT\t%s\n", err ? err : strerror(-r));
                        continue;
                }
                if (calendar_spec_to_string(c, &norm) < 0)
                        return 3;
                printf("OK\t%s", norm);
                usec_t t = base, prev = base;
                for (unsigned i = 0; i < iterations; i++) {
                        r = calendar_spec_next(c, t, &t);
                        if (r == -ENOENT) {
                                printf("\tnever");
                                break;
                        }
                        if (r < 0) {
                                printf("\terror %d", -r);
                                break;
                        }
                        print_utc(t);
                        if (!no_prev)
                                check_prev(c, t, prev, i == 0);
                        prev = t;
                }
                printf("\n");
        }
        return 0;
}
