/* SPDX-License-Identifier: MIT */
/* One Redis connection as a byte transport: non-blocking socket, optional TLS, hiredis' reader. */

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "redis/conn.h"
#include "redis/redis-tls.h"

#define REDIS_CONN_READ_CHUNK (16 * 1024)

typedef enum ConnState {
        CONN_CONNECTING,
        CONN_HANDSHAKE,
        CONN_READY,
        CONN_FAILED,
} ConnState;

struct RedisConn {
        int fd;
        ConnState state;
        int failure;          /* negative errno once failed */
        RedisTLS *tls;        /* rediss:// only */
        redisReader *reader;
        char *out;            /* queued commands; [out_pos, out_len) not yet written */
        size_t out_len, out_pos, out_cap;
        uint32_t write_wait;  /* events a blocked write waits for, 0 if none */
        uint32_t read_wait;   /* events the next read waits for (TLS may need EPOLLOUT) */
        char error[512];
};

static int conn_fail(RedisConn *c, int r) {
        if (c->state != CONN_FAILED) {
                c->state = CONN_FAILED;
                c->failure = r;
                if (!c->error[0])
                        snprintf(c->error, sizeof c->error, "%s", strerror(-r));
        }
        return c->failure;
}

static int connect_unix(const char *path, int *ret_fd, char *err, size_t errlen) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof sa.sun_path) {
                snprintf(err, errlen, "socket path is longer than %zu bytes", sizeof sa.sun_path - 1);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)) {
                int e = errno;
                snprintf(err, errlen, "%s", strerror(e));
                return -e;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* As hiredis 0.14: IPv4 addresses first, IPv6 if the name has none; the first address whose
 * connect() does not fail at once. */
static int connect_tcp(const char *host, unsigned port, int *ret_fd, char *err, size_t errlen) {
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
        char service[8];
        int r, e = EHOSTUNREACH;

        snprintf(service, sizeof service, "%u", port);
        r = getaddrinfo(host, service, &hints, &res);
        if (r != 0) {
                hints.ai_family = AF_INET6;
                r = getaddrinfo(host, service, &hints, &res);
        }
        if (r != 0) {
                snprintf(err, errlen, "%s", r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
                return -EHOSTUNREACH;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

                if (fd < 0) {
                        e = errno;
                        continue;
                }
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
                        freeaddrinfo(res);
                        *ret_fd = fd;
                        return 0;
                }
                e = errno;
                close(fd);
        }
        freeaddrinfo(res);
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
}

int redis_conn_new(const RedisURL *u, RedisConn **ret, char *err, size_t errlen) {
        _cleanup_(redis_conn_freep) RedisConn *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->read_wait = EPOLLIN;
        c->reader = redisReaderCreate();
        if (!c->reader)
                return -ENOMEM;
        r = u->path ? connect_unix(u->path, &c->fd, err, errlen) : connect_tcp(u->host, u->port, &c->fd, err, errlen);
        if (r < 0)
                return r;
        if (u->tls && !u->path) {
                r = redis_tls_new(u, c->fd, &c->tls, err, errlen);
                if (r < 0)
                        return r;
        }
        c->state = CONN_CONNECTING;
        *ret = TAKE_PTR(c);
        return 0;
}

RedisConn *redis_conn_free(RedisConn *c) {
        if (!c)
                return NULL;
        redis_tls_free(c->tls);
        if (c->fd >= 0)
                close(c->fd);
        if (c->reader)
                redisReaderFree(c->reader);
        free(c->out);
        free(c);
        return NULL;
}

int redis_conn_fd(const RedisConn *c) {
        return c->fd;
}

int redis_conn_append(RedisConn *c, const char *cmd, size_t len) {
        if (c->out_len + len > c->out_cap) {
                size_t cap = MAX(c->out_cap * 2, c->out_len + len);
                char *p;

                /* drop what was written before growing */
                if (c->out_pos > 0) {
                        memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
                        c->out_len -= c->out_pos;
                        c->out_pos = 0;
                }
                if (c->out_len + len > c->out_cap) {
                        p = realloc(c->out, MAX(cap, (size_t) 1024));
                        if (!p)
                                return -ENOMEM;
                        c->out = p;
                        c->out_cap = MAX(cap, (size_t) 1024);
                }
        }
        memcpy(c->out + c->out_len, cmd, len);
        c->out_len += len;
        return 0;
}

int redis_conn_appendv(RedisConn *c, const char *fmt, va_list ap) {
        char *cmd = NULL;
        int n, r;

        n = redisvFormatCommand(&cmd, fmt, ap);
        if (n == -1)
                return -ENOMEM;
        if (n < 0)
                return -EINVAL;
        r = redis_conn_append(c, cmd, (size_t) n);
        free(cmd);
        return r;
}

int redis_conn_appendf(RedisConn *c, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = redis_conn_appendv(c, fmt, ap);
        va_end(ap);
        return r;
}

int redis_conn_append_argv(RedisConn *c, int argc, const char **argv, const size_t *argvlen) {
        char *cmd = NULL;
        int n, r;

        n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
        if (n < 0)
                return -ENOMEM;
        r = redis_conn_append(c, cmd, (size_t) n);
        free(cmd);
        return r;
}

/* Finish connecting and the TLS handshake as far as the socket allows. */
static int conn_advance(RedisConn *c) {
        if (c->state == CONN_CONNECTING) {
                struct pollfd p = { .fd = c->fd, .events = POLLOUT };
                int e = 0;
                socklen_t l = sizeof e;

                if (poll(&p, 1, 0) <= 0)
                        return 0;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
                        e = errno;
                if (e != 0)
                        return conn_fail(c, -e);
                c->state = c->tls ? CONN_HANDSHAKE : CONN_READY;
        }
        if (c->state == CONN_HANDSHAKE) {
                int r = redis_tls_handshake(c->tls, c->error, sizeof c->error);
                if (r == -EAGAIN)
                        return 0;
                if (r < 0)
                        return conn_fail(c, r);
                c->state = CONN_READY;
        }
        return 0;
}

static int conn_write(RedisConn *c) {
        while (c->out_pos < c->out_len) {
                const char *p = c->out + c->out_pos;
                size_t n = c->out_len - c->out_pos;
                ssize_t k;

                if (c->tls)
                        k = redis_tls_write(c->tls, p, n, c->error, sizeof c->error);
                else {
                        k = send(c->fd, p, n, MSG_NOSIGNAL);
                        if (k < 0)
                                k = -errno;
                }
                if (k == -EAGAIN) {
                        c->write_wait = c->tls ? redis_tls_events(c->tls) : EPOLLOUT;
                        return 0;
                }
                if (k < 0)
                        return conn_fail(c, (int) k);
                c->out_pos += (size_t) k;
        }
        c->out_pos = c->out_len = 0;
        c->write_wait = 0;
        return 0;
}

static int conn_read(RedisConn *c) {
        char buf[REDIS_CONN_READ_CHUNK];

        for (;;) {
                ssize_t k;

                if (c->tls)
                        k = redis_tls_read(c->tls, buf, sizeof buf, c->error, sizeof c->error);
                else {
                        k = recv(c->fd, buf, sizeof buf, 0);
                        if (k < 0)
                                k = -errno;
                }
                if (k == -EAGAIN) {
                        c->read_wait = c->tls ? redis_tls_events(c->tls) : EPOLLIN;
                        return 0;
                }
                if (k == -EINTR)
                        continue;
                if (k == 0) {
                        snprintf(c->error, sizeof c->error, "Server closed the connection");
                        return conn_fail(c, -ECONNRESET);
                }
                if (k < 0)
                        return conn_fail(c, (int) k);
                c->read_wait = EPOLLIN;
                if (redisReaderFeed(c->reader, buf, (size_t) k) != REDIS_OK) {
                        snprintf(c->error, sizeof c->error, "Protocol error: %s", c->reader->errstr);
                        return conn_fail(c, -EPROTO);
                }
                /* a short plain read drained the socket; TLS may hold decrypted bytes: read on */
                if (!c->tls && (size_t) k < sizeof buf)
                        return 0;
        }
}

int redis_conn_flush(RedisConn *c) {
        int r;

        if (c->state == CONN_FAILED)
                return c->failure;
        r = conn_advance(c);
        if (r < 0 || c->state != CONN_READY)
                return r;
        return conn_write(c);
}

int redis_conn_process(RedisConn *c) {
        int r;

        r = redis_conn_flush(c);
        if (r < 0 || c->state != CONN_READY)
                return r;
        return conn_read(c);
}

int redis_conn_take_reply(RedisConn *c, redisReply **ret) {
        void *reply = NULL;

        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
                snprintf(c->error, sizeof c->error, "Protocol error: %s", c->reader->errstr);
                return conn_fail(c, -EPROTO);
        }
        if (!reply)
                return 0;
        *ret = reply;
        return 1;
}

uint32_t redis_conn_events(const RedisConn *c) {
        switch (c->state) {
        case CONN_CONNECTING:
                return EPOLLOUT;
        case CONN_HANDSHAKE:
                return redis_tls_events(c->tls);
        case CONN_READY:
                return c->read_wait | c->write_wait;
        default:
                return 0;
        }
}

int redis_conn_wait(RedisConn *c, usec_t timeout) {
        uint32_t ev = redis_conn_events(c);
        struct pollfd p = { .fd = c->fd, .events = (short) ((ev & EPOLLIN ? POLLIN : 0) | (ev & EPOLLOUT ? POLLOUT : 0)) };
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;

        if (c->state == CONN_FAILED)
                return c->failure;
        for (;;) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                int n;

                if (now >= deadline)
                        return -ETIMEDOUT;
                n = poll(&p, 1, (int) MIN((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) INT32_MAX));
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

bool redis_conn_is_ready(const RedisConn *c) {
        return c->state == CONN_READY;
}

bool redis_conn_has_output(const RedisConn *c) {
        return c->out_pos < c->out_len;
}

const char *redis_conn_error(const RedisConn *c) {
        return c->error;
}
