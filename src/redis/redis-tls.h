/* SPDX-License-Identifier: MIT */
/* A TLS client session (OpenSSL 3, loaded on first use) on a connected non-blocking socket, for
 * rediss:// URLs. See the top of redis-tls.c for the design and its reasons. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "redis/url.h"

/* The systemd credentials (files in $CREDENTIALS_DIRECTORY) a TLS connection uses when present. */
#define REDIS_TLS_CREDENTIAL_CA "redis-ca"
#define REDIS_TLS_CREDENTIAL_CERT "redis-cert"
#define REDIS_TLS_CREDENTIAL_KEY "redis-key"

/* Errors of this layer besides the usual socket ones: the server's certificate failed
 * verification (wrong CA, host name, expired...), and the server refused our certificate (or the
 * lack of one). */
#define REDIS_TLS_EVERIFY EKEYREJECTED
#define REDIS_TLS_EREFUSED ENOKEY

typedef struct RedisTLS RedisTLS;

/* A session for u's host (SNI and the name check) on fd, verifying as u says; the handshake starts
 * with the first redis_tls_handshake(). Negative errno with a sentence in err. */
int redis_tls_new(const RedisURL *u, int fd, RedisTLS **ret, char *err, size_t errlen);
RedisTLS *redis_tls_free(RedisTLS *t);

/* 0 when the handshake is done, -EAGAIN when the socket must first become ready for
 * redis_tls_events(), else a negative errno with a sentence in err. */
int redis_tls_handshake(RedisTLS *t, char *err, size_t errlen);

/* As read(2)/write(2) on a non-blocking socket: bytes moved, 0 at the end of the stream (read),
 * -EAGAIN (then wait for redis_tls_events()), or a negative errno with a sentence in err. */
ssize_t redis_tls_read(RedisTLS *t, void *buf, size_t n, char *err, size_t errlen);
ssize_t redis_tls_write(RedisTLS *t, const void *buf, size_t n, char *err, size_t errlen);

/* EPOLLIN and/or EPOLLOUT: what the last call that returned -EAGAIN waits for. */
uint32_t redis_tls_events(const RedisTLS *t);
