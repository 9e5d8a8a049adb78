/* SPDX-License-Identifier: MIT */
/* Text that may quote a Redis URL, made safe to show: the password is never printed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SECRET_MASK "***"

/* Copy s into buf (at most size - 1 bytes, NUL-terminated, cut on a UTF-8 character boundary) with
 * every URL password replaced by SECRET_MASK: the userinfo of "scheme://[user]:PASSWORD@host" (all of
 * it when it has no ':'), and the value of a "password=" or "sentinel_password=" query parameter.
 * Returns false when s did not fit whole. */
bool secret_mask(const char *s, char *buf, size_t size);

/* True when secret_mask() would change s. */
bool secret_present(const char *s);
