/* SPDX-License-Identifier: MIT */
/* OnCalendar= expressions: parsing, normalizing and evaluating them with the semantics of systemd 252.
 *
 * The rules below follow systemd's src/shared/calendarspec.c as shipped in 252 (read for its
 * behaviour, written anew here): the same grammar and limits, the same normalized form, and the same
 * search for the next elapse, which walks a broken-down local time field by field and lets mktime(3)
 * decide what a skipped or repeated hour becomes. Using the same libc calls is what makes an hour
 * skipped by a DST change behave exactly as it does for the timer; a tzfile reader of our own would
 * have to reproduce glibc's normalization rules and could drift from them. So a time zone is applied
 * by setting $TZ around the computation (see calendar-spec.h: not thread-safe). */

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "model/calendar-spec.h"

#define WEEKDAYS_ALL 127
#define YEAR_MIN 1970
#define YEAR_MAX 2199
/* systemd gives up after this many steps of its search, and so do we (same answer) */
#define SEARCH_STEPS_MAX 1000
/* timestamps systemd formats at all (9999-12-30 23:59:59.999999 UTC): larger bases are refused */
#define USEC_FORMATTABLE_MAX ((usec_t) 253402214399999999ULL)
#define TIMEZONE_LEN_MAX 255U
/* how far back prev() looks for a DST change that repeated wall-clock times, and how many elapses
 * it walks through the repeated time at most */
#define FOLD_WINDOW_SEC (26 * 3600)
#define FOLD_WALK_STEPS_MAX 100000U
#define ZONEINFO_DIR "/usr/share/zoneinfo/"

typedef struct CalendarRange {
        int start, stop, repeat; /* stop -1: none; repeat 0: none */
} CalendarRange;

/* n == 0: any value ("*") */
typedef struct CalendarChain {
        CalendarRange *v;
        size_t n;
} CalendarChain;

enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MINUTE, F_USEC, _F_MAX };

struct CalendarSpec {
        int weekdays;      /* bit 0 Monday … bit 6 Sunday; -1 any day */
        bool end_of_month; /* the day list counts from the end of the month ("~") */
        bool utc;
        char *timezone;    /* IANA name, or NULL: local time (or UTC) */
        CalendarChain f[_F_MAX];
};

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
        if (!*rest) {
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

        if (ch->n == 0 || (usec && ch->n == 1 && ch->v[0].start == 0 && ch->v[0].repeat == d && ch->v[0].stop < 0)) {
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

/* ---- evaluation: systemd's field-by-field search over struct tm ---- */

static time_t tm_to_time(struct tm *t, bool utc) {
        return utc ? timegm(t) : mktime(t);
}

/* Day of the month that is `back` days before the end (1 = the last day) in tm's month, or -1. */
static int end_of_month_day(const struct tm *tm, bool utc, int back) {
        struct tm t = *tm;

        t.tm_mon++;
        t.tm_mday = 1 - back;
        if (tm_to_time(&t, utc) < 0 || t.tm_mon != tm->tm_mon)
                return -1;
        return t.tm_mday;
}

/* Smallest value >= *val the chain allows: 1 if it moved, 0 if *val matches, -ENOENT if none. */
static int chain_next(const CalendarSpec *c, const CalendarChain *ch, bool eom, const struct tm *tm, int *val) {
        bool found = false;
        int best = -1;

        if (ch->n == 0)
                return 0;
        for (size_t i = 0; i < ch->n; i++) {
                int start = ch->v[i].start, stop = ch->v[i].stop, repeat = ch->v[i].repeat;

                if (eom) {
                        start = end_of_month_day(tm, c->utc, ch->v[i].start);
                        stop = end_of_month_day(tm, c->utc, ch->v[i].stop);
                        if (stop > 0) {
                                int x = start;
                                start = stop;
                                stop = x;
                        }
                }
                if (start >= *val) {
                        if (!found || start < best)
                                best = start, found = true;
                } else if (repeat > 0) {
                        int diff = *val - start;
                        int k = start + repeat * (diff / repeat + (diff % repeat != 0));

                        if ((!found || k < best) && (stop < 0 || k <= stop))
                                best = k, found = true;
                }
        }
        if (!found)
                return -ENOENT;
        int moved = *val != best;
        *val = best;
        return moved;
}

/* 1: tm is a real time; 0: mktime moved it forward (tm updated, lower fields reset); <0: unusable */
static int tm_settle(struct tm *tm, bool utc) {
        struct tm t;
        int cmp;

        if (tm->tm_year + 1900 > YEAR_MAX)
                return -ERANGE;
        t = *tm;
        if (tm_to_time(&t, utc) < 0)
                return -EOVERFLOW;
#define CMP3(a, b) ((a) < (b) ? -1 : (a) > (b))
        if ((cmp = CMP3(t.tm_year, tm->tm_year)) != 0)
                t.tm_mon = 0;
        else if ((cmp = CMP3(t.tm_mon, tm->tm_mon)) != 0)
                t.tm_mday = 1;
        else if ((cmp = CMP3(t.tm_mday, tm->tm_mday)) != 0)
                t.tm_hour = 0;
        else if ((cmp = CMP3(t.tm_hour, tm->tm_hour)) != 0)
                t.tm_min = 0;
        else if ((cmp = CMP3(t.tm_min, tm->tm_min)) != 0)
                t.tm_sec = 0;
        else
                cmp = CMP3(t.tm_sec, tm->tm_sec);
#undef CMP3
        if (cmp < 0)
                return -EDEADLK;
        if (cmp > 0)
                *tm = t;
        return cmp == 0;
}

static bool weekday_ok(int bits, const struct tm *tm, bool utc) {
        struct tm t = *tm;

        if (bits < 0 || bits >= WEEKDAYS_ALL)
                return true;
        if (tm_to_time(&t, utc) < 0)
                return false;
        return bits & (1 << (t.tm_wday == 0 ? 6 : t.tm_wday - 1));
}

static void reset_below(struct tm *t, int *usec, int field) {
        if (field <= F_MONTH)
                t->tm_mon = 0;
        if (field <= F_DAY)
                t->tm_mday = 1;
        if (field <= F_HOUR)
                t->tm_hour = 0;
        if (field <= F_MINUTE)
                t->tm_min = 0;
        t->tm_sec = 0;
        *usec = 0;
}

static int find_next(const CalendarSpec *c, struct tm *tm, int *usec) {
        struct tm t = *tm;
        int us = *usec, r;

        for (unsigned step = 0; step < SEARCH_STEPS_MAX; step++) {
                (void) tm_to_time(&t, c->utc);
                t.tm_isdst = -1; /* let mktime() decide, as systemd does without a pinned DST */

                t.tm_year += 1900;
                r = chain_next(c, &c->f[F_YEAR], false, &t, &t.tm_year);
                t.tm_year -= 1900;
                if (r < 0)
                        return r;
                if (r > 0)
                        reset_below(&t, &us, F_MONTH);
                if (tm_settle(&t, c->utc) <= 0)
                        return -ENOENT;

                t.tm_mon += 1;
                r = chain_next(c, &c->f[F_MONTH], false, &t, &t.tm_mon);
                t.tm_mon -= 1;
                if (r > 0)
                        reset_below(&t, &us, F_DAY);
                if (r < 0 || (r = tm_settle(&t, c->utc)) < 0) {
                        t.tm_year++;
                        reset_below(&t, &us, F_MONTH);
                        continue;
                }
                if (r == 0)
                        continue;

                r = chain_next(c, &c->f[F_DAY], c->end_of_month, &t, &t.tm_mday);
                if (r > 0)
                        reset_below(&t, &us, F_HOUR);
                if (r < 0 || (r = tm_settle(&t, c->utc)) < 0) {
                        t.tm_mon++;
                        reset_below(&t, &us, F_DAY);
                        continue;
                }
                if (r == 0)
                        continue;

                if (!weekday_ok(c->weekdays, &t, c->utc)) {
                        t.tm_mday++;
                        reset_below(&t, &us, F_HOUR);
                        continue;
                }

                r = chain_next(c, &c->f[F_HOUR], false, &t, &t.tm_hour);
                if (r > 0)
                        reset_below(&t, &us, F_MINUTE);
                if (r < 0 || (r = tm_settle(&t, c->utc)) < 0) {
                        t.tm_mday++;
                        reset_below(&t, &us, F_HOUR);
                        continue;
                }
                if (r == 0) /* the hour does not exist that day (DST): retry from where mktime put it */
                        continue;

                r = chain_next(c, &c->f[F_MINUTE], false, &t, &t.tm_min);
                if (r > 0)
                        reset_below(&t, &us, F_USEC);
                if (r < 0 || (r = tm_settle(&t, c->utc)) < 0) {
                        t.tm_hour++;
                        reset_below(&t, &us, F_MINUTE);
                        continue;
                }
                if (r == 0)
                        continue;

                int sec = t.tm_sec * (int) USEC_PER_SEC + us;
                r = chain_next(c, &c->f[F_USEC], false, &t, &sec);
                us = sec % (int) USEC_PER_SEC;
                t.tm_sec = sec / (int) USEC_PER_SEC;
                if (r < 0 || (r = tm_settle(&t, c->utc)) < 0) {
                        t.tm_min++;
                        reset_below(&t, &us, F_USEC);
                        continue;
                }
                if (r == 0)
                        continue;

                *tm = t;
                *usec = us;
                return 0;
        }
        return -EDEADLK;
}

/* next, with the expression's zone already in effect */
static int next_in_zone(const CalendarSpec *c, usec_t after, usec_t *ret) {
        struct tm tm;
        time_t t;
        int us, r;

        if (after > USEC_FORMATTABLE_MAX)
                return -EINVAL;
        after++;
        t = (time_t) (after / USEC_PER_SEC);
        if (!(c->utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
                return -EINVAL;
        us = (int) (after % USEC_PER_SEC);
        r = find_next(c, &tm, &us);
        if (r < 0)
                return r;
        t = tm_to_time(&tm, c->utc);
        if (t < 0)
                return -EINVAL;
        *ret = (usec_t) t * USEC_PER_SEC + (usec_t) us;
        return 0;
}

/* $TZ switched to the expression's zone for one computation, then put back. */
typedef struct ZoneSwitch {
        bool active, had_tz;
        char *saved;
} ZoneSwitch;

static int zone_enter(const CalendarSpec *c, ZoneSwitch *z) {
        const char *old = getenv("TZ");
        _cleanup_free_ char *tz = NULL;
        int r;

        *z = (ZoneSwitch) {};
        if (!c->timezone)
                return 0;
        tz = strdupf(":%s", c->timezone); /* ":" names a file of the zone database (tzset(3)) */
        if (!tz)
                return -ENOMEM;
        if (old) {
                z->saved = strdup(old);
                if (!z->saved)
                        return -ENOMEM;
                z->had_tz = true;
        }
        if (setenv("TZ", tz, 1) < 0) {
                r = negative_errno();
                free(z->saved);
                return r;
        }
        tzset();
        z->active = true;
        return 0;
}

static void zone_leave(ZoneSwitch *z) {
        if (!z->active)
                return;
        if (z->had_tz)
                (void) setenv("TZ", z->saved, 1);
        else
                (void) unsetenv("TZ");
        tzset();
        free(z->saved);
        *z = (ZoneSwitch) {};
}

/* fn(c, t) with c's zone in effect; *ret untouched on failure */
static int in_zone(const CalendarSpec *c, int (*fn)(const CalendarSpec *, usec_t, usec_t *), usec_t t, usec_t *ret) {
        ZoneSwitch z;
        usec_t result = 0;
        int r;

        r = zone_enter(c, &z);
        if (r < 0)
                return r;
        r = fn(c, t, &result);
        zone_leave(&z);
        if (r < 0)
                return r;
        *ret = result;
        return 0;
}

int calendar_spec_next(const CalendarSpec *c, usec_t after, usec_t *ret) {
        return in_zone(c, next_in_zone, after, ret);
}

/* next(q) <= at? 1/0, or a negative error. From a few start times systemd's search gives up
 * (-EDEADLK, as in systemd): such a probe says nothing, prev_bisect() then probes elsewhere. */
static int elapses_by(const CalendarSpec *c, usec_t q, usec_t at, usec_t *ret_next) {
        int r = next_in_zone(c, q, ret_next);

        if (r == -ENOENT || r == -EDEADLK)
                return 0;
        if (r < 0)
                return r;
        return *ret_next <= at;
}

/* The latest q-elapse <= at by bisection, assuming next() is monotonic: step back in doubling
 * windows until next(at - w) <= at, then bisect between the last two probes. One next() per step:
 * about 2 × log2(at - result) in all, for any frequency. */
static int prev_bisect(const CalendarSpec *c, usec_t at, usec_t *ret) {
        usec_t lo, hi = at, w = USEC_PER_SEC, x = 0, found = 0;
        int r;

        for (;;) {
                lo = at > w ? at - w : 0;
                r = elapses_by(c, lo, at, &x);
                if (r < 0)
                        return r;
                if (r > 0) {
                        found = x;
                        break;
                }
                if (lo == 0)
                        return -ENOENT;
                hi = lo;
                w = w > (USEC_INFINITY >> 1) ? USEC_INFINITY : w * 2;
        }
        /* invariant: next(lo) <= at (it is `found`), next(hi) > at */
        while (hi - lo > 1) {
                usec_t mid = lo + (hi - lo) / 2;

                r = elapses_by(c, mid, at, &x);
                if (r < 0)
                        return r;
                if (r > 0) {
                        lo = mid;
                        found = x;
                } else
                        hi = mid;
        }
        /* a probe that gave up may have hidden later elapses: follow the chain to at */
        for (unsigned step = 0; step < FOLD_WALK_STEPS_MAX; step++) {
                r = next_in_zone(c, found, &x);
                if (r < 0 || x > at)
                        break;
                found = x;
        }
        *ret = found;
        return 0;
}

/* Bisection finds an elapse, but a timer only fires at the elapses of its chain (each next() of
 * the one before), and systemd's search can jump over an elapse it finds from other start times:
 * e.g. "*:*:00.4/14.8845" goes from :59.938 past :00.4 of the next minute to :15.2845, because
 * the step overflows the minute. So check that the elapse before p leads to p; if it does not,
 * the chain from it is followed instead. */
static int prev_on_chain(const CalendarSpec *c, usec_t at, usec_t *ret) {
        usec_t p = 0, b = 0, n = 0;
        int r;

        r = prev_bisect(c, at, &p);
        if (r < 0)
                return r;
        if (p == 0 || prev_bisect(c, p - 1, &b) < 0 || next_in_zone(c, b, &n) < 0 || n == p) {
                *ret = p;
                return 0;
        }
        for (unsigned step = 0; n <= at && step < FOLD_WALK_STEPS_MAX; step++) {
                b = n;
                if (next_in_zone(c, b, &n) < 0)
                        break;
        }
        *ret = b;
        return 0;
}

static long utc_offset(time_t t) {
        struct tm tm;

        return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

/* When the clock was set back (end of DST) in (at - FOLD_WINDOW, at]: the UTC second it happened
 * and by how many seconds. Returns false if it was not. */
static bool find_fold(usec_t at, time_t *ret_when, long *ret_size) {
        time_t hi = (time_t) (at / USEC_PER_SEC), lo = hi - FOLD_WINDOW_SEC;
        long before = utc_offset(lo), after = utc_offset(hi);

        if (after >= before)
                return false;
        while (hi - lo > 1) { /* first second with the later offset */
                time_t mid = lo + (hi - lo) / 2;
                if (utc_offset(mid) == before)
                        lo = mid;
                else
                        hi = mid;
        }
        *ret_when = hi;
        *ret_size = before - after;
        return true;
}

/* Elapses form a chain: a timer that fired at e next fires at next(e). next() is monotonic except
 * in the hour a DST change repeats: from the first pass of a repeated wall-clock time systemd
 * skips the second pass entirely (a timer running through the change does not fire in it), but
 * from a time inside the second pass it finds elapses there. Those are not occurrences of the
 * running timer, so where the clock was set back shortly before `at`, the chain is walked from the
 * last elapse before the change instead; elsewhere bisection gives the answer. */
static int prev_in_zone(const CalendarSpec *c, usec_t at, usec_t *ret) {
        usec_t p = 0, x = 0, n = 0, fold_end;
        bool have_x;
        time_t when;
        long size;
        int r, found;

        if (at > USEC_FORMATTABLE_MAX)
                return -EINVAL;
        r = found = prev_on_chain(c, at, &p);
        if (r < 0 && r != -ENOENT)
                return r;
        if (c->utc || at < FOLD_WINDOW_SEC * USEC_PER_SEC || !find_fold(at, &when, &size))
                goto done;

        fold_end = ((usec_t) when + (usec_t) size) * USEC_PER_SEC;
        r = prev_on_chain(c, (usec_t) when * USEC_PER_SEC - 1, &x);
        if (r < 0 && r != -ENOENT)
                return r;
        have_x = r >= 0;
        if (!have_x)
                x = (usec_t) when * USEC_PER_SEC - 1;
        for (unsigned step = 0; step < FOLD_WALK_STEPS_MAX; step++) {
                r = next_in_zone(c, x, &n);
                if (r == -ENOENT || (r >= 0 && n > at)) {
                        if (!have_x)
                                return -ENOENT;
                        *ret = x;
                        return 0;
                }
                if (r < 0)
                        return r;
                if (n >= fold_end) /* the chain has left the repeated hour: bisection is right again */
                        break;
                x = n;
                have_x = true;
        }
        r = found;
done:
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

int calendar_spec_prev(const CalendarSpec *c, usec_t at, usec_t *ret) {
        return in_zone(c, prev_in_zone, at, ret);
}
