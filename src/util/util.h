/* SPDX-License-Identifier: MIT */
/* Strings, numbers, time and durations: the helpers every layer needs. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/macro.h"

typedef uint64_t usec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY (24ULL * USEC_PER_HOUR)

/* Current time of the given clock in microseconds. */
usec_t now_usec(clockid_t clock);

/* When this process was forked, on the wall clock (CLOCK_REALTIME µs), from the kernel's record in
 * /proc/self/stat: rounded up to the next clock tick, so never before the fork, and never later
 * than now. An exec() keeps it: it is the start of the process, not of its program. -errno if
 * /proc cannot tell. */
int process_start_usec(usec_t *ret);

/* Wall clock as float epoch seconds, Sidekiq's time format. */
double epoch_now(void);

/* Parse a duration the way systemd writes them: "30s", "5min", "1h 30min", "2 days", "500ms".
 * A bare number is seconds. Returns 0, or -EINVAL on bad syntax, -ERANGE on overflow. */
int parse_duration(const char *s, usec_t *ret);

/* Format a duration in systemd's style ("1h 30min", "250ms", "0"). Returns buf. */
#define DURATION_MAX 64
char *format_duration(char *buf, size_t n, usec_t u);

/* "yes/no/true/false/on/off/1/0", case-insensitive. Returns 0/1, or -EINVAL. */
int parse_boolean(const char *s);

/* Whole decimal numbers, no sign, no spaces, no trailing garbage. -EINVAL or -ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_unsigned(const char *s, unsigned *ret);

/* Fill buf with bytes from the kernel's random source. */
int random_bytes(void *buf, size_t n);

/* Write 2*n lowercase hex digits and a NUL to out. */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Standard base64 (RFC 4648, padded) of n bytes: a new string, NULL on allocation failure. */
char *base64_encode(const void *in, size_t n);

/* Read a whole file (at most max bytes, else -EFBIG); result is NUL-terminated. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* Strip leading and trailing whitespace in place; returns the new start. */
char *strstrip(char *s);

/* True if s is non-empty, at most max bytes, and made only of [A-Za-z0-9] and the bytes in extra. */
bool string_is_charset(const char *s, size_t max, const char *extra);

/* asprintf that returns NULL on failure. */
char *strdupvf(const char *fmt, va_list ap) _printf_(1, 0);
char *strdupf(const char *fmt, ...) _printf_(1, 2);
