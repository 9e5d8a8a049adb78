/* SPDX-License-Identifier: MIT */
/* Text from Redis made safe for a terminal: control characters and invalid UTF-8 replaced. */
#pragma once

#include <stddef.h>

#include "util/macro.h"

/* Code points of UTF-8 text (control characters and invalid bytes count as one). Screen columns are
 * counted by the table printer (programs/table.h), which knows double-width characters. */
size_t utf8_width(const char *s);

/* Copy s replacing control characters and invalid UTF-8 with '?' (tab and newline with a space),
 * keeping at most max bytes plus "...". NULL on OOM. */
char *string_sanitize(const char *s, size_t max);
