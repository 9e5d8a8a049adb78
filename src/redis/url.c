/* SPDX-License-Identifier: MIT */
/* Where Redis is: URL parsing, the --redis / REDIS_URL / default choice, the password credential. */

#include <ctype.h>
#include <stdio.h>

#include "redis/sentinel.h"
#include "redis/url.h"
#include "util/secret.h"
#include "util/util.h"

#define REDIS_DB_MAX 100000

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Copy [s, s+n) decoding %XX escapes; NUL bytes are refused. */
static int percent_decode(const char *s, size_t n, char **ret) {
        _cleanup_free_ char *out = malloc(n + 1);
        size_t k = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '%') {
                        int a, b;
                        if (i + 2 >= n)
                                return -EINVAL;
                        a = unhex(s[i + 1]);
                        b = unhex(s[i + 2]);
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return -EINVAL;
                        out[k++] = (char) (a * 16 + b);
                        i += 2;
                } else
                        out[k++] = s[i];
        }
        out[k] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int parse_db(const char *s, size_t n, unsigned *ret) {
        char buf[16];

        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = 0;
        if (parse_unsigned(buf, ret) < 0 || *ret > REDIS_DB_MAX)
                return -EINVAL;
        return 0;
}

static int parse_unix(const char *rest, RedisURL *u, const char **ret_reason) {
        const char *q = strchr(rest, '?');
        size_t plen = q ? (size_t) (q - rest) : strlen(rest);

        if (plen == 0 || rest[0] != '/') {
                *ret_reason = "unix socket URL needs an absolute path: unix:///run/redis/redis.sock";
                return -EINVAL;
        }
        if (percent_decode(rest, plen, &u->path) < 0) {
                *ret_reason = "bad %-escape in the socket path";
                return -EINVAL;
        }
        for (const char *p = q ? q + 1 : NULL; p && *p;) {
                const char *amp = strchrnul(p, '&');
                size_t l = (size_t) (amp - p);

                if (l > 3 && !strncmp(p, "db=", 3)) {
                        if (parse_db(p + 3, l - 3, &u->db) < 0) {
                                *ret_reason = "db= must be a database number (0, 1, ...)";
                                return -EINVAL;
                        }
                } else if (l > 5 && !strncmp(p, "user=", 5)) {
                        free(u->username);
                        u->username = NULL;
                        if (percent_decode(p + 5, l - 5, &u->username) < 0) {
                                *ret_reason = "bad %-escape in the user name";
                                return -EINVAL;
                        }
                } else if (l > 9 && !strncmp(p, "password=", 9)) {
                        free(u->password);
                        u->password = NULL;
                        if (percent_decode(p + 9, l - 9, &u->password) < 0) {
                                *ret_reason = "bad %-escape in the password";
                                return -EINVAL;
                        }
                } else {
                        *ret_reason = "unknown unix socket URL parameter (allowed: db=N, user=U, password=P)";
                        return -EINVAL;
                }
                p = *amp ? amp + 1 : amp;
        }
        return 0;
}

static int parse_tcp(const char *rest, RedisURL *u, const char **ret_reason) {
        const char *at, *hostport, *slash, *colon, *hend;

        /* authority ends at the first '/'; userinfo is before its last '@' */
        slash = strchr(rest, '/');
        size_t alen = slash ? (size_t) (slash - rest) : strlen(rest);
        at = memrchr(rest, '@', alen);
        if (at) {
                const char *c = memchr(rest, ':', (size_t) (at - rest));
                if (!c) {
                        *ret_reason = "credentials must be written :password@ or user:password@";
                        return -EINVAL;
                }
                if (c > rest && percent_decode(rest, (size_t) (c - rest), &u->username) < 0) {
                        *ret_reason = "bad %-escape in the user name";
                        return -EINVAL;
                }
                if (percent_decode(c + 1, (size_t) (at - c - 1), &u->password) < 0) {
                        *ret_reason = "bad %-escape in the password";
                        return -EINVAL;
                }
                if (u->password[0] == 0) {
                        free(u->password);
                        u->password = NULL;
                }
                hostport = at + 1;
        } else
                hostport = rest;

        size_t hplen = (size_t) ((rest + alen) - hostport);
        if (hplen > 0 && hostport[0] == '[') { /* [::1]:6379 */
                hend = memchr(hostport, ']', hplen);
                if (!hend) {
                        *ret_reason = "IPv6 address is missing its closing ]";
                        return -EINVAL;
                }
                u->host = strndup(hostport + 1, (size_t) (hend - hostport - 1));
                colon = hend + 1 < hostport + hplen && hend[1] == ':' ? hend + 1 : NULL;
                if (!colon && hend + 1 != hostport + hplen) {
                        *ret_reason = "unexpected text after the IPv6 address";
                        return -EINVAL;
                }
        } else {
                colon = memchr(hostport, ':', hplen);
                hend = colon ? colon : hostport + hplen;
                u->host = strndup(hostport, (size_t) (hend - hostport));
        }
        if (!u->host)
                return -ENOMEM;
        if (u->host[0] == 0) {
                free(u->host);
                u->host = strdup("127.0.0.1");
                if (!u->host)
                        return -ENOMEM;
        }
        for (const char *p = u->host; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(".-_:", *p)) {
                        *ret_reason = "host name has characters that are not allowed";
                        return -EINVAL;
                }

        u->port = 6379;
        if (colon) {
                char buf[8];
                size_t l = (size_t) ((hostport + hplen) - colon - 1);
                if (l == 0 || l >= sizeof buf) {
                        *ret_reason = "port must be a number from 1 to 65535";
                        return -EINVAL;
                }
                memcpy(buf, colon + 1, l);
                buf[l] = 0;
                if (parse_unsigned(buf, &u->port) < 0 || u->port == 0 || u->port > 65535) {
                        *ret_reason = "port must be a number from 1 to 65535";
                        return -EINVAL;
                }
        }

        if (slash && slash[1] != 0) {
                const char *q = strchr(slash + 1, '?');
                size_t dblen = q ? (size_t) (q - slash - 1) : strlen(slash + 1);

                if (q && !u->tls) {
                        *ret_reason = "query parameters are not supported in redis:// URLs";
                        return -EINVAL;
                }
                if (q && strcmp(q + 1, "verify=none") != 0) {
                        *ret_reason = "unknown rediss:// URL parameter (allowed: verify=none)";
                        return -EINVAL;
                }
                u->tls_no_verify = q;
                if (dblen > 0 && parse_db(slash + 1, dblen, &u->db) < 0) {
                        *ret_reason = "the path must be a database number: redis://host:6379/0";
                        return -EINVAL;
                }
        }
        return 0;
}

int redis_url_parse(const char *s, RedisURL *ret, const char **ret_reason) {
        RedisURL u = {};
        int r;

        if (!s || strlen(s) > REDIS_URL_MAX) {
                *ret_reason = "URL is empty or too long";
                return -EINVAL;
        }
        if (!strncmp(s, "redis://", 8))
                r = parse_tcp(s + 8, &u, ret_reason);
        else if (!strncmp(s, "rediss://", 9)) {
                u.tls = true;
                r = parse_tcp(s + 9, &u, ret_reason);
        } else if (!strncmp(s, "unix://", 7))
                r = parse_unix(s + 7, &u, ret_reason);
        else if (!strncmp(s, REDIS_SENTINEL_SCHEME, strlen(REDIS_SENTINEL_SCHEME)))
                r = redis_sentinel_url_parse(s + strlen(REDIS_SENTINEL_SCHEME), &u, ret_reason);
        else if (!strncmp(s, REDISS_SENTINEL_SCHEME, strlen(REDISS_SENTINEL_SCHEME))) {
                u.tls = true;
                r = redis_sentinel_url_parse(s + strlen(REDISS_SENTINEL_SCHEME), &u, ret_reason);
        } else {
                *ret_reason = "URL must start with redis://, rediss://, unix://, redis+sentinel:// or rediss+sentinel://";
                r = -EINVAL;
        }
        if (r < 0) {
                redis_url_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

const char *redis_url_pick(const char *explicit_url) {
        const char *e;

        if (explicit_url)
                return explicit_url;
        e = getenv("REDIS_URL");
        if (e && *e)
                return e;
        return REDIS_URL_DEFAULT;
}

int redis_url_read_password(const char *path, char **ret) {
        _cleanup_free_ char *pw = NULL;
        size_t n;
        int r;

        r = read_full_file(path, REDIS_PASSWORD_FILE_MAX, &pw, &n);
        if (r < 0)
                return r;
        while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
                pw[--n] = 0;
        if (n == 0 || memchr(pw, 0, n))
                return -EINVAL;
        *ret = TAKE_PTR(pw);
        return 0;
}

/* The sentinels' password from the credential "redis-sentinel-password", if the URL has none. */
static int load_sentinel_credential(RedisURL *u, const char *dir) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!u->sentinels || u->sentinels->password)
                return 0;
        path = strdupf("%s/redis-sentinel-password", dir);
        if (!path)
                return -ENOMEM;
        r = redis_url_read_password(path, &u->sentinels->password);
        return r == -ENOENT ? 0 : r;
}

int redis_url_load_credential(RedisURL *u) {
        _cleanup_free_ char *path = NULL;
        const char *dir;
        int r;

        dir = getenv("CREDENTIALS_DIRECTORY");
        if (!dir || !*dir)
                return 0;
        r = load_sentinel_credential(u, dir);
        if (r < 0)
                return r;
        if (u->password)
                return 0;
        path = strdupf("%s/redis-password", dir);
        if (!path)
                return -ENOMEM;
        r = redis_url_read_password(path, &u->password);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

const char *redis_url_describe(const RedisURL *u, char *buf, size_t n) {
        if (u->sentinels)
                snprintf(buf, n, "master \"%s\" of the sentinels at %s:%u%s", u->sentinels->master,
                         u->sentinels->hosts[0], u->sentinels->ports[0], u->sentinels->n > 1 ? ",..." : "");
        else if (u->path)
                snprintf(buf, n, "%s", u->path);
        else if (strchr(u->host, ':'))
                snprintf(buf, n, "[%s]:%u", u->host, u->port);
        else
                snprintf(buf, n, "%s:%u", u->host, u->port);
        return buf;
}

char *redis_url_mask(const char *url) {
        /* A mask is at most strlen(SECRET_MASK) bytes for every byte of the secret it hides. */
        size_t size = strlen(url) * strlen(SECRET_MASK) + 1;
        char *m = malloc(size);

        if (m)
                (void) secret_mask(url, m, size);
        return m;
}

int redis_url_copy(const RedisURL *u, RedisURL *ret) {
        *ret = (RedisURL) { .port = u->port, .db = u->db, .tls = u->tls, .tls_no_verify = u->tls_no_verify };
        if ((u->host && !(ret->host = strdup(u->host))) || (u->path && !(ret->path = strdup(u->path))) ||
            (u->username && !(ret->username = strdup(u->username))) ||
            (u->password && !(ret->password = strdup(u->password))) ||
            (u->sentinels && redis_sentinels_copy(u->sentinels, &ret->sentinels) < 0)) {
                redis_url_done(ret);
                return -ENOMEM;
        }
        return 0;
}

void redis_url_done(RedisURL *u) {
        u->sentinels = redis_sentinels_free(u->sentinels);
        free(u->host);
        free(u->path);
        free(u->username);
        if (u->password) {
                explicit_bzero(u->password, strlen(u->password));
                free(u->password);
        }
        *u = (RedisURL) {};
}
