/* SPDX-License-Identifier: MIT */
/* Masking URL passwords in any text before it is shown: errors, logs, diagnostics. */

#include "util/secret.h"
#include "util/util.h"

#define PASSWORD_PARAM "password="
#define SENTINEL_PREFIX "sentinel_"
#define URL_END " \t\r\n\"'<>"  /* where a URL quoted in a message ends */

/* p starts a query parameter: "password=" or "sentinel_password=" right after '?' or '&'. */
static bool param_start(const char *begin, const char *p) {
        size_t l = strlen(SENTINEL_PREFIX);

        if ((size_t) (p - begin) > l && strncmp(p - l, SENTINEL_PREFIX, l) == 0)
                p -= l;
        return p > begin && (p[-1] == '?' || p[-1] == '&');
}

/* Where the next secret at or after p starts and how long it is; false if there is none. begin is
 * the start of the whole text. */
static bool next_secret(const char *begin, const char *p, const char **ret_start, size_t *ret_len) {
        for (; *p; p++) {
                if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
                        const char *a = p + 3;
                        size_t alen = strcspn(a, URL_END "/?#");
                        const char *at = memrchr(a, '@', alen);
                        if (at && at > a) {
                                const char *c = memchr(a, ':', (size_t) (at - a));
                                const char *s = c ? c + 1 : a;
                                if (at > s) {
                                        *ret_start = s;
                                        *ret_len = (size_t) (at - s);
                                        return true;
                                }
                        }
                }
                if (strncmp(p, PASSWORD_PARAM, strlen(PASSWORD_PARAM)) == 0 && param_start(begin, p)) {
                        const char *s = p + strlen(PASSWORD_PARAM);
                        size_t l = strcspn(s, URL_END "&#");
                        if (l > 0) {
                                *ret_start = s;
                                *ret_len = l;
                                return true;
                        }
                }
        }
        return false;
}

bool secret_present(const char *s) {
        const char *start;
        size_t len;

        return next_secret(s, s, &start, &len);
}

/* Append n bytes of s to buf at *off, as many as fit; false if not all did. */
static bool append(char *buf, size_t size, size_t *off, const char *s, size_t n) {
        size_t room = size - 1 - *off, k = MIN(n, room);

        if (k < n)
                while (k > 0 && ((unsigned char) s[k] & 0xc0) == 0x80) /* a UTF-8 character boundary */
                        k--;
        memcpy(buf + *off, s, k);
        *off += k;
        buf[*off] = 0;
        return k == n;
}

bool secret_mask(const char *s, char *buf, size_t size) {
        const char *begin = s, *start;
        size_t len, off = 0;

        buf[0] = 0;
        while (next_secret(begin, s, &start, &len)) {
                if (!append(buf, size, &off, s, (size_t) (start - s)))
                        return false;
                if (size - 1 - off < strlen(SECRET_MASK))
                        return false; /* no part of a mask that could read as a password */
                (void) append(buf, size, &off, SECRET_MASK, strlen(SECRET_MASK));
                s = start + len;
        }
        return append(buf, size, &off, s, strlen(s));
}
