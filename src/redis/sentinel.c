/* SPDX-License-Identifier: MIT */
/* Redis Sentinel: the URL form, and finding the master through the sentinels (see sentinel.h). */

#include <ctype.h>
#include <stdio.h>

#include "redis/redis-tls.h"
#include "redis/sentinel.h"

RedisSentinels *redis_sentinels_free(RedisSentinels *s) {
        if (!s)
                return NULL;
        free(s->master);
        for (size_t i = 0; i < s->n; i++)
                free(s->hosts[i]);
        free(s->username);
        if (s->password) {
                explicit_bzero(s->password, strlen(s->password));
                free(s->password);
        }
        free(s);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(RedisSentinels *, redis_sentinels_free);

int redis_sentinels_copy(const RedisSentinels *s, RedisSentinels **ret) {
        _cleanup_(redis_sentinels_freep) RedisSentinels *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c || !(c->master = strdup(s->master)) || (s->username && !(c->username = strdup(s->username))) ||
            (s->password && !(c->password = strdup(s->password))))
                return -ENOMEM;
        for (; c->n < s->n; c->n++) {
                c->hosts[c->n] = strdup(s->hosts[c->n]);
                if (!c->hosts[c->n])
                        return -ENOMEM;
                c->ports[c->n] = s->ports[c->n];
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* Parse "redis://" PREFIX TEXT SUFFIX with the plain URL parser: the same host, port, %-escape and
 * database rules as a redis:// URL. */
static int parse_as_tcp(const char *prefix, const char *text, size_t n, const char *suffix, RedisURL *ret,
                        const char **ret_reason) {
        _cleanup_free_ char *s = strdupf("redis://%s%.*s%s", prefix, (int) n, text, suffix);

        if (!s)
                return -ENOMEM;
        return redis_url_parse(s, ret, ret_reason);
}

/* One "host[:port]" of the list. */
static int parse_sentinel(RedisSentinels *s, const char *item, size_t n, const char **ret_reason) {
        _cleanup_(redis_url_done) RedisURL one = {};
        const char *end = item + n, *v6 = memchr(item, ']', n);
        bool has_port = memchr(v6 ? v6 : item, ':', (size_t) (end - (v6 ? v6 : item))) != NULL;
        int r;

        if (n == 0) {
                *ret_reason = "empty sentinel address in the list (write host:port,host:port)";
                return -EINVAL;
        }
        if (s->n >= REDIS_SENTINELS_MAX) {
                *ret_reason = "too many sentinels (at most 16)";
                return -EINVAL;
        }
        r = parse_as_tcp("", item, n, "", &one, ret_reason);
        if (r < 0)
                return r;
        s->hosts[s->n] = TAKE_PTR(one.host);
        s->ports[s->n++] = has_port ? one.port : REDIS_SENTINEL_PORT_DEFAULT;
        return 0;
}

static int parse_query(RedisSentinels *s, RedisURL *u, const char *q, const char **ret_reason) {
        for (const char *p = q; p && *p;) {
                const char *amp = strchrnul(p, '&'), *eq = memchr(p, '=', (size_t) (amp - p));
                _cleanup_(redis_url_done) RedisURL one = {};
                bool user;
                int r;

                /* as in rediss:// URLs: no certificate or name check, for the sentinels and the master */
                if ((size_t) (amp - p) == 11 && !strncmp(p, "verify=none", 11)) {
                        if (!u->tls) {
                                *ret_reason = "verify=none is for TLS: rediss+sentinel://...?verify=none";
                                return -EINVAL;
                        }
                        u->tls_no_verify = true;
                        p = *amp ? amp + 1 : amp;
                        continue;
                }
                if (!eq || !((user = (size_t) (eq - p) == 17 && !strncmp(p, "sentinel_username", 17)) ||
                             ((size_t) (eq - p) == 17 && !strncmp(p, "sentinel_password", 17)))) {
                        *ret_reason = "unknown sentinel URL parameter (allowed: sentinel_password=P, sentinel_username=U, "
                                      "and verify=none with rediss+sentinel://)";
                        return -EINVAL;
                }
                /* the value, %-decoded as a password of a redis:// URL */
                r = parse_as_tcp(":", eq + 1, (size_t) (amp - eq - 1), "@localhost", &one, ret_reason);
                if (r < 0 || !one.password) {
                        *ret_reason = user ? "bad or empty sentinel_username=" : "bad or empty sentinel_password=";
                        return -EINVAL;
                }
                if (user) {
                        free(s->username);
                        s->username = TAKE_PTR(one.password);
                } else {
                        free(s->password);
                        s->password = TAKE_PTR(one.password);
                }
                p = *amp ? amp + 1 : amp;
        }
        return 0;
}

int redis_sentinel_url_parse(const char *rest, RedisURL *u, const char **ret_reason) {
        _cleanup_(redis_sentinels_freep) RedisSentinels *s = NULL;
        _cleanup_free_ char *copy = strdup(rest);
        _cleanup_(redis_url_done) RedisURL auth = {}, dbu = {};
        char *query, *slash, *at, *hosts, *master, *db;
        int r;

        s = calloc(1, sizeof *s);
        if (!copy || !s)
                return -ENOMEM;
        query = strchr(copy, '?');
        if (query)
                *query++ = 0;
        slash = strchr(copy, '/');
        if (!slash || slash[1] == 0) {
                *ret_reason = "a sentinel URL names the master after the sentinels: "
                              "redis+sentinel://host:26379,host:26379/mymaster[/db]";
                return -EINVAL;
        }
        *slash = 0;
        master = slash + 1;
        db = strchr(master, '/');
        if (db)
                *db++ = 0;
        for (const char *p = master; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(".-_", *p)) {
                        *ret_reason = "the master name may only have letters, digits, '.', '-' and '_'";
                        return -EINVAL;
                }
        if (strlen(master) > REDIS_SENTINEL_MASTER_MAX) {
                *ret_reason = "the master name is longer than 255 characters";
                return -EINVAL;
        }
        s->master = strdup(master);
        if (!s->master)
                return -ENOMEM;
        if (db && *db) {
                r = parse_as_tcp("localhost/", db, strlen(db), "", &dbu, ret_reason);
                if (r < 0)
                        return r;
                u->db = dbu.db;
        }

        /* Credentials (for the master) before the last '@', as in redis:// URLs. */
        at = strrchr(copy, '@');
        hosts = at ? at + 1 : copy;
        if (at) {
                r = parse_as_tcp("", copy, (size_t) (at - copy + 1), "localhost", &auth, ret_reason);
                if (r < 0)
                        return r;
                u->username = TAKE_PTR(auth.username);
                u->password = TAKE_PTR(auth.password);
        }
        for (char *p = hosts;;) {
                char *comma = strchrnul(p, ',');
                r = parse_sentinel(s, p, (size_t) (comma - p), ret_reason);
                if (r < 0)
                        return r;
                if (!*comma)
                        break;
                p = comma + 1;
        }
        r = parse_query(s, u, query, ret_reason);
        if (r < 0)
                return r;
        u->sentinels = TAKE_PTR(s);
        return 0;
}

int redis_sentinel_check_role(const redisReply *reply, char *error, size_t n) {
        const redisReply *role;

        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
            (role = reply->element[0])->type != REDIS_REPLY_STRING) {
                snprintf(error, n, "it gave no role (ROLE: %s)",
                         reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
                return -EAGAIN;
        }
        if (streq(role->str, "master"))
                return 0;
        snprintf(error, n, "it is a %.32s, not the master: a failover is under way", role->str);
        return -EAGAIN;
}

/* A sentinel's TLS setup or certificate was refused: the configuration is wrong, not the network. */
static bool is_config_error(int r) {
        return r == -REDIS_TLS_EVERIFY || r == -REDIS_TLS_EREFUSED || r == -EINVAL;
}

/* What a caller tells apart: TLS refusals (a configuration error), memory; the rest is "that
 * sentinel cannot be asked". */
static int sentinel_errno(int r) {
        return is_config_error(r) || r == -ENOMEM ? r : -EHOSTUNREACH;
}

int redis_sentinel_query_start(RedisSentinelQuery *q, const RedisURL *u, size_t i, char *error, size_t n) {
        const RedisSentinels *s = u->sentinels;
        /* The sentinel itself: its host for the TLS name check, the URL's TLS settings; its own
         * AUTH is queued below, the master's password is not sent to it. */
        RedisURL su = { .host = s->hosts[i], .port = s->ports[i], .tls = u->tls, .tls_no_verify = u->tls_no_verify };
        char why[512] = "";
        int r;

        *q = (RedisSentinelQuery) { .url = u, .index = i };
        r = redis_conn_new(&su, &q->conn, why, sizeof why);
        if (r < 0) {
                snprintf(error, n, "sentinel %s:%u: %s", s->hosts[i], s->ports[i], why[0] ? why : strerror(-r));
                return sentinel_errno(r);
        }
        if (s->password) {
                r = s->username ? redis_conn_appendf(q->conn, "AUTH %s %s", s->username, s->password)
                                : redis_conn_appendf(q->conn, "AUTH %s", s->password);
                q->auth_pending = true;
        }
        if (r >= 0)
                r = redis_conn_appendf(q->conn, "SENTINEL get-master-addr-by-name %s", s->master);
        if (r < 0) {
                snprintf(error, n, "out of memory");
                redis_sentinel_query_done(q);
        }
        return r;
}

int redis_sentinel_query_start_any(RedisSentinelQuery *q, const RedisURL *u, size_t from, size_t count, char *error,
                                   size_t n) {
        int r = -EHOSTUNREACH;

        snprintf(error, n, "no sentinel to ask");
        for (size_t k = 0; k < count && r != -ENOMEM; k++) {
                r = redis_sentinel_query_start(q, u, (from + k) % u->sentinels->n, error, n);
                if (r >= 0)
                        return 0;
        }
        return r;
}

void redis_sentinel_query_done(RedisSentinelQuery *q) {
        q->conn = redis_conn_free(q->conn);
}

void redis_sentinel_query_timed_out(const RedisSentinelQuery *q, usec_t timeout, char *error, size_t n) {
        const RedisSentinels *s = q->url->sentinels;
        char d[DURATION_MAX];

        snprintf(error, n, "sentinel %s:%u did not answer within %s", s->hosts[q->index], s->ports[q->index],
                 format_duration(d, sizeof d, timeout));
}

/* The answer to SENTINEL get-master-addr-by-name: 1 with *ret, or a negative errno. */
static int read_answer(RedisSentinelQuery *q, const redisReply *reply, RedisURL *ret, char *error, size_t n) {
        const RedisSentinels *s = q->url->sentinels;
        const char *host = s->hosts[q->index];
        unsigned sport = s->ports[q->index], port;
        char *master;
        int r;

        if (reply->type == REDIS_REPLY_ERROR) {
                snprintf(error, n, "sentinel %s:%u: %s", host, sport, reply->str);
                return -EHOSTUNREACH;
        }
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_STRING || parse_unsigned(reply->element[1]->str, &port) < 0 ||
            port == 0 || port > 65535) {
                snprintf(error, n, "sentinel %s:%u does not know a master named \"%s\" (check the name after the "
                         "sentinels in the URL)", host, sport, s->master);
                return -ENOENT;
        }
        master = strdup(reply->element[0]->str);
        /* The same URL, every setting kept (TLS too), now naming the master itself. */
        r = master ? redis_url_copy(q->url, ret) : -ENOMEM;
        if (r < 0) {
                free(master);
                snprintf(error, n, "out of memory");
                return r;
        }
        free(ret->host);
        ret->host = master;
        ret->port = port;
        ret->sentinels = redis_sentinels_free(ret->sentinels);
        return 1;
}

int redis_sentinel_query_step(RedisSentinelQuery *q, RedisURL *ret, char *error, size_t n) {
        const RedisSentinels *s = q->url->sentinels;
        redisReply *reply;
        int k, r;

        k = redis_conn_process(q->conn);
        /* A reply that came before a failure still counts. */
        while ((r = redis_conn_take_reply(q->conn, &reply)) > 0) {
                if (q->auth_pending) {
                        q->auth_pending = false;
                        if (reply->type == REDIS_REPLY_ERROR) {
                                snprintf(error, n, "sentinel %s:%u refused the password: %s", s->hosts[q->index],
                                         s->ports[q->index], reply->str);
                                freeReplyObject(reply);
                                return -EHOSTUNREACH;
                        }
                        freeReplyObject(reply);
                        continue;
                }
                r = read_answer(q, reply, ret, error, n);
                freeReplyObject(reply);
                return r;
        }
        if (k >= 0 && r >= 0)
                return 0;
        snprintf(error, n, "sentinel %s:%u: %s", s->hosts[q->index], s->ports[q->index], redis_conn_error(q->conn));
        return sentinel_errno(k < 0 ? k : r);
}

int redis_sentinel_resolve(const RedisURL *u, usec_t timeout, RedisURL *ret, char *error, size_t n) {
        const RedisSentinels *s = u->sentinels;
        char config_error[512] = "";
        int r = -EHOSTUNREACH, config_r = 0;

        snprintf(error, n, "no sentinel to ask");
        for (size_t i = 0; i < s->n && r != -ENOMEM; i++) {
                RedisSentinelQuery q;
                usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;

                r = redis_sentinel_query_start(&q, u, i, error, n);
                while (r >= 0 && (r = redis_sentinel_query_step(&q, ret, error, n)) == 0) {
                        usec_t now = now_usec(CLOCK_MONOTONIC);
                        int k = now < deadline ? redis_conn_wait(q.conn, deadline - now) : -ETIMEDOUT;
                        if (k == -ETIMEDOUT)
                                redis_sentinel_query_timed_out(&q, timeout, error, n);
                        else if (k < 0)
                                snprintf(error, n, "sentinel %s:%u: %s", s->hosts[i], s->ports[i], strerror(-k));
                        if (k < 0) {
                                r = -EHOSTUNREACH;
                                break;
                        }
                }
                redis_sentinel_query_done(&q);
                if (r > 0)
                        return 0;
                if (is_config_error(r) && !config_r) {
                        config_r = r;
                        snprintf(config_error, sizeof config_error, "%s", error);
                }
        }
        /* A refused certificate says more than another sentinel being down after it. */
        if (config_r && r != -ENOMEM) {
                snprintf(error, n, "%s", config_error);
                return config_r;
        }
        return r;
}
