/* SPDX-License-Identifier: MIT */
/* Strings, numbers, time and durations. */

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "util/util.h"

usec_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* cannot fail with a valid clock id */
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

int process_start_usec(usec_t *ret) {
        char buf[1024], *p;
        unsigned long long ticks;
        usec_t boot_now, real_now, start;
        long hz = sysconf(_SC_CLK_TCK);
        ssize_t n;
        int fd;

        if (hz <= 0)
                return -EINVAL;
        fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                n = -errno;
        (void) close(fd);
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        /* "pid (comm) state ppid ...": comm may hold anything, so count from its last ')'; the
         * start time is field 22, the 20th after it */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        for (int field = 2; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p + 1, "%llu", &ticks) != 1)
                return -EBADMSG;
        boot_now = now_usec(CLOCK_BOOTTIME);
        real_now = now_usec(CLOCK_REALTIME);
        start = (usec_t) (ticks + 1) * USEC_PER_SEC / (usec_t) hz;
        *ret = start >= boot_now ? real_now : real_now - (boot_now - start);
        return 0;
}

double epoch_now(void) {
        return (double) now_usec(CLOCK_REALTIME) / (double) USEC_PER_SEC;
}

static const struct {
        const char *suffix;
        usec_t usec;
} duration_units[] = {
        /* Longest suffixes first within a family so that "msec" is not read as "m" + "sec". */
        { "seconds", USEC_PER_SEC },   { "second", USEC_PER_SEC },  { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },         { "minutes", USEC_PER_MINUTE }, { "minute", USEC_PER_MINUTE },
        { "min", USEC_PER_MINUTE },    { "months", 2629800ULL * USEC_PER_SEC },
        { "month", 2629800ULL * USEC_PER_SEC }, { "msec", USEC_PER_MSEC }, { "ms", USEC_PER_MSEC },
        { "m", USEC_PER_MINUTE },      { "hours", USEC_PER_HOUR },  { "hour", USEC_PER_HOUR },
        { "hr", USEC_PER_HOUR },       { "h", USEC_PER_HOUR },      { "days", USEC_PER_DAY },
        { "day", USEC_PER_DAY },       { "d", USEC_PER_DAY },       { "weeks", 7 * USEC_PER_DAY },
        { "week", 7 * USEC_PER_DAY },  { "w", 7 * USEC_PER_DAY },   { "years", 31557600ULL * USEC_PER_SEC },
        { "year", 31557600ULL * USEC_PER_SEC }, { "y", 31557600ULL * USEC_PER_SEC },
        { "usec", 1 },                 { "us", 1 },                 { "µs", 1 },
};

int parse_duration(const char *s, usec_t *ret) {
        usec_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;

        for (const char *p = s;;) {
                uint64_t whole = 0, frac = 0, frac_div = 1;
                bool digits = false;
                size_t ulen = 0;
                usec_t unit = USEC_PER_SEC;

                while (isspace((unsigned char) *p))
                        p++;
                if (*p == 0)
                        break;

                for (; isdigit((unsigned char) *p); p++) {
                        if (whole > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t) (*p - '0');
                        digits = true;
                }
                if (*p == '.') {
                        p++;
                        for (; isdigit((unsigned char) *p); p++) {
                                if (frac_div < 1000000000ULL) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        frac_div *= 10;
                                }
                                digits = true;
                        }
                }
                if (!digits)
                        return -EINVAL;

                while (isspace((unsigned char) *p))
                        p++;

                if (isalpha((unsigned char) *p) || (unsigned char) *p >= 0x80) {
                        bool found = false;
                        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
                                size_t l = strlen(duration_units[i].suffix);
                                if (strncmp(p, duration_units[i].suffix, l) != 0)
                                        continue;
                                /* the unit must end here: "5mins" is not "5min" + "s" */
                                if (isalpha((unsigned char) p[l]))
                                        continue;
                                unit = duration_units[i].usec;
                                ulen = l;
                                found = true;
                                break;
                        }
                        if (!found)
                                return -EINVAL;
                        p += ulen;
                }

                if (whole > 0 && unit > UINT64_MAX / whole)
                        return -ERANGE;
                usec_t part = whole * unit + (usec_t) ((long double) frac * unit / frac_div);
                if (total > UINT64_MAX - part)
                        return -ERANGE;
                total += part;
                any = true;
        }

        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

char *format_duration(char *buf, size_t n, usec_t u) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } table[] = {
                { "d", USEC_PER_DAY },   { "h", USEC_PER_HOUR },   { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },   { "ms", USEC_PER_MSEC },  { "us", 1 },
        };
        size_t off = 0;

        if (n == 0)
                return buf;
        buf[0] = 0;
        if (u == USEC_INFINITY) {
                snprintf(buf, n, "infinity");
                return buf;
        }
        if (u == 0) {
                snprintf(buf, n, "0");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(table) && u > 0; i++) {
                usec_t k = u / table[i].usec;
                if (k == 0)
                        continue;
                int r = snprintf(buf + off, n - off, "%s%llu%s", off > 0 ? " " : "",
                                 (unsigned long long) k, table[i].suffix);
                if (r < 0 || (size_t) r >= n - off)
                        break;
                off += (size_t) r;
                u -= k * table[i].usec;
        }
        return buf;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (!strcasecmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "y") ||
            !strcasecmp(s, "true") || !strcasecmp(s, "t") || !strcasecmp(s, "on"))
                return 1;
        if (!strcasecmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "n") ||
            !strcasecmp(s, "false") || !strcasecmp(s, "f") || !strcasecmp(s, "off"))
                return 0;
        return -EINVAL;
}

int parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        for (; *s; s++) {
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int random_bytes(void *buf, size_t n) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = 0;
}

char *base64_encode(const void *in, size_t n) {
        static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const uint8_t *b = in;
        char *out, *o;

        if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        out = malloc((n + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) b[i] << 16 | (i + 1 < n ? (uint32_t) b[i + 1] << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
                *o++ = digits[v >> 18 & 63];
                *o++ = digits[v >> 12 & 63];
                *o++ = i + 1 < n ? digits[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? digits[v & 63] : '=';
        }
        *o = 0;
        return out;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                if (size + 1 >= alloc) {
                        size_t want = alloc ? alloc * 2 : 4096;
                        if (want > max + 2)
                                want = max + 2;
                        if (want <= size + 1)
                                return -EFBIG;
                        char *n = realloc(buf, want);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        alloc = want;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

char *strstrip(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char) s[l - 1]))
                s[--l] = 0;
        return s;
}

bool string_is_charset(const char *s, size_t max, const char *extra) {
        size_t i;

        if (!s || !*s)
                return false;
        for (i = 0; s[i]; i++) {
                if (i >= max)
                        return false;
                if (isalnum((unsigned char) s[i]) && (unsigned char) s[i] < 0x80)
                        continue;
                if (extra && strchr(extra, s[i]))
                        continue;
                return false;
        }
        return true;
}

char *strdupvf(const char *fmt, va_list ap) {
        char *s;

        return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *strdupf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strdupvf(fmt, ap);
        va_end(ap);
        return s;
}
