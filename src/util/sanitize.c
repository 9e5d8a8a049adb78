/* SPDX-License-Identifier: MIT */
/* Text from Redis made safe for a terminal: control characters and invalid UTF-8 replaced. */

#include <stdlib.h>
#include <string.h>

#include "util/sanitize.h"

static size_t utf8_sequence_length(const unsigned char *p) {
        size_t len;
        unsigned cp;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xE0) == 0xC0) {
                len = 2;
                cp = p[0] & 0x1F;
        } else if ((p[0] & 0xF0) == 0xE0) {
                len = 3;
                cp = p[0] & 0x0F;
        } else if ((p[0] & 0xF8) == 0xF0) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8. */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return 0;
        /* C1 control characters (U+0080..U+009F) can drive a terminal too. */
        if (cp >= 0x80 && cp < 0xA0)
                return 0;
        return len;
}

size_t utf8_width(const char *s) {
        size_t w = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t l = utf8_sequence_length(p);
                p += l > 0 ? l : 1;
                w++;
        }
        return w;
}

char *string_sanitize(const char *s, size_t max) {
        size_t len = strlen(s), o = 0;
        char *out = malloc(MIN(len, max) + 4);

        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t l = utf8_sequence_length(p);

                if (o + MAX(l, (size_t) 1) > max) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                if (l == 1 && (*p == '\n' || *p == '\t' || *p == '\r'))
                        out[o++] = ' ';
                else if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7F)))
                        out[o++] = '?';
                else {
                        memcpy(out + o, p, l);
                        o += l;
                }
                p += l > 0 ? l : 1;
        }
        out[o] = 0;
        return out;
}
