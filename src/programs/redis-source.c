/* SPDX-License-Identifier: MIT */
/* Where the services' Redis is, for the tools an administrator runs by hand: the same URL and
 * password as jobs-worker.service and the timers' services, and where each was found. */

#include <stdarg.h>

#include "config.h"
#include "engine/worker-config.h"
#include "programs/redis-source.h"

const char *redis_source_sysconfdir(void) {
        const char *e = getenv("JOBS_SYSCONFDIR");

        return e && e[0] == '/' ? e : JOBS_SYSCONFDIR;
}

static int note(RedisSource *s, const char *fmt, ...) _printf_(2, 3);
static int note(RedisSource *s, const char *fmt, ...) {
        va_list ap;
        char *n;

        if (s->n_notes >= REDIS_SOURCE_NOTES_MAX)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(&n, fmt, ap) < 0)
                n = NULL;
        va_end(ap);
        if (!n)
                return -ENOMEM;
        s->notes[s->n_notes++] = n;
        return 0;
}

/* Keep url and where it came from (origin is taken over). 1, or -ENOMEM. */
static int take(RedisSource *s, const char *url, char *origin) {
        s->url = strdup(url);
        s->origin = origin;
        return s->url && s->origin ? 1 : -ENOMEM;
}

/* Redis= of worker.conf, as jobs-worker reads it. 1 found, 0 not there (maybe with a note). */
static int from_worker_conf(RedisSource *s, const char *etc) {
        _cleanup_(worker_config_done) WorkerConfig c = {};
        _cleanup_free_ char *path = strdupf("%s/jobs/worker.conf", etc), *error = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        worker_config_init(&c);
        r = worker_config_load(&c, path, &error);
        if (r == -ENOENT)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return note(s, "%s skipped: %s", path, error ? error : strerror(-r));
        if (!c.redis_url)
                return 0;
        return take(s, c.redis_url, strdupf("%s (Redis=)", path));
}

/* Strip one pair of matching quotes, as systemd's EnvironmentFile= does for simple values. */
static char *unquote(char *v) {
        size_t n = strlen(v);

        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                v[n - 1] = 0;
                return v + 1;
        }
        return v;
}

/* REDIS_URL= of /etc/default/jobs, the EnvironmentFile= of the worker and the timers' services.
 * The last assignment wins, as there. */
static int from_defaults_file(RedisSource *s, const char *etc) {
        _cleanup_free_ char *path = strdupf("%s/default/jobs", etc), *text = NULL, *found = NULL;
        char *line, *save = NULL;
        size_t n;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, REDIS_SOURCE_FILE_MAX, &text, &n);
        if (r == -ENOENT)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return note(s, "%s skipped: %s", path, strerror(-r));
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = strstrip(line);

                if (!l[0] || l[0] == '#' || l[0] == ';' || strncmp(l, "REDIS_URL", 9) != 0)
                        continue;
                l = strstrip(l + 9);
                if (l[0] != '=')
                        continue;
                free(found);
                found = strdup(unquote(strstrip(l + 1)));
                if (!found)
                        return -ENOMEM;
        }
        if (!found || !found[0])
                return 0;
        return take(s, found, strdupf("%s (REDIS_URL=)", path));
}

int redis_source_find(RedisSource *s, const char *explicit_url) {
        const char *etc = redis_source_sysconfdir(), *e = getenv("REDIS_URL");
        int r;

        if (explicit_url)
                return take(s, explicit_url, strdup("--redis")) < 0 ? -ENOMEM : 0;
        if (e && e[0])
                return take(s, e, strdup("$REDIS_URL")) < 0 ? -ENOMEM : 0;
        r = from_worker_conf(s, etc);
        if (r == 0)
                r = from_defaults_file(s, etc);
        if (r == 0)
                r = take(s, REDIS_URL_DEFAULT, strdup("the default"));
        return r < 0 ? r : 0;
}

int redis_source_load_password(RedisSource *s, RedisURL *u) {
        _cleanup_free_ char *path = NULL;
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        int r;

        if (u->password) {
                free(s->password_origin);
                s->password_origin = strdup("the URL");
                return s->password_origin ? 0 : -ENOMEM;
        }
        /* A service's LoadCredential=redis-password:..., as the worker reads it. */
        if (dir && dir[0]) {
                path = strdupf("%s/redis-password", dir);
                if (!path)
                        return -ENOMEM;
                r = redis_url_read_password(path, &u->password);
                if (r != -ENOENT)
                        goto done;
                free(TAKE_PTR(path));
        }
        /* By hand: the file that LoadCredential= names in the documented setup. Unreadable (not
         * root) is not an error: the URL may not need a password. */
        path = strdupf("%s/jobs/redis-password", redis_source_sysconfdir());
        if (!path)
                return -ENOMEM;
        r = redis_url_read_password(path, &u->password);
        if (r == -ENOENT)
                return 0;
        if (r == -EACCES || r == -EPERM)
                return note(s, "%s not readable (permission denied)", path);
done:
        /* Named on failure too, for the caller's message. */
        free(s->password_origin);
        s->password_origin = TAKE_PTR(path);
        return r < 0 ? r : 1;
}

char *redis_source_describe(const RedisSource *s) {
        _cleanup_free_ char *masked = redis_url_mask(s->url);

        if (!masked)
                return NULL;
        return strdupf("%s (from %s%s%s)", masked, s->origin, s->password_origin ? "; password from " : "",
                       strempty(s->password_origin));
}

void redis_source_done(RedisSource *s) {
        if (s->url) {
                explicit_bzero(s->url, strlen(s->url));
                free(s->url);
        }
        free(s->origin);
        free(s->password_origin);
        for (size_t i = 0; i < s->n_notes; i++)
                free(s->notes[i]);
        *s = (RedisSource) {};
}
