/* SPDX-License-Identifier: MIT */
/* Points in time for people: absolute in systemd's style and relative ("3min 5s ago", "2h left"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define TIMESTAMP_MAX 64

/* "Fri 2026-11-27 11:02:04 UTC" in local time (or UTC when utc is true). "n/a" for 0/infinity. */
char *format_timestamp(char *buf, size_t n, usec_t t, bool utc);

/* The two most significant units of a span: "1 day 2h", "3min 5s", "45s", "250ms", "0". */
char *format_timespan_short(char *buf, size_t n, usec_t span);

/* Relative to now: "3min 5s ago", "2h 4min left", "now"; "n/a" for 0/infinity. */
char *format_timestamp_relative(char *buf, size_t n, usec_t t, usec_t now);

/* Epoch seconds as Sidekiq writes them (float seconds; Sidekiq 8: integer milliseconds) to usec.
 * Integers below 1e11 are taken as seconds. Negative, NaN or absurd values give 0. */
usec_t usec_from_sidekiq_time(double value, bool is_integer);

/* The latest point in time accepted anywhere a person writes one: 9999-12-31 23:59:59 UTC. */
#define TIMESTAMP_USEC_MAX (253402300799ULL * USEC_PER_SEC)

/* A point in time as a person writes it, a subset of systemd.time(7) and ISO 8601:
 *   "1767225600", "1767225600.5", "@1767225600"        seconds since the epoch
 *   "2026-12-24", "2026-12-24 18:00", "2026-12-24 18:00:30.25", "2026-12-24T18:00"
 *   any of these with a weekday first ("Thu 2026-12-24 18:00"), checked against the date
 *   and a zone after the time: "Z", " UTC", " GMT", "+01:00", "-0530" (else local time)
 *   "now", "today", "tomorrow", "yesterday" (local midnight)
 * Returns -EINVAL for anything else, -ERANGE before 1970 or after TIMESTAMP_USEC_MAX. */
int parse_timestamp(const char *s, usec_t now, usec_t *ret);
