/* SPDX-License-Identifier: MIT */
/* Points in time for people: absolute in systemd's style and relative. */

#include <ctype.h>
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

#define TIMESTAMP_INPUT_MAX 64 /* longer than any form parse_timestamp() accepts */

static const char *const weekday_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* Exactly n digits. */
static bool take_digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

/* ".123456" after seconds: up to microseconds kept, more digits read and dropped. */
static bool take_fraction(const char **p, usec_t *ret) {
        usec_t v = 0, scale = USEC_PER_SEC;

        if (**p != '.')
                return *ret = 0, true;
        (*p)++;
        if (!isdigit((unsigned char) **p))
                return false;
        for (; isdigit((unsigned char) **p); (*p)++)
                if (scale > 1) {
                        scale /= 10;
                        v += (usec_t) (**p - '0') * scale;
                }
        *ret = v;
        return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m) {
        static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : days[m - 1];
}

/* Seconds since the epoch, digits with an optional fraction: no sign, no hex, no exponent. */
static int parse_epoch_seconds(const char *p, usec_t *ret) {
        uint64_t sec = 0;
        usec_t frac;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (sec > TIMESTAMP_USEC_MAX / USEC_PER_SEC)
                        return -ERANGE;
                sec = sec * 10 + (uint64_t) (*p - '0');
        }
        if (!take_fraction(&p, &frac) || *p != 0)
                return -EINVAL;
        if (sec > TIMESTAMP_USEC_MAX / USEC_PER_SEC)
                return -ERANGE;
        *ret = sec * USEC_PER_SEC + frac;
        return 0;
}

static int local_midnight(usec_t now, int days, usec_t *ret) {
        time_t t = (time_t) (now / USEC_PER_SEC), r;
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_mday += days;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        r = mktime(&tm);
        if (r < 0)
                return -ERANGE;
        *ret = (usec_t) r * USEC_PER_SEC;
        return 0;
}

/* The zone after the time: "" (local), "Z", "UTC", "GMT", "+HH:MM", "+HHMM", "+HH"; sets *utc and the
 * offset east of UTC in seconds. */
static bool take_zone(const char *p, bool *utc, int64_t *offset) {
        unsigned h, m = 0;

        *utc = false;
        *offset = 0;
        if (*p == ' ')
                p++;
        else if (*p == 0)
                return true;
        if (streq(p, "Z") || streq(p, "UTC") || streq(p, "GMT"))
                return *utc = true, true;
        if (*p != '+' && *p != '-')
                return false;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (!take_digits(&p, 2, &h))
                return false;
        if (*p == ':')
                p++;
        if (*p != 0 && !take_digits(&p, 2, &m))
                return false;
        if (*p != 0 || h > 23 || m > 59)
                return false;
        *utc = true;
        *offset = sign * (int64_t) (h * 3600 + m * 60);
        return true;
}

int parse_timestamp(const char *s, usec_t now, usec_t *ret) {
        unsigned y, mo, d, h = 0, mi = 0, sec = 0;
        int weekday = -1;
        usec_t frac = 0;
        int64_t offset, t;
        bool utc;
        const char *p = s;

        if (!s || strlen(s) > TIMESTAMP_INPUT_MAX)
                return -EINVAL;
        if (streq(s, "now"))
                return *ret = now, 0;
        if (streq(s, "today"))
                return local_midnight(now, 0, ret);
        if (streq(s, "tomorrow"))
                return local_midnight(now, 1, ret);
        if (streq(s, "yesterday"))
                return local_midnight(now, -1, ret);
        if (*p == '@')
                return parse_epoch_seconds(p + 1, ret);
        if (isdigit((unsigned char) *p) && !(strlen(p) > 4 && p[4] == '-' && isdigit((unsigned char) p[3])))
                return parse_epoch_seconds(p, ret);

        for (int i = 0; i < 7; i++)
                if (strncmp(p, weekday_names[i], 3) == 0 && p[3] == ' ') {
                        weekday = i;
                        p += 4;
                        break;
                }
        if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) || *p++ != '-' ||
            !take_digits(&p, 2, &d))
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
                return -EINVAL;
        if ((*p == ' ' || *p == 'T') && isdigit((unsigned char) p[1])) {
                p++;
                if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (!take_digits(&p, 2, &sec) || !take_fraction(&p, &frac))
                                return -EINVAL;
                }
                if (h > 23 || mi > 59 || sec > 59)
                        return -EINVAL;
        }
        if (!take_zone(p, &utc, &offset))
                return -EINVAL;

        int64_t days = days_from_civil(y, mo, d);
        if (weekday >= 0 && ((days % 7 + 11) % 7) != weekday) /* 1970-01-01 was a Thursday */
                return -EINVAL;
        if (utc)
                t = days * 86400 + h * 3600 + mi * 60 + sec - offset;
        else {
                struct tm tm = { .tm_year = (int) y - 1900, .tm_mon = (int) mo - 1, .tm_mday = (int) d,
                                 .tm_hour = (int) h, .tm_min = (int) mi, .tm_sec = (int) sec, .tm_isdst = -1 };
                errno = 0;
                t = (int64_t) mktime(&tm);
                if (t == -1 && errno != 0)
                        return -ERANGE;
        }
        if (t < 0 || (uint64_t) t > TIMESTAMP_USEC_MAX / USEC_PER_SEC)
                return -ERANGE;
        usec_t v = (usec_t) t * USEC_PER_SEC + frac;
        if (v > TIMESTAMP_USEC_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}
