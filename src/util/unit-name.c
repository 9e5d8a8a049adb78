/* SPDX-License-Identifier: MIT */
/* systemd unit names: a template's instance escaped as systemd-escape(1) does. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/unit-name.h"

bool unit_name_is_template(const char *name) {
        const char *at = name ? strchr(name, '@') : NULL;

        /* "x@.suffix" with a non-empty prefix and a suffix that has no further '@' or '/' */
        return at && at > name && at[1] == '.' && at[2] && !strchr(at + 1, '@') && !strchr(name, '/') &&
               strlen(name) <= UNIT_NAME_MAX;
}

static bool instance_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
               c == '_' || c == '.';
}

int unit_name_instance(const char *template, const char *instance, char *buf, size_t size) {
        const char *at;
        size_t o, max = size < UNIT_NAME_MAX + 1 ? size : UNIT_NAME_MAX + 1;

        if (!unit_name_is_template(template) || !instance || size == 0)
                return -EINVAL;
        at = strchr(template, '@');
        o = (size_t) (at - template) + 1;
        if (o >= max)
                return -ENAMETOOLONG;
        memcpy(buf, template, o);
        for (const char *p = instance; *p; p++) {
                char e[5];
                size_t l;

                if (*p == '/')
                        e[0] = '-', e[1] = 0;
                else if (instance_char_ok(*p) && !(p == instance && *p == '.'))
                        e[0] = *p, e[1] = 0;
                else
                        snprintf(e, sizeof e, "\\x%02x", (unsigned char) *p);
                l = strlen(e);
                if (o + l >= max)
                        return -ENAMETOOLONG;
                memcpy(buf + o, e, l);
                o += l;
        }
        if (o + strlen(at + 1) >= max)
                return -ENAMETOOLONG;
        strcpy(buf + o, at + 1);
        return 0;
}
