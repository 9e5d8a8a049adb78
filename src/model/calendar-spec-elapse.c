/* SPDX-License-Identifier: MIT */
/* When a calendar expression elapses: systemd 252's search for the next elapse, and the latest one.
 *
 * next() walks a broken-down local time field by field and lets mktime(3) decide what a skipped or
 * repeated hour becomes, as systemd does (its src/shared/calendarspec.c, read for its behaviour,
 * written anew here). Using the same libc calls is what makes an hour skipped by a DST change
 * behave exactly as it does for the timer; a tzfile reader of our own would have to reproduce
 * glibc's normalization rules and could drift from them. So a time zone is applied by setting $TZ
 * around the computation, as systemd does in a child process (not thread-safe: calendar-spec.h). */

#include <limits.h>

#include "model/calendar-spec-parsed.h"

/* systemd gives up after this many steps of its search, and so do we (same answer) */
#define SEARCH_STEPS_MAX 1000
/* timestamps systemd formats at all (9999-12-30 23:59:59.999999 UTC): larger bases are refused */
#define USEC_FORMATTABLE_MAX ((usec_t) 253402214399999999ULL)
/* how far back prev() looks for a DST change that repeated wall-clock times, and how many elapses
 * it walks through the repeated time (or a jump of systemd's search) at most */
#define FOLD_WINDOW_SEC (26 * 3600)
#define FOLD_WALK_STEPS_MAX 100000U

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

/* Day of the week of a valid date (0 = Sunday, as tm_wday), by arithmetic: days since 1970-01-01
 * (a Thursday) of the proleptic Gregorian calendar. */
static int weekday_of(const struct tm *tm) {
        long long y = tm->tm_year + 1900LL - (tm->tm_mon < 2), m = tm->tm_mon + 1;
        long long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
        long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + tm->tm_mday - 1;
        long long days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;

        return (int) (((days + 4) % 7 + 7) % 7);
}

/* tm is a settled (existing) date here, so its weekday needs no mktime() */
static bool weekday_ok(int bits, const struct tm *tm) {
        int wday;

        if (bits < 0 || bits >= WEEKDAYS_ALL)
                return true;
        wday = weekday_of(tm);
        return bits & (1 << (wday == 0 ? 6 : wday - 1));
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

/* After matching `field` (r from chain_next()): 1 to go on with the next field, 0 to search again
 * from t, which was moved on as systemd does: past this field's parent if nothing matched or the
 * time does not exist, else to where mktime() normalized it. A field the chain did not move leaves
 * t as it was when last settled (or normalized at the top of find_next()): an existing time, which
 * mktime() would return unchanged, so it is not asked again. */
static int field_done(const CalendarSpec *c, struct tm *t, int *us, int field, int r) {
        int *parent[] = { NULL, &t->tm_year, &t->tm_mon, &t->tm_mday, &t->tm_hour, &t->tm_min };

        if (r == 0)
                return 1;
        if (r > 0 && field < F_USEC)
                reset_below(t, us, field + 1);
        if (r < 0 || (r = tm_settle(t, c->utc)) < 0) {
                (*parent[field])++;
                reset_below(t, us, field);
                return 0;
        }
        return r;
}

/* Broken-down t (with usec) before the start tm (with usec): the search came back behind its start. */
static bool tm_before(const struct tm *t, int t_us, const struct tm *start, int start_us) {
        const int a[] = { t->tm_year, t->tm_mon, t->tm_mday, t->tm_hour, t->tm_min, t->tm_sec, t_us };
        const int b[] = { start->tm_year, start->tm_mon, start->tm_mday, start->tm_hour, start->tm_min,
                          start->tm_sec, start_us };

        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                if (a[i] != b[i])
                        return a[i] < b[i];
        return false;
}

static int find_next(const CalendarSpec *c, struct tm *tm, int *usec) {
        struct tm t = *tm;
        int us = *usec, r;
        bool keep_dst = false;

        for (unsigned step = 0; step < SEARCH_STEPS_MAX; step++) {
                (void) tm_to_time(&t, c->utc);
                if (!keep_dst)
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
                if (!field_done(c, &t, &us, F_MONTH, r))
                        continue;

                r = chain_next(c, &c->f[F_DAY], c->end_of_month, &t, &t.tm_mday);
                if (!field_done(c, &t, &us, F_DAY, r))
                        continue;

                if (!weekday_ok(c->weekdays, &t)) {
                        t.tm_mday++;
                        reset_below(&t, &us, F_HOUR);
                        continue;
                }

                /* an hour that does not exist that day (DST) continues from where mktime() put it */
                r = chain_next(c, &c->f[F_HOUR], false, &t, &t.tm_hour);
                if (!field_done(c, &t, &us, F_HOUR, r))
                        continue;

                r = chain_next(c, &c->f[F_MINUTE], false, &t, &t.tm_min);
                if (!field_done(c, &t, &us, F_MINUTE, r))
                        continue;

                int sec = t.tm_sec * (int) USEC_PER_SEC + us;
                r = chain_next(c, &c->f[F_USEC], false, &t, &sec);
                us = sec % (int) USEC_PER_SEC;
                t.tm_sec = sec / (int) USEC_PER_SEC;
                if (!field_done(c, &t, &us, F_USEC, r))
                        continue;

                /* mktime() read an hour skipped by a DST change backwards (glibc prefers the side
                 * flagged DST: winter time in Europe/Dublin), so the search came back behind its
                 * start. Debian's systemd 252 then keeps the DST flag mktime() settled on and tries
                 * again an hour later, which reads the skipped hour forwards; so do we. */
                if (tm_before(&t, us, tm, *usec)) {
                        keep_dst = true;
                        t.tm_hour++;
                        continue;
                }

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
        /* A wall-clock time repeated by a DST change is later than the start field by field, yet
         * mktime() may read it as its first pass, at or before the start (which pass depends on
         * glibc's guess from earlier calls): report that as systemd's "gave up". */
        if ((usec_t) t * USEC_PER_SEC + (usec_t) us <= after - 1)
                return -EDEADLK;
        *ret = (usec_t) t * USEC_PER_SEC + (usec_t) us;
        return 0;
}

#define LOCALTIME_PATH "/etc/localtime"

/* $TZ switched to the expression's zone for one computation, then put back. */
typedef struct ZoneSwitch {
        bool active, had_tz;
        char *saved;
} ZoneSwitch;

static int zone_enter(const CalendarSpec *c, ZoneSwitch *z) {
        const char *old = getenv("TZ"), *zone;
        _cleanup_free_ char *tz = NULL;
        int r;

        *z = (ZoneSwitch) {};
        /* No zone and no $TZ: glibc's mktime() then stats /etc/localtime on every call (thousands per
         * prev()); naming it in $TZ for the computation makes that one read. */
        zone = c->timezone ?: (old ? NULL : LOCALTIME_PATH);
        if (!zone)
                return 0;
        tz = strdupf(":%s", zone); /* ":" names a file of the zone database (tzset(3)) */
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
 * (-EDEADLK, as in systemd): such a probe says nothing; 0, and prev_bisect() probes elsewhere. */
static int elapses_by(const CalendarSpec *c, usec_t q, usec_t at, usec_t *ret_next) {
        int r = next_in_zone(c, q, ret_next);

        if (r == -ENOENT || r == -EDEADLK)
                return 0;
        if (r < 0)
                return r;
        return *ret_next <= at;
}

/* elapses_by() for the windows of prev_bisect(): a probe that says nothing is moved halfway
 * towards hi (whose next() is later than at) until one answers, so that a window whose start
 * falls where the search gives up (in Europe/Dublin, just after midnight on the day the clocks go
 * forward, for a daily calendar) does not pass over the elapse after it. *q is the probe used. */
static int window_elapses_by(const CalendarSpec *c, usec_t *q, usec_t hi, usec_t at, usec_t *ret_next) {
        usec_t x;

        for (unsigned k = 0; k < 32 && hi - *q > 1; k++) {
                int r = next_in_zone(c, *q, &x);

                if (r != -EDEADLK)
                        break;
                *q += (hi - *q) / 2;
        }
        return elapses_by(c, *q, at, ret_next);
}

/* The first window prev_bisect() tries: the gap between the two elapses after at, so that for a
 * calendar with a regular period the first probe already finds the elapse before at (two next()
 * and one probe instead of log2(period) probes: 20 for a weekly calendar). */
static usec_t first_window(const CalendarSpec *c, usec_t at) {
        usec_t a = 0, b = 0;

        if (next_in_zone(c, at, &a) < 0 || next_in_zone(c, a, &b) < 0 || b - a < USEC_PER_SEC)
                return USEC_PER_SEC;
        return b - a;
}

/* The latest q-elapse <= at by bisection, assuming next() is monotonic: step back in doubling
 * windows, from the calendar's period after at, until next(at - w) <= at, then bisect between
 * the last two probes. One next() per step: about 2 × log2(at - result) in all at most, for any
 * frequency. */
static int prev_bisect(const CalendarSpec *c, usec_t at, usec_t *ret) {
        usec_t lo, hi = at, w = first_window(c, at), x = 0, found = 0;
        int r;

        for (;;) {
                lo = at > w ? at - w : 0;
                r = window_elapses_by(c, &lo, hi, at, &x);
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
        /* invariant: next(lo) <= at (it is `found`), next(hi) > at. Each round first takes one step
         * along the chain: if the elapse after `found` is later than at, found is the answer — so a
         * sparse calendar (daily, weekly) stops at once instead of bisecting down to the
         * microsecond; a dense one narrows [lo, hi) by one bisection step per round. */
        for (unsigned step = 0; step < FOLD_WALK_STEPS_MAX; step++) {
                usec_t mid;

                r = next_in_zone(c, found, &x);
                if (r == -ENOENT || (r >= 0 && x > at))
                        goto done;
                if (r < 0 && r != -EDEADLK)
                        return r;
                if (r >= 0) { /* next(found) = x <= at */
                        if (found > lo && found < hi)
                                lo = found;
                        found = x;
                }
                if (hi - lo <= 1)
                        break;
                mid = lo + (hi - lo) / 2;
                r = elapses_by(c, mid, at, &x);
                if (r < 0)
                        return r;
                if (r > 0) {
                        lo = mid;
                        if (x > found)
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
done:
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

int calendar_spec_prev_pair(const CalendarSpec *c, usec_t at, usec_t *ret, usec_t *ret_before) {
        usec_t p = 0, b = 0;
        ZoneSwitch z;
        int r;

        r = zone_enter(c, &z);
        if (r < 0)
                return r;
        r = prev_in_zone(c, at, &p);
        if (r >= 0 && (p == 0 || prev_in_zone(c, p - 1, &b) < 0))
                b = 0;
        zone_leave(&z);
        if (r < 0)
                return r;
        *ret = p;
        *ret_before = b;
        return 0;
}
