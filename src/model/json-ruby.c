/* SPDX-License-Identifier: MIT */
/* JSON text as Ruby's JSON.generate writes it.
 *
 * jansson prints reals with "%.17g" (0.1 → 0.10000000000000001) and control characters as "\u001F";
 * Ruby, hence Sidekiq, prints the shortest text that reads back as the same double (0.1) and
 * "\u001f". Both parse to the same values, but Sidekiq's API finds some entries by their text
 * (SortedEntry#reschedule is a ZINCRBY on Sidekiq.dump_json(item)): with other text it adds a second
 * member and the job runs twice. */

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/json-ruby.h"

#define RUBY_DBL_DIG 15 /* DBL_DIG: whole numbers up to this many digits print as "ddd.0" */

/* Shortest digits that read back as v (v finite, > 0): digits without a point in digits[], and decpt,
 * the position of the decimal point (v = 0.d1d2d3... × 10^decpt), as dtoa returns them. */
static int shortest_digits(double v, char digits[static 20], int *ret_decpt) {
        char buf[40];
        int exp10 = 0, n = 0;

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
                if (strtod(buf, NULL) == v || prec == 17)
                        break;
        }
        /* buf is "d.ddde±XX" or "de±XX" */
        for (const char *p = buf; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                        digits[n++] = *p;
        while (n > 1 && digits[n - 1] == '0')
                n--;
        digits[n] = 0;
        exp10 = atoi(strchr(buf, 'e') + 1);
        *ret_decpt = exp10 + 1;
        return n;
}

int json_ruby_format_real(double v, char buf[static JSON_REAL_MAX]) {
        char digits[20];
        int digs, decpt, k = 0;

        if (!isfinite(v))
                return -EDOM;
        if (signbit(v)) {
                buf[k++] = '-';
                v = -v;
        }
        if (v == 0) {
                memcpy(buf + k, "0.0", 4);
                return k + 3;
        }
        digs = shortest_digits(v, digits, &decpt);

        if (decpt > 0 && decpt < digs) {                 /* 1.5, 1795778263.642053 */
                memcpy(buf + k, digits, (size_t) decpt);
                k += decpt;
                buf[k++] = '.';
                memcpy(buf + k, digits + decpt, (size_t) (digs - decpt));
                k += digs - decpt;
        } else if (decpt > 0 && decpt <= RUBY_DBL_DIG) { /* 3.0, 100.0 */
                memcpy(buf + k, digits, (size_t) digs);
                k += digs;
                memset(buf + k, '0', (size_t) (decpt - digs));
                k += decpt - digs;
                buf[k++] = '.';
                buf[k++] = '0';
        } else if (decpt <= 0 && decpt > -4) {           /* 0.1, 0.0001 */
                buf[k++] = '0';
                buf[k++] = '.';
                memset(buf + k, '0', (size_t) -decpt);
                k += -decpt;
                memcpy(buf + k, digits, (size_t) digs);
                k += digs;
        } else {                                         /* 1.0e-05, 1.0e+16, 2.5e+300 */
                buf[k++] = digits[0];
                buf[k++] = '.';
                if (digs > 1) {
                        memcpy(buf + k, digits + 1, (size_t) (digs - 1));
                        k += digs - 1;
                } else
                        buf[k++] = '0';
                k += snprintf(buf + k, (size_t) (JSON_REAL_MAX - k), "e%+03d", decpt - 1);
        }
        buf[k] = 0;
        return k;
}

static bool is_number_char(char c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static bool is_upper_hex(char c) {
        return c >= 'A' && c <= 'F';
}

int json_ruby_rewrite(char **text, size_t *len) {
        const char *in = *text;
        size_t n = *len, reals = 0, changes = 0, o = 0;
        char *out;

        /* First pass: validate strings, count what changes, so the result fits in one allocation. */
        for (size_t i = 0; i < n; i++) {
                if (in[i] == '"') {
                        for (i++; i < n && in[i] != '"'; i++)
                                if (in[i] == '\\') {
                                        if (i + 5 < n && in[i + 1] == 'u')
                                                for (size_t h = i + 2; h < i + 6; h++)
                                                        changes += is_upper_hex(in[h]);
                                        i++;
                                }
                        if (i >= n)
                                return -EBADMSG;
                } else if (in[i] == '-' || (in[i] >= '0' && in[i] <= '9')) {
                        bool real = false;
                        for (; i < n && is_number_char(in[i]); i++)
                                real = real || in[i] == '.' || in[i] == 'e' || in[i] == 'E';
                        reals += real;
                        i--;
                }
        }
        if (reals + changes == 0)
                return 0;

        out = malloc(n + reals * JSON_REAL_MAX + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n;) {
                if (in[i] == '"') {
                        out[o++] = in[i++];
                        while (in[i] != '"') {
                                if (in[i] == '\\' && in[i + 1] == 'u' && i + 5 < n) {
                                        memcpy(out + o, in + i, 6);
                                        for (size_t h = o + 2; h < o + 6; h++)
                                                if (is_upper_hex(out[h]))
                                                        out[h] = (char) (out[h] - 'A' + 'a');
                                        o += 6;
                                        i += 6;
                                } else if (in[i] == '\\') {
                                        out[o++] = in[i++];
                                        out[o++] = in[i++];
                                } else
                                        out[o++] = in[i++];
                        }
                        out[o++] = in[i++];
                } else if (in[i] == '-' || (in[i] >= '0' && in[i] <= '9')) {
                        size_t start = i;
                        bool real = false;
                        char tok[64];
                        int k;

                        for (; i < n && is_number_char(in[i]); i++)
                                real = real || in[i] == '.' || in[i] == 'e' || in[i] == 'E';
                        if (real && i - start < sizeof tok) {
                                memcpy(tok, in + start, i - start);
                                tok[i - start] = 0;
                                k = json_ruby_format_real(strtod(tok, NULL), out + o);
                                if (k >= 0) {
                                        o += (size_t) k;
                                        continue;
                                }
                        }
                        memcpy(out + o, in + start, i - start);
                        o += i - start;
                } else
                        out[o++] = in[i++];
        }
        out[o] = 0;
        free(*text);
        *text = out;
        *len = o;
        return 0;
}
