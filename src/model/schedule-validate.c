/* SPDX-License-Identifier: MIT */
/* What a schedule value may contain so that the generated units say exactly what was written. */

#include <ctype.h>

#include "model/schedule.h"

bool schedule_text_is_printable(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned n;
                uint32_t c;

                if (*p < 0x80) {
                        if (*p < 0x20 || *p == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        n = 1, c = *p & 0x1f;
                else if ((*p & 0xf0) == 0xe0)
                        n = 2, c = *p & 0x0f;
                else if ((*p & 0xf8) == 0xf0)
                        n = 3, c = *p & 0x07;
                else
                        return false;
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        c = (c << 6) | (*p & 0x3f);
                }
                /* overlong forms, surrogates and values past U+10FFFF */
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
                    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                        return false;
        }
        return true;
}

bool schedule_name_is_valid(const char *name) {
        if (!string_is_charset(name, SCHEDULE_NAME_MAX, "_.-"))
                return false;
        return isalnum((unsigned char) name[0]);
}

bool schedule_calendar_charset_ok(const char *s) {
        return string_is_charset(s, SCHEDULE_CALENDAR_LEN_MAX, " *-:,./~+_@");
}
