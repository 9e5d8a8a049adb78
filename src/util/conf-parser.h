/* SPDX-License-Identifier: MIT */
/* systemd's Key=Value syntax (systemd.syntax(7)) for every configuration file we read: [Section]
 * headers, '#'/';' comment lines, backslash continuations, a UTF-8 BOM, X- sections and keys. The
 * caller is told sections and assignments with their line numbers and decides what they mean. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

/* Values quoted in diagnostics are cut to this many bytes (plus "..."), so that a 16 KiB line does
 * not flood a terminal. */
#define CONF_VALUE_SHOWN_MAX 80U

/* A section callback returns this to have the assignments up to the next header ignored. */
#define CONF_SECTION_IGNORE 1

typedef enum ConfError {
        CONF_ERROR_NUL,            /* the text holds a NUL byte; nothing else is parsed */
        CONF_ERROR_LINE_TOO_LONG,  /* a logical line (continuations joined) longer than line_max; skipped */
        CONF_ERROR_SECTION_HEADER, /* "[Name" without its "]"; the assignments up to the next header are ignored */
        CONF_ERROR_NO_SECTION,     /* an assignment before the first section header */
        CONF_ERROR_NO_EQUALS,      /* a line that is neither a header, a comment nor Key=Value */
        CONF_ERROR_EMPTY_KEY,      /* "=value" */
        _CONF_ERROR_MAX,
} ConfError;

typedef struct ConfParser {
        const char *first_section; /* named in CONF_ERROR_NO_SECTION, e.g. "[Worker]" */
        size_t line_max;           /* bytes of one logical line, continuations joined */
        /* A [Section] header; X-* sections are skipped without a call. Returns < 0 to stop parsing,
         * 0 to take the assignments that follow, CONF_SECTION_IGNORE to skip them. */
        int (*section)(void *userdata, const char *section, unsigned line);
        /* Key=Value with both sides stripped of whitespace; value may be "" (an empty assignment).
         * X-* keys are skipped without a call. Returns < 0 to stop parsing. */
        int (*assignment)(void *userdata, const char *key, const char *value, unsigned line);
        /* A syntax error: message is complete ("Queue: missing '='; lines are Key=Value"), line is 0
         * for the whole text. Returns < 0 to stop parsing, >= 0 to go on with the next line. */
        int (*error)(void *userdata, ConfError error, unsigned line, const char *message);
        void *userdata;
} ConfParser;

/* Parse text (len bytes, not necessarily NUL-terminated). Returns 0 when the whole text was parsed,
 * or the first negative value a callback returned, or -ENOMEM. */
int conf_parse(const ConfParser *p, const char *text, size_t len);

/* v as a diagnostic may quote it: v itself, or in buf its first CONF_VALUE_SHOWN_MAX bytes (cut on a
 * UTF-8 boundary) plus "...", any URL password masked (util/secret.h). */
const char *conf_value_shown(const char *v, char buf[static CONF_VALUE_SHOWN_MAX + 4]);

/* The one meaning of an empty string value in every configuration file, as in systemd: "Key=" resets
 * the setting to its default, stored as NULL. Otherwise *field becomes a copy of value. Returns 0 or
 * -ENOMEM (and *field is unchanged). */
int conf_set_string(char **field, const char *value);

/* The next word of a list value (Environment="A=1 2" B=3): words are separated by whitespace, '"' and
 * '\'' quote, a backslash takes the next byte as it is. Sets *ret to a new string and advances *p;
 * returns 1, 0 at the end, -EINVAL for an unterminated quote or a trailing backslash, -ENOMEM. */
int conf_next_word(const char **p, char **ret);
