/* SPDX-License-Identifier: MIT */
/* The one journald writer: entries in journald's native protocol over its datagram socket, without
 * libsystemd (whose loading alone costs as much as running /bin/true). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_FIELDS_MAX 64U /* fields of one entry; more are dropped */

/* A datagram socket connected to journald, or a negative errno (-ENOENT: journald does not listen,
 * e.g. in a generator at boot). nonblocking: a full socket drops entries rather than wait, for
 * programs that PID 1 waits for. */
int journal_open(bool nonblocking);

/* Send one entry: each iov is one "KEY=value" field (value may hold any byte, newlines included).
 * Returns 0 or a negative errno. */
int journal_sendv(int fd, const struct iovec *fields, size_t n);
