/* SPDX-License-Identifier: MIT */
/* JSON text as Ruby's JSON.generate writes it, so that a payload we store is byte for byte what
 * Sidekiq would store for the same values. */
#pragma once

#include <stddef.h>

/* Longest text json_ruby_format_real() writes, NUL included ("-1.7976931348623157e+308"). */
#define JSON_REAL_MAX 32

/* v as Ruby's Float#to_s: the fewest digits that read back as v; "ddd.ddd", "ddd.0" up to 15 integer
 * digits, "0.000ddd" down to 1e-4, else "d.ddde+XX". Returns the length, or -EDOM if v is not finite. */
int json_ruby_format_real(double v, char buf[static JSON_REAL_MAX]);

/* Rewrite the compact JSON text *text (length *len, NUL-terminated, as json_dumps() returns it) the
 * way Ruby writes the same values: every real number (a number token with '.', 'e' or 'E') with
 * json_ruby_format_real(), and \uXXXX escapes in strings with lowercase hex digits. Integers and
 * everything else are left as they are. On success *text may be replaced (the old one freed) and
 * *len updated; on failure (-ENOMEM, -EBADMSG for an unterminated string) both are untouched. */
int json_ruby_rewrite(char **text, size_t *len);
