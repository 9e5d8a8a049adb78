/* SPDX-License-Identifier: MIT */
/* systemd's Key=Value syntax, read line by line: the one parser of worker.conf and the schedule. */

#include <stdarg.h>
#include <stdio.h>

#include "util/conf-parser.h"
#include "util/secret.h"
#include "util/util.h"

#define COMMENTS "#;"
#define WHITESPACE " \t\n\r"
#define UTF8_BOM "\xef\xbb\xbf"

typedef struct ConfState {
        const ConfParser *p;
        bool in_section; /* a header was seen */
        bool ignoring;   /* inside an X- section, a bad header, or one the caller skips */
} ConfState;

const char *conf_value_shown(const char *v, char buf[static CONF_VALUE_SHOWN_MAX + 4]) {
        if (strlen(v) <= CONF_VALUE_SHOWN_MAX && !secret_present(v))
                return v;
        if (!secret_mask(v, buf, CONF_VALUE_SHOWN_MAX + 1))
                strcat(buf, "...");
        return buf;
}

int conf_set_string(char **field, const char *value) {
        char *c = NULL;

        if (*value && !(c = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int report(ConfState *st, ConfError error, unsigned line, const char *fmt, ...) _printf_(4, 5);
static int report(ConfState *st, ConfError error, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = strdupvf(fmt, ap);
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        int r = st->p->error(st->p->userdata, error, line, msg);
        return MIN(r, 0);
}

static bool is_extension(const char *name) {
        return strncmp(name, "X-", 2) == 0;
}

static int logical_line(ConfState *st, char *l, unsigned line) {
        char a[CONF_VALUE_SHOWN_MAX + 4], b[CONF_VALUE_SHOWN_MAX + 4];
        char *eq, *key, *value;
        int r;

        l = strstrip(l);
        if (!*l || strchr(COMMENTS, *l))
                return 0;

        if (*l == '[') {
                size_t k = strlen(l);

                st->in_section = true;
                st->ignoring = true;
                if (l[k - 1] != ']')
                        return report(st, CONF_ERROR_SECTION_HEADER, line, "%s: invalid section header; write %s",
                                      conf_value_shown(l, a), st->p->first_section);
                l[k - 1] = 0;
                if (is_extension(l + 1))
                        return 0; /* extension sections are ignored, as systemd does */
                r = st->p->section(st->p->userdata, l + 1, line);
                if (r < 0)
                        return r;
                st->ignoring = r == CONF_SECTION_IGNORE;
                return 0;
        }

        if (st->ignoring)
                return 0;
        eq = strchr(l, '=');
        if (!eq)
                return report(st, CONF_ERROR_NO_EQUALS, line, "%s: missing '='; lines are Key=Value",
                              conf_value_shown(l, a));
        *eq = 0;
        key = strstrip(l);
        value = strstrip(eq + 1);
        if (!st->in_section)
                return report(st, CONF_ERROR_NO_SECTION, line,
                              "%s=%s: assignment outside of a %s section; start with a %s line",
                              conf_value_shown(key, a), conf_value_shown(value, b), st->p->first_section,
                              st->p->first_section);
        if (!*key)
                return report(st, CONF_ERROR_EMPTY_KEY, line, "=%s: empty key; lines are Key=Value",
                              conf_value_shown(value, a));
        if (is_extension(key))
                return 0;
        return st->p->assignment(st->p->userdata, key, value, line);
}

int conf_parse(const ConfParser *p, const char *text, size_t len) {
        _cleanup_free_ char *buf = NULL;
        size_t buf_len = 0;
        unsigned lineno = 0, start_line = 0;
        bool continued = false, too_long = false;
        ConfState st = { .p = p };
        int r;

        if (memchr(text, 0, len))
                return report(&st, CONF_ERROR_NUL, 0, "the file contains a NUL byte; a configuration file is text");
        buf = malloc(p->line_max + 1);
        if (!buf)
                return -ENOMEM;
        if (len >= strlen(UTF8_BOM) && memcmp(text, UTF8_BOM, strlen(UTF8_BOM)) == 0) {
                text += strlen(UTF8_BOM);
                len -= strlen(UTF8_BOM);
        }

        const char *end = text + len;
        for (const char *q = text; q < end;) {
                const char *nl = memchr(q, '\n', (size_t) (end - q));
                const char *line = q;
                size_t n = (size_t) ((nl ? nl : end) - q);

                q = nl ? nl + 1 : end;
                lineno++;
                if (n > 0 && line[n - 1] == '\r')
                        n--;

                /* comment lines are dropped even in the middle of a continuation (systemd.syntax(7)) */
                size_t ws = 0;
                while (ws < n && strchr(WHITESPACE, line[ws]))
                        ws++;
                if (ws < n && strchr(COMMENTS, line[ws]))
                        continue;

                if (!continued) {
                        start_line = lineno;
                        buf_len = 0;
                        too_long = false;
                }
                if (!too_long && buf_len + n > p->line_max) {
                        too_long = true;
                        /* what an ignored section holds is not looked at, not even its length */
                        if (!st.ignoring) {
                                r = report(&st, CONF_ERROR_LINE_TOO_LONG, start_line,
                                           "the line is longer than %zu bytes (continuations joined); split the "
                                           "value or shorten it",
                                           p->line_max);
                                if (r < 0)
                                        return r;
                        }
                }
                if (!too_long) {
                        memcpy(buf + buf_len, line, n);
                        buf_len += n;
                        buf[buf_len] = 0;
                }

                /* an odd run of trailing backslashes continues the line; the last one becomes a space */
                size_t bs = 0;
                while (bs < n && line[n - 1 - bs] == '\\')
                        bs++;
                if (bs % 2 == 1) {
                        if (!too_long)
                                buf[buf_len - 1] = ' ';
                        continued = true;
                        continue;
                }
                continued = false;
                if (too_long)
                        continue;
                r = logical_line(&st, buf, start_line);
                if (r < 0)
                        return r;
        }
        if (continued && !too_long)
                return logical_line(&st, buf, start_line);
        return 0;
}

int conf_next_word(const char **p, char **ret) {
        const char *s = *p;
        char *w, *o, quote = 0;

        s += strspn(s, WHITESPACE);
        if (!*s) {
                *p = s;
                return 0;
        }
        o = w = malloc(strlen(s) + 1);
        if (!w)
                return -ENOMEM;
        for (; *s && (quote || !strchr(WHITESPACE, *s)); s++) {
                if (*s == '\\') {
                        if (!s[1])
                                break;
                        *o++ = *++s;
                } else if (quote && *s == quote)
                        quote = 0;
                else if (!quote && (*s == '"' || *s == '\''))
                        quote = *s;
                else
                        *o++ = *s;
        }
        if (quote || *s == '\\') {
                free(w);
                return -EINVAL;
        }
        *o = 0;
        *p = s;
        *ret = w;
        return 1;
}
