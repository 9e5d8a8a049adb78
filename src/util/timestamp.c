/* SPDX-License-Identifier: MIT */
/* Points in time for people: absolute in systemd's style and relative. */

#include <math.h>
#include <time.h>

#include "util/timestamp.h"

char *format_timestamp(char *buf, size_t n, usec_t t, bool utc) {
        struct tm tm;
        time_t sec;

        if (n == 0)
                return buf;
        if (t == 0 || t == USEC_INFINITY) {
                snprintf(buf, n, "n/a");
                return buf;
        }
        sec = (time_t) (t / USEC_PER_SEC);
        if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm)) ||
            strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "n/a");
        return buf;
}

char *format_timespan_short(char *buf, size_t n, usec_t span) {
        static const struct {
                const char *one, *many;
                usec_t usec;
        } units[] = {
                { " year", " years", 31557600ULL * USEC_PER_SEC },
                { " month", " months", 2629800ULL * USEC_PER_SEC },
                { " week", " weeks", 7 * USEC_PER_DAY },
                { " day", " days", USEC_PER_DAY },
                { "h", "h", USEC_PER_HOUR },
                { "min", "min", USEC_PER_MINUTE },
                { "s", "s", USEC_PER_SEC },
                { "ms", "ms", USEC_PER_MSEC },
                { "us", "us", 1 },
        };
        size_t off = 0;
        unsigned shown = 0;

        if (n == 0)
                return buf;
        buf[0] = 0;
        if (span == USEC_INFINITY) {
                snprintf(buf, n, "infinity");
                return buf;
        }
        /* Below a minute, whole seconds are enough detail; below a second, whole milliseconds. */
        if (span >= USEC_PER_MINUTE)
                span -= span % USEC_PER_SEC;
        else if (span >= USEC_PER_SEC)
                span -= span % USEC_PER_SEC;
        else if (span >= USEC_PER_MSEC)
                span -= span % USEC_PER_MSEC;
        if (span == 0) {
                snprintf(buf, n, "0");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && span > 0 && shown < 2; i++) {
                usec_t k = span / units[i].usec;
                int r;

                if (k == 0) {
                        /* Only adjacent units: "1 day 5min" would mislead more than "1 day". */
                        if (shown > 0)
                                break;
                        continue;
                }
                r = snprintf(buf + off, n - off, "%s%llu%s", off > 0 ? " " : "", (unsigned long long) k,
                             k == 1 ? units[i].one : units[i].many);
                if (r < 0 || (size_t) r >= n - off)
                        break;
                off += (size_t) r;
                span -= k * units[i].usec;
                shown++;
        }
        return buf;
}

char *format_timestamp_relative(char *buf, size_t n, usec_t t, usec_t now) {
        char span[TIMESTAMP_MAX];

        if (n == 0)
                return buf;
        if (t == 0 || t == USEC_INFINITY) {
                snprintf(buf, n, "n/a");
                return buf;
        }
        if (t <= now) {
                if (now - t < USEC_PER_SEC)
                        snprintf(buf, n, "now");
                else
                        snprintf(buf, n, "%s ago", format_timespan_short(span, sizeof span, now - t));
        } else {
                if (t - now < USEC_PER_SEC)
                        snprintf(buf, n, "now");
                else
                        snprintf(buf, n, "%s left", format_timespan_short(span, sizeof span, t - now));
        }
        return buf;
}

usec_t usec_from_sidekiq_time(double value, bool is_integer) {
        double usec;


        if (!isfinite(value) || value <= 0)
                return 0;
        /* Sidekiq 8 writes integer milliseconds; an integer too small to be milliseconds since 1973
         * was written as seconds by some other client. */
        if (is_integer && value >= 1e11)
                usec = value * (double) USEC_PER_MSEC;
        else
                usec = value * (double) USEC_PER_SEC;
        if (usec >= 18446744073709549568.0) /* largest double below 2^64 */
                return 0;
        return (usec_t) usec;
}
