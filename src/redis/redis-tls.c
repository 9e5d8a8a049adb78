/* SPDX-License-Identifier: MIT */
/* TLS for rediss:// URLs: an OpenSSL client session on a non-blocking socket.
 *
 * Design, and why:
 * - Debian 12's hiredis (0.14.1) has no TLS and no way to plug a transport into its contexts (its
 *   redisContext reads and writes the fd itself). So the connections (conn.c) are our own: a
 *   non-blocking socket, this TLS layer when the URL says rediss://, hiredis' public protocol
 *   reader (redisReader) to parse replies and its formatter (redisvFormatCommand,
 *   redisFormatCommandArgv) to write commands. The same connection serves the blocking tools (they
 *   wait with poll() and a deadline) and the worker's sd-event loop (it waits for the events the
 *   connection asks for); plain TCP and unix sockets take the same path without this layer.
 * - Non-blocking throughout: SSL_connect/SSL_read/SSL_write return WANT_READ or WANT_WRITE, which
 *   become -EAGAIN and the epoll events to wait for (redis_tls_events()), so a slow handshake never
 *   blocks the worker's loop. SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets a retried write come from
 *   the connection's output buffer after it grew.
 * - libssl is loaded with dlopen() on the first TLS connection, not linked: loading libssl and
 *   libcrypto costs every process start several milliseconds (bench/enqueue.sh measures an empty
 *   program with and without them), and jobs-enqueue runs once per timer firing, mostly without
 *   TLS. The function pointers are typed from OpenSSL's own headers (as systemd's dlopen helpers
 *   do), so the compiler still checks every call. The handle stays open for the process's life.
 * - Verification is on by default: the system store as OpenSSL finds it
 *   (SSL_CTX_set_default_verify_paths, which honours SSL_CERT_FILE and SSL_CERT_DIR), or only the
 *   CA in the credential redis-ca when there is one; the server's name is sent (SNI) and checked
 *   against its certificate (SSL_set1_host, or the IP address for a numeric host). A client
 *   certificate and key for mutual TLS come from the credentials redis-cert and redis-key.
 *   rediss://...?verify=none skips the certificate and name checks, and only that does. */

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "redis/redis-tls.h"
#include "util/util.h"

#define LIBSSL_SONAME "libssl.so.3"

#define SSL_SYMBOLS(X)                                                                                \
        X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl) X(SSL_CTX_set_verify)     \
        X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_load_verify_locations)                          \
        X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file)                          \
        X(SSL_CTX_check_private_key) X(SSL_new) X(SSL_free) X(SSL_set_fd) X(SSL_ctrl) X(SSL_set1_host) \
        X(SSL_get0_param) X(X509_VERIFY_PARAM_set1_ip_asc) X(SSL_connect) X(SSL_read) X(SSL_write)   \
        X(SSL_get_error) X(SSL_get_verify_result) X(X509_verify_cert_error_string) X(ERR_get_error)   \
        X(ERR_reason_error_string) X(ERR_clear_error)

#define DECLARE_SYMBOL(name) static typeof(name) *sym_##name;
SSL_SYMBOLS(DECLARE_SYMBOL)

struct RedisTLS {
        SSL_CTX *ctx;
        SSL *ssl;
        char *host;
        bool verify;
        bool has_cert;  /* a client certificate was given */
        bool got_data;  /* the server sent application data: it accepted us */
        uint32_t events;
};

/* Once per process; the result (and dlerror's text) is kept for later connections. */
static int libssl_load(char *err, size_t errlen) {
        static int loaded; /* 0 not tried, 1 ok, negative failed */
        static char why[256];
        void *dl;

        if (loaded == 0) {
                dl = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        snprintf(why, sizeof why, "%s", dlerror());
                        loaded = -ELIBACC;
                } else {
                        loaded = 1;
#define LOAD_SYMBOL(name)                                                                          \
                        if (loaded > 0 && !(sym_##name = (typeof(name) *) dlsym(dl, #name))) {       \
                                snprintf(why, sizeof why, "%s has no symbol %s", LIBSSL_SONAME, #name); \
                                loaded = -ELIBBAD;                                                  \
                        }
                        SSL_SYMBOLS(LOAD_SYMBOL)
                }
        }
        if (loaded < 0)
                snprintf(err, errlen, "TLS needs OpenSSL 3 (Debian package libssl3): %s", why);
        return loaded < 0 ? loaded : 0;
}

/* The last OpenSSL error's reason, or fallback. */
static const char *ssl_reason(unsigned long e, const char *fallback) {
        const char *s = e ? sym_ERR_reason_error_string(e) : NULL;
        return s ? s : fallback;
}

static bool is_ip_address(const char *host) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* $CREDENTIALS_DIRECTORY/name if that file exists: 1 with *ret set, 0 if not, -ENOMEM. */
static int credential_path(const char *name, char **ret) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        char *p;

        *ret = NULL;
        if (!dir || !*dir)
                return 0;
        p = strdupf("%s/%s", dir, name);
        if (!p)
                return -ENOMEM;
        if (access(p, F_OK) < 0) {
                free(p);
                return 0;
        }
        *ret = p;
        return 1;
}

static int setup_context(RedisTLS *t, const RedisURL *u, char *err, size_t errlen) {
        _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;
        unsigned long e;

        if (credential_path(REDIS_TLS_CREDENTIAL_CA, &ca) < 0 ||
            credential_path(REDIS_TLS_CREDENTIAL_CERT, &cert) < 0 ||
            credential_path(REDIS_TLS_CREDENTIAL_KEY, &key) < 0)
                return -ENOMEM;
        t->ctx = sym_SSL_CTX_new(sym_TLS_client_method());
        if (!t->ctx) {
                snprintf(err, errlen, "TLS: cannot create a context: %s", ssl_reason(sym_ERR_get_error(), "?"));
                return -ENOMEM;
        }
        (void) sym_SSL_CTX_ctrl(t->ctx, SSL_CTRL_MODE,
                                SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
        (void) sym_SSL_CTX_ctrl(t->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
        t->verify = !u->tls_no_verify;
        sym_SSL_CTX_set_verify(t->ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
        if (t->verify) {
                if (ca ? sym_SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1
                       : sym_SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
                        e = sym_ERR_get_error();
                        snprintf(err, errlen, "TLS: cannot load the CA certificates from %s: %s",
                                 ca ? ca : "the system store", ssl_reason(e, "unknown error"));
                        return -EINVAL;
                }
        }
        t->has_cert = cert;
        if (cert) {
                /* the key may sit in the certificate's file */
                const char *k = key ? key : cert;
                if (sym_SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
                        e = sym_ERR_get_error();
                        snprintf(err, errlen, "TLS: cannot use the client certificate %s: %s", cert,
                                 ssl_reason(e, "unknown error"));
                        return -EINVAL;
                }
                if (sym_SSL_CTX_use_PrivateKey_file(t->ctx, k, SSL_FILETYPE_PEM) != 1 ||
                    sym_SSL_CTX_check_private_key(t->ctx) != 1) {
                        e = sym_ERR_get_error();
                        snprintf(err, errlen, "TLS: cannot use the client key %s: %s", k, ssl_reason(e, "unknown error"));
                        return -EINVAL;
                }
        } else if (key) {
                snprintf(err, errlen, "TLS: the credential %s needs the credential %s (the client certificate)",
                         REDIS_TLS_CREDENTIAL_KEY, REDIS_TLS_CREDENTIAL_CERT);
                return -EINVAL;
        }
        return 0;
}

int redis_tls_new(const RedisURL *u, int fd, RedisTLS **ret, char *err, size_t errlen) {
        RedisTLS *t;
        int r;

        if (errlen > 0)
                err[0] = 0;
        r = libssl_load(err, errlen);
        if (r < 0)
                return r;
        sym_ERR_clear_error();
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->host = strdup(u->host ? u->host : "");
        r = t->host ? setup_context(t, u, err, errlen) : -ENOMEM;
        if (r < 0)
                goto fail;
        t->ssl = sym_SSL_new(t->ctx);
        if (!t->ssl || sym_SSL_set_fd(t->ssl, fd) != 1) {
                r = -ENOMEM;
                goto fail;
        }
        /* SNI carries names only (RFC 6066 §3); an address is checked against the certificate's IPs */
        if (is_ip_address(t->host)) {
                if (t->verify && sym_X509_VERIFY_PARAM_set1_ip_asc(sym_SSL_get0_param(t->ssl), t->host) != 1)
                        r = -ENOMEM;
        } else if (sym_SSL_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, t->host) != 1 ||
                   (t->verify && sym_SSL_set1_host(t->ssl, t->host) != 1))
                r = -ENOMEM;
        if (r < 0)
                goto fail;
        *ret = t;
        return 0;
fail:
        if (r == -ENOMEM && !*err)
                snprintf(err, errlen, "TLS: out of memory");
        redis_tls_free(t);
        return r;
}

RedisTLS *redis_tls_free(RedisTLS *t) {
        if (!t)
                return NULL;
        /* no close_notify: the socket is closed next, and a shutdown could block or raise SIGPIPE */
        if (t->ssl)
                sym_SSL_free(t->ssl);
        if (t->ctx)
                sym_SSL_CTX_free(t->ctx);
        free(t->host);
        free(t);
        return NULL;
}

/* Turn a failed SSL_* call into -EAGAIN (with the events to wait for), 0 (end of stream) or a
 * negative errno with a sentence. */
static int tls_error(RedisTLS *t, int ret, char *err, size_t errlen) {
        int saved = errno;
        int code = sym_SSL_get_error(t->ssl, ret);
        unsigned long e;
        long v;

        switch (code) {
        case SSL_ERROR_WANT_READ:
                t->events = EPOLLIN;
                return -EAGAIN;
        case SSL_ERROR_WANT_WRITE:
                t->events = EPOLLOUT;
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                sym_ERR_clear_error();
                if (ret == 0 || saved == 0)
                        return 0; /* closed without close_notify: Redis does that */
                snprintf(err, errlen, "%s", strerror(saved));
                return -saved;
        default:
                break;
        }
        e = sym_ERR_get_error();
        sym_ERR_clear_error();
        v = sym_SSL_get_verify_result(t->ssl);
        if (t->verify && v != X509_V_OK) {
                snprintf(err, errlen, "TLS: the certificate of %s was not accepted: %s (trusted CAs: the "
                         "credential " REDIS_TLS_CREDENTIAL_CA " if present, else the system store or "
                         "SSL_CERT_FILE; rediss://...?verify=none skips the check)",
                         t->host, sym_X509_verify_cert_error_string(v));
                return -REDIS_TLS_EVERIFY;
        }
        switch (ERR_GET_REASON(e)) {
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
                snprintf(err, errlen, "TLS: %s %s: %s (give one with the credentials "
                         REDIS_TLS_CREDENTIAL_CERT " and " REDIS_TLS_CREDENTIAL_KEY ")", t->host,
                         t->has_cert ? "did not accept our client certificate" : "requires a client certificate",
                         ssl_reason(e, "alert"));
                return -REDIS_TLS_EREFUSED;
        case SSL_R_WRONG_VERSION_NUMBER:
        case SSL_R_PACKET_LENGTH_TOO_LONG:
                snprintf(err, errlen, "TLS: %s does not speak TLS on this port (%s); use redis:// for a plain port",
                         t->host, ssl_reason(e, "?"));
                return -EPROTO;
        default:
                snprintf(err, errlen, "TLS: %s", ssl_reason(e, "protocol error"));
                return -EPROTO;
        }
}

int redis_tls_handshake(RedisTLS *t, char *err, size_t errlen) {
        int r;

        sym_ERR_clear_error();
        errno = 0;
        r = sym_SSL_connect(t->ssl);
        if (r == 1)
                return 0;
        r = tls_error(t, r, err, errlen);
        if (r == 0) {
                snprintf(err, errlen, "TLS: %s closed the connection during the handshake", t->host);
                return -ECONNRESET;
        }
        return r;
}

/* With TLS 1.3 the client's handshake ends before the server has checked our certificate: a
 * refusal is an alert and a close, and the close (a reset, as our first command is unread) may
 * reach a write or read before the alert is read. A connection closed before any answer is that
 * refusal. */
static int refused_after_handshake(RedisTLS *t, int r, char *err, size_t errlen) {
        if (t->got_data || !(r == 0 || r == -ECONNRESET || r == -EPIPE))
                return r;
        snprintf(err, errlen, "TLS: %s closed the connection after the handshake, before any answer: it "
                 "%s (give one with the credentials " REDIS_TLS_CREDENTIAL_CERT " and "
                 REDIS_TLS_CREDENTIAL_KEY ")", t->host,
                 t->has_cert ? "did not accept our client certificate" : "probably requires a client certificate");
        return -REDIS_TLS_EREFUSED;
}

ssize_t redis_tls_read(RedisTLS *t, void *buf, size_t n, char *err, size_t errlen) {
        int r;

        sym_ERR_clear_error();
        errno = 0;
        r = sym_SSL_read(t->ssl, buf, (int) MIN(n, (size_t) INT32_MAX));
        if (r > 0) {
                t->got_data = true;
                return r;
        }
        return refused_after_handshake(t, tls_error(t, r, err, errlen), err, errlen);
}

ssize_t redis_tls_write(RedisTLS *t, const void *buf, size_t n, char *err, size_t errlen) {
        int r;

        sym_ERR_clear_error();
        errno = 0;
        r = sym_SSL_write(t->ssl, buf, (int) MIN(n, (size_t) INT32_MAX));
        if (r > 0)
                return r;
        r = refused_after_handshake(t, tls_error(t, r, err, errlen), err, errlen);
        if (r == 0) {
                snprintf(err, errlen, "%s", strerror(EPIPE));
                return -EPIPE;
        }
        return r;
}

uint32_t redis_tls_events(const RedisTLS *t) {
        return t->events;
}
