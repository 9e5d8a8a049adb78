/* SPDX-License-Identifier: MIT */
/* OnCalendar= expressions: parsing, normalizing and printing them as systemd 252 does.
 *
 * The rules follow systemd's src/shared/calendarspec.c as shipped in 252 (read for its behaviour,
 * written anew here): the same grammar and limits, quirks included, and the same normalized form.
 * Evaluation is in calendar-spec-elapse.c. */

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "model/calendar-spec-parsed.h"

#define YEAR_MIN 1970
#define TIMEZONE_LEN_MAX 255U
#define ZONEINFO_DIR "/usr/share/zoneinfo/"

/* Parser state: the text and the first error, worded for a human. */
typedef struct Parser {
        const char *p;
        char *error;
} Parser;

_printf_(2, 3) static int fail(Parser *ps, const char *fmt, ...) {
        va_list ap;

        if (!ps->error) {
                va_start(ap, fmt);
                if (vasprintf(&ps->error, fmt, ap) < 0)
                        ps->error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

CalendarSpec *calendar_spec_free(CalendarSpec *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < _F_MAX; i++)
                free(c->f[i].v);
        free(c->timezone);
        free(c);
        return NULL;
}

static int chain_add(CalendarChain *ch, int start, int stop, int repeat) {
        CalendarRange *v = reallocarray(ch->v, ch->n + 1, sizeof(CalendarRange));

        if (!v)
                return -ENOMEM;
        ch->v = v;
        ch->v[ch->n++] = (CalendarRange) { start, stop, repeat };
        return 0;
}

/* ---- parsing ---- */

static bool startswith_no_case(const char *s, const char *prefix) {
        return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* pointer to the suffix if s ends with it (case-insensitive) */
static const char *endswith_no_case(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);

        if (lx > ls || strcasecmp(s + ls - lx, suffix) != 0)
                return NULL;
        return s + ls - lx;
}

static int parse_weekdays(Parser *ps, CalendarSpec *c) {
        static const struct {
                const char *name;
                int nr;
        } days[] = {
                { "Monday", 0 },   { "Mon", 0 }, { "Tuesday", 1 }, { "Tue", 1 }, { "Wednesday", 2 },
                { "Wed", 2 },      { "Thursday", 3 }, { "Thu", 3 }, { "Friday", 4 }, { "Fri", 4 },
                { "Saturday", 5 }, { "Sat", 5 }, { "Sunday", 6 }, { "Sun", 6 },
        };
        int from = -1;

        for (bool first = true;; first = false) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(days); i++) {
                        size_t len = strlen(days[i].name);

                        if (!startswith_no_case(ps->p, days[i].name))
                                continue;
                        if (!strchr("-., ", ps->p[len])) /* also matches the terminating NUL */
                                return fail(ps, "\"%s\": a weekday is followed by \"..\", \",\" or a space",
                                            ps->p);
                        c->weekdays |= 1 << days[i].nr;
                        if (from >= 0) {
                                if (from > days[i].nr)
                                        return fail(ps, "weekday range ending in \"%.*s\" goes backwards; "
                                                    "write e.g. \"Sat,Sun,Mon\" instead of \"Sat..Mon\"",
                                                    (int) len, ps->p);
                                for (int j = from + 1; j < days[i].nr; j++)
                                        c->weekdays |= 1 << j;
                        }
                        ps->p += len;
                        break;
                }
                if (i >= ELEMENTSOF(days)) {
                        if (first)
                                return 0;
                        return fail(ps, "\"%s\": not a weekday (Mon, Tuesday, ...)", ps->p);
                }
                if (*ps->p == 0)
                        return 0;
                if (*ps->p == ' ') {
                        ps->p += strspn(ps->p, " ");
                        return 0;
                }
                if (*ps->p == '.') {
                        if (from >= 0 || ps->p[1] != '.')
                                return fail(ps, "\"%s\": bad weekday range", ps->p);
                        from = days[i].nr;
                        ps->p += 2;
                } else if (*ps->p == '-') {
                        if (from >= 0)
                                return fail(ps, "\"%s\": bad weekday range", ps->p);
                        from = days[i].nr;
                        ps->p += 1;
                } else if (*ps->p == ',') {
                        from = -1;
                        ps->p += 1;
                }
                /* a trailing comma is fine, an open range is not */
                if (*ps->p == 0 || *ps->p == ' ') {
                        ps->p += strspn(ps->p, " ");
                        if (from >= 0)
                                return fail(ps, "weekday range without an end");
                        return 0;
                }
        }
}

/* A decimal number; for seconds (usec) with an optional fraction, in µs (rounded to 6 digits). */
static int parse_decimal(Parser *ps, const char **p, bool usec, int *ret) {
        const char *s = *p;
        char *e;
        unsigned long v;

        if (!isdigit((unsigned char) *s))
                return fail(ps, "\"%s\": expected a number", s);
        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno != 0)
                return fail(ps, "\"%s\": number too large", s);
        if (usec) {
                if (v > ULONG_MAX / USEC_PER_SEC)
                        return fail(ps, "\"%s\": number too large", s);
                v *= USEC_PER_SEC;
                if (e[0] == '.' && e[1] != '.') {
                        unsigned frac = 0;
                        size_t i;

                        e++;
                        for (i = 0; i < 6 && isdigit((unsigned char) *e); i++, e++)
                                frac = frac * 10 + (unsigned) (*e - '0');
                        if (i == 0)
                                return fail(ps, "\"%s\": expected digits after the decimal point", s);
                        for (; i < 6; i++)
                                frac *= 10;
                        if (*e >= '5' && *e <= '9')
                                frac++;
                        e += strspn(e, "0123456789");
                        v += frac;
                }
        }
        if (v > INT_MAX)
                return fail(ps, "\"%s\": number too large", s);
        *p = e;
        *ret = (int) v;
        return 0;
}

/* "*", or a list of "A", "A..B", "A/R", "A..B/R" */
static int parse_chain(Parser *ps, const char **p, bool usec, CalendarChain *ret) {
        const char *e = *p;
        int r;

        if (*e == '*') {
                *p = e + 1;
                if (usec)
                        return chain_add(ret, 0, -1, (int) USEC_PER_SEC);
                return 0;
        }
        for (;;) {
                int start, stop = -1, repeat = 0;

                if (ret->n >= CALENDAR_SPEC_COMPONENTS_MAX)
                        return fail(ps, "more than %u values in one list", CALENDAR_SPEC_COMPONENTS_MAX);
                r = parse_decimal(ps, &e, usec, &start);
                if (r < 0)
                        return r;
                if (e[0] == '.' && e[1] == '.') {
                        e += 2;
                        r = parse_decimal(ps, &e, usec, &stop);
                        if (r < 0)
                                return r;
                        repeat = usec ? (int) USEC_PER_SEC : 1;
                }
                if (*e == '/') {
                        e++;
                        r = parse_decimal(ps, &e, usec, &repeat);
                        if (r < 0)
                                return r;
                        if (repeat == 0)
                                return fail(ps, "a repetition of 0 (\"/0\") never advances");
                } else {
                        if (start > INT_MAX - repeat)
                                return fail(ps, "number too large");
                        /* a range of seconds steps by 1 s unless told otherwise */
                        if (usec && stop >= 0 && start + repeat > stop)
                                return fail(ps, "seconds range shorter than its 1 s step; add a repetition "
                                            "such as \"/0.5\"");
                }
                if (!strchr(" ,-~:", *e))
                        return fail(ps, "\"%s\": unexpected character", e);
                r = chain_add(ret, start, stop, repeat);
                if (r < 0)
                        return r;
                if (*e != ',')
                        break;
                e++;
        }
        *p = e;
        return 0;
}

static int set_const(CalendarChain *ch, int v) {
        free(ch->v);
        *ch = (CalendarChain) {};
        return chain_add(ch, v, -1, 0);
}

/* "@SECONDS": one fixed UTC time. Returns 1 (nothing may follow) or negative. */
static int parse_epoch(Parser *ps, CalendarSpec *c) {
        const char *s = ps->p + 1;
        char *e;
        unsigned long v;
        struct tm tm;
        time_t t;
        int r;

        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno != 0 || e == s)
                return fail(ps, "\"@%s\": expected seconds since the epoch", s);
        t = (time_t) v;
        if ((unsigned long) t != v || !gmtime_r(&t, &tm) || tm.tm_year > INT_MAX - 1900)
                return fail(ps, "\"@%s\": out of range", s);
        int vals[_F_MAX] = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                             tm.tm_sec * (int) USEC_PER_SEC };
        for (size_t i = 0; i < _F_MAX; i++) {
                r = set_const(&c->f[i], vals[i]);
                if (r < 0)
                        return r;
        }
        c->utc = true;
        ps->p = e;
        return 1;
}

/* The date part: "M-D", "Y-M-D" (with "~" for the end of the month), or none (then the text is the
 * time). Returns 1 if the text was "@SECONDS". */
static int parse_date(Parser *ps, CalendarSpec *c) {
        CalendarChain part[3] = {};
        const char *t = ps->p;
        size_t n = 0;
        int r = 0;

        if (*t == 0)
                return 0;
        if (*t == '@')
                return parse_epoch(ps, c);

        for (;;) {
                r = parse_chain(ps, &t, false, &part[n++]);
                if (r < 0)
                        goto out;
                if (n == 1 && (*t == 0 || *t == ':')) /* it was the hour */
                        goto out;
                if (n > 1 && (*t == 0 || *t == ' ')) {
                        ps->p = t + strspn(t, " ");
                        for (size_t i = 0; i < n; i++)
                                c->f[F_DAY - i] = part[n - 1 - i]; /* D, M-D or Y-M-D */
                        return 0;
                }
                if (n == 3) {
                        r = fail(ps, "\"%s\": expected a space after the date", t);
                        goto out;
                }
                if (n == 2 && c->end_of_month) {
                        r = fail(ps, "\"~\" only between the month and the day");
                        goto out;
                }
                if (*t == '~')
                        c->end_of_month = true;
                else if (*t != '-') {
                        r = fail(ps, "\"%s\": expected \"-\" or \"~\" in the date", t);
                        goto out;
                }
                t++;
        }
out:
        for (size_t i = 0; i < ELEMENTSOF(part); i++)
                free(part[i].v);
        return r;
}

static int parse_time(Parser *ps, CalendarSpec *c) {
        CalendarChain h = {}, m = {}, s = {};
        const char *t = ps->p;
        int r;

        if (*t == 0) {
                /* no time: 00:00:00 */
                r = chain_add(&h, 0, -1, 0);
                if (r >= 0)
                        r = chain_add(&m, 0, -1, 0);
                if (r >= 0)
                        r = chain_add(&s, 0, -1, 0);
                goto finish;
        }
        r = parse_chain(ps, &t, false, &h);
        if (r < 0)
                goto finish;
        if (*t != ':') {
                r = fail(ps, "\"%s\": expected \":\" after the hour", ps->p);
                goto finish;
        }
        t++;
        r = parse_chain(ps, &t, false, &m);
        if (r < 0)
                goto finish;
        if (*t == 0) {
                r = chain_add(&s, 0, -1, 0);
                goto finish;
        }
        if (*t != ':') {
                r = fail(ps, "\"%s\": unexpected text after the minute", t);
                goto finish;
        }
        t++;
        r = parse_chain(ps, &t, true, &s);
        if (r >= 0 && *t != 0)
                r = fail(ps, "\"%s\": unexpected text after the seconds", t);
finish:
        if (r < 0) {
                free(h.v);
                free(m.v);
                free(s.v);
                return r;
        }
        ps->p = t;
        c->f[F_HOUR] = h;
        c->f[F_MINUTE] = m;
        c->f[F_USEC] = s;
        return 0;
}

/* A zone name systemd accepts: "UTC", or a safe relative path to a TZif file under ZONEINFO_DIR. */
static bool timezone_is_valid(const char *name) {
        char path[sizeof(ZONEINFO_DIR) + TIMEZONE_LEN_MAX];
        char magic[4];
        struct stat st;
        bool slash = false;
        ssize_t k;

        if (streq(name, "UTC"))
                return true;
        if (!*name || name[0] == '/' || strlen(name) > TIMEZONE_LEN_MAX)
                return false;
        for (const char *p = name; *p; p++) {
                if (!isascii((unsigned char) *p) || (!isalnum((unsigned char) *p) && !strchr("-_+/", *p)))
                        return false;
                if (*p == '/' && slash)
                        return false;
                slash = *p == '/';
        }
        if (slash)
                return false;
        snprintf(path, sizeof(path), ZONEINFO_DIR "%s", name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        k = read(fd, magic, sizeof(magic));
        return k == (ssize_t) sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
}

static int range_cmp(const void *a, const void *b) {
        const CalendarRange *x = a, *y = b;

        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        if (x->stop != y->stop)
                return x->stop < y->stop ? -1 : 1;
        return x->repeat < y->repeat ? -1 : x->repeat > y->repeat;
}

static void chain_normalize(CalendarChain *ch) {
        size_t k = 0;

        for (size_t i = 0; i < ch->n; i++) {
                CalendarRange *v = &ch->v[i];

                /* a range ends on a repetition; one that cannot repeat is a single value */
                if (v->stop > v->start && v->repeat > 0)
                        v->stop -= (v->stop - v->start) % v->repeat;
                if ((v->stop > v->start && v->repeat > 0 && v->start + v->repeat > v->stop) ||
                    v->start == v->stop) {
                        v->repeat = 0;
                        v->stop = -1;
                }
        }
        if (ch->n <= 1)
                return;
        qsort(ch->v, ch->n, sizeof(CalendarRange), range_cmp);
        for (size_t i = 0; i < ch->n; i++)
                if (k == 0 || range_cmp(&ch->v[k - 1], &ch->v[i]) != 0)
                        ch->v[k++] = ch->v[i];
        ch->n = k;
}

static void year_expand(CalendarChain *ch) {
        /* two-digit years: 0..69 → 2000s, 70..99 → 1900s */
        for (size_t i = 0; i < ch->n; i++) {
                int *x[] = { &ch->v[i].start, &ch->v[i].stop };
                for (size_t j = 0; j < ELEMENTSOF(x); j++) {
                        if (*x[j] >= 0 && *x[j] < 70)
                                *x[j] += 2000;
                        else if (*x[j] >= 70 && *x[j] < 100)
                                *x[j] += 1900;
                }
        }
}

static void format_chain(FILE *f, int width, const CalendarChain *ch, bool usec);

static int chain_check(Parser *ps, const CalendarChain *ch, const char *what, int from, int to, bool eom) {
        for (size_t i = 0; i < ch->n; i++) {
                const CalendarRange *v = &ch->v[i];
                bool ok;

                /* After "~" systemd 252 lowers the limit by 3 days for each value of the sorted list
                 * (28 for the first, 25 for the second, ...): what it refuses, we refuse. */
                if (eom)
                        to -= 3;
                ok = v->start >= from && v->start <= to && v->repeat <= to - from;
                if (ok && v->stop >= 0)
                        ok = v->stop >= from && v->stop <= to && v->start + v->repeat <= v->stop;
                else if (ok && eom)
                        ok = v->start - v->repeat >= from;
                else if (ok)
                        ok = v->start + v->repeat <= to;
                if (!ok) {
                        char buf[96] = "";
                        FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
                        bool usec = streq(what, "second");

                        if (f) {
                                format_chain(f, 0, &(const CalendarChain) { (CalendarRange *) v, 1 }, usec);
                                (void) fclose(f);
                        }
                        if (eom)
                                return fail(ps,
                                            "day \"~%s\" is out of range: after \"~\" systemd allows the "
                                            "sorted values to count back at most 28, 25, 22, ... days (here %d), "
                                            "and a repetition must fit at least once",
                                            buf, to);
                        return fail(ps,
                                    "%s \"%s\" is out of range: values and range ends must lie in %d..%d, "
                                    "and a repetition must fit at least once before the end",
                                    what, buf, usec ? 0 : from, usec ? 59 : to);
                }
        }
        return 0;
}

static int parse_zone_suffix(Parser *ps, CalendarSpec *c, char **ret_rest) {
        const char *p = ps->p, *e;
        size_t len = strlen(p);

        if ((e = endswith_no_case(p, " UTC"))) {
                c->utc = true;
                len = (size_t) (e - p);
        } else {
                int j;

                /* the local zone's own abbreviations ("CET", "CEST") pin standard or summer time */
                tzset();
                for (j = 0; j <= 1; j++) {
                        if (!tzname[j] || !*tzname[j])
                                continue;
                        e = endswith_no_case(p, tzname[j]);
                        if (e && e != p && e[-1] == ' ')
                                break;
                }
                if (j <= 1)
                        /* systemd pins standard (0) or summer time (1) with it: the same text means
                         * another instant on a host in another zone, and a pinned "CEST" never
                         * elapses in winter. No fleet-wide occurrence can be defined for it. */
                        return fail(ps,
                                    "\"%s\" is this host's own time zone abbreviation, which systemd reads "
                                    "as \"local time, %s time only\": its occurrences depend on the host's "
                                    "zone; write an IANA zone such as Europe/Berlin, or UTC, instead",
                                    tzname[j], j ? "summer" : "standard");
                else {
                        const char *space = strrchr(p, ' ');
                        if (space && timezone_is_valid(space + 1)) {
                                c->timezone = strdup(space + 1);
                                if (!c->timezone)
                                        return -ENOMEM;
                                len = (size_t) (space - p);
                        }
                }
        }
        *ret_rest = strndup(p, len);
        return *ret_rest ? 0 : -ENOMEM;
}

static int parse_shorthand(CalendarSpec *c, const char *p) {
        static const struct {
                const char *name;
                int months[4], day, weekdays;
                bool any_hour, any_minute;
        } shorthands[] = {
                { "minutely", {}, 0, 0, true, true },
                { "hourly", {}, 0, 0, true, false },
                { "daily", {}, 0, 0, false, false },
                { "monthly", {}, 1, 0, false, false },
                { "annually", { 1 }, 1, 0, false, false },
                { "yearly", { 1 }, 1, 0, false, false },
                { "anually", { 1 }, 1, 0, false, false },
                { "weekly", {}, 0, 1, false, false },
                { "quarterly", { 1, 4, 7, 10 }, 1, 0, false, false },
                { "biannually", { 1, 7 }, 1, 0, false, false },
                { "bi-annually", { 1, 7 }, 1, 0, false, false },
                { "semiannually", { 1, 7 }, 1, 0, false, false },
                { "semi-annually", { 1, 7 }, 1, 0, false, false },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(shorthands); i++) {
                if (strcasecmp(p, shorthands[i].name) != 0)
                        continue;
                for (size_t m = 0; m < 4 && shorthands[i].months[m]; m++) {
                        r = chain_add(&c->f[F_MONTH], shorthands[i].months[m], -1, 0);
                        if (r < 0)
                                return r;
                }
                if (shorthands[i].day > 0 && (r = chain_add(&c->f[F_DAY], shorthands[i].day, -1, 0)) < 0)
                        return r;
                c->weekdays = shorthands[i].weekdays;
                if (!shorthands[i].any_hour && (r = chain_add(&c->f[F_HOUR], 0, -1, 0)) < 0)
                        return r;
                if (!shorthands[i].any_minute && (r = chain_add(&c->f[F_MINUTE], 0, -1, 0)) < 0)
                        return r;
                r = chain_add(&c->f[F_USEC], 0, -1, 0);
                return r < 0 ? r : 1;
        }
        return 0;
}

int calendar_spec_parse(const char *expr, CalendarSpec **ret, char **ret_error) {
        _cleanup_(calendar_spec_freep) CalendarSpec *c = NULL;
        _cleanup_free_ char *rest = NULL;
        Parser ps = { .p = expr };
        int r;

        if (strlen(expr) > CALENDAR_SPEC_LEN_MAX) {
                r = fail(&ps, "longer than %u bytes", CALENDAR_SPEC_LEN_MAX);
                goto finish;
        }
        c = calloc(1, sizeof(CalendarSpec));
        if (!c)
                return -ENOMEM;

        r = parse_zone_suffix(&ps, c, &rest);
        if (r < 0)
                goto finish;
        ps.p = rest;
        if (!rest || !*rest) {
                r = fail(&ps, "empty expression");
                goto finish;
        }
        r = parse_shorthand(c, rest);
        if (r == 0) {
                r = parse_weekdays(&ps, c);
                if (r >= 0)
                        r = parse_date(&ps, c);
                if (r == 0)
                        r = parse_time(&ps, c);
                if (r >= 0 && *ps.p != 0)
                        r = fail(&ps, "\"%s\": unexpected text at the end", ps.p);
        }
        if (r < 0)
                goto finish;

        /* normalize as systemd does, then check the ranges */
        if (streq_ptr(c->timezone, "UTC")) {
                c->utc = true;
                free(c->timezone);
                c->timezone = NULL;
        }
        if (c->weekdays <= 0 || c->weekdays >= WEEKDAYS_ALL)
                c->weekdays = -1;
        if (c->end_of_month && c->f[F_DAY].n == 0)
                c->end_of_month = false;
        year_expand(&c->f[F_YEAR]);
        for (size_t i = 0; i < _F_MAX; i++)
                chain_normalize(&c->f[i]);

        r = chain_check(&ps, &c->f[F_YEAR], "year", YEAR_MIN, YEAR_MAX, false);
        if (r >= 0)
                r = chain_check(&ps, &c->f[F_MONTH], "month", 1, 12, false);
        if (r >= 0)
                r = chain_check(&ps, &c->f[F_DAY], "day", 1, 31, c->end_of_month);
        if (r >= 0)
                r = chain_check(&ps, &c->f[F_HOUR], "hour", 0, 23, false);
        if (r >= 0)
                r = chain_check(&ps, &c->f[F_MINUTE], "minute", 0, 59, false);
        if (r >= 0)
                r = chain_check(&ps, &c->f[F_USEC], "second", 0, 60 * (int) USEC_PER_SEC - 1, false);

finish:
        if (r == -EINVAL) {
                if (ret_error) {
                        *ret_error = ps.error ? strdupf("\"%s\": %s", expr, ps.error) : NULL;
                }
                free(ps.error);
                return -EINVAL;
        }
        free(ps.error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- normalized form ---- */

static void format_weekdays(FILE *f, int bits) {
        static const char *const names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
        bool comma = false;
        int from = -1, x;

        /* runs of three or more as "A..C", two as "A,B" */
        for (x = 0; x <= 7; x++) {
                bool on = x < 7 && (bits & (1 << x));

                if (on && from < 0) {
                        fprintf(f, "%s%s", comma ? "," : "", names[x]);
                        comma = true;
                        from = x;
                } else if (!on && from >= 0) {
                        if (x > from + 1)
                                fprintf(f, "%s%s", x > from + 2 ? ".." : ",", names[x - 1]);
                        from = -1;
                }
        }
}

static void format_chain(FILE *f, int width, const CalendarChain *ch, bool usec) {
        int d = usec ? (int) USEC_PER_SEC : 1;

        /* systemd 252 prints a seconds list holding "0/1" as "*", whatever else it holds (which
         * still elapses: "*:*:0/1,9.5" fires at :09.5 too) */
        for (size_t i = 0; usec && i < ch->n; i++)
                if (ch->v[i].start == 0 && ch->v[i].repeat == d && ch->v[i].stop < 0) {
                        fputc('*', f);
                        return;
                }
        if (ch->n == 0) {
                fputc('*', f);
                return;
        }
        for (size_t i = 0; i < ch->n; i++) {
                const CalendarRange *v = &ch->v[i];

                if (i > 0)
                        fputc(',', f);
                fprintf(f, "%0*d", width, v->start / d);
                if (v->start % d > 0)
                        fprintf(f, ".%06d", v->start % d);
                if (v->stop > 0)
                        fprintf(f, "..%0*d", width, v->stop / d);
                if (v->stop > 0 && v->stop % d > 0)
                        fprintf(f, ".%06d", v->stop % d);
                if (v->repeat > 0 && !(v->stop > 0 && v->repeat == d))
                        fprintf(f, "/%d", v->repeat / d);
                if (v->repeat % d > 0)
                        fprintf(f, ".%06d", v->repeat % d);
        }
}

int calendar_spec_to_string(const CalendarSpec *c, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        if (c->weekdays > 0 && c->weekdays <= WEEKDAYS_ALL) {
                format_weekdays(f, c->weekdays);
                fputc(' ', f);
        }
        format_chain(f, 4, &c->f[F_YEAR], false);
        fputc('-', f);
        format_chain(f, 2, &c->f[F_MONTH], false);
        fputc(c->end_of_month ? '~' : '-', f);
        format_chain(f, 2, &c->f[F_DAY], false);
        fputc(' ', f);
        format_chain(f, 2, &c->f[F_HOUR], false);
        fputc(':', f);
        format_chain(f, 2, &c->f[F_MINUTE], false);
        fputc(':', f);
        format_chain(f, 2, &c->f[F_USEC], true);
        if (c->utc)
                fputs(" UTC", f);
        else if (c->timezone)
                fprintf(f, " %s", c->timezone);
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

