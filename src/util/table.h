/* SPDX-License-Identifier: MIT */
/* Tables for a terminal, in systemctl's style: a header, columns aligned, one column ellipsized to fit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/macro.h"

#define TABLE_COLUMNS_MAX 16
#define TABLE_CELL_MAX 4096 /* bytes kept of one cell; longer text is cut with an ellipsis */

/* ANSI sequences for cells; only printed when table_print() is asked for colour. */
#define ANSI_NORMAL "\x1B[0m"
#define ANSI_RED "\x1B[0;31m"
#define ANSI_GREEN "\x1B[0;32m"
#define ANSI_YELLOW "\x1B[0;33m"
#define ANSI_GREY "\x1B[0;38;5;245m"
#define ANSI_HIGHLIGHT "\x1B[0;1;39m"
#define ANSI_UNDERLINE "\x1B[0;4m"

typedef struct Table Table;

/* A table with n columns (1..TABLE_COLUMNS_MAX) named by headers. NULL on bad arguments or OOM. */
Table *table_new(size_t n, const char *const *headers);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Right-align a column (numbers). */
void table_set_align_right(Table *t, size_t column, bool right);
/* The column that gives up width when the table is wider than the terminal. */
void table_set_shrink_column(Table *t, size_t column);

/* Append one cell; rows fill left to right. Control characters and invalid UTF-8 in text are
 * replaced so that data from Redis can never move the cursor or change the terminal. color is one
 * of the ANSI_* sequences or NULL. NULL text prints as "-". */
int table_add_cell(Table *t, const char *text, const char *color);
/* Same, formatted. */
int table_add_cellf(Table *t, const char *color, const char *fmt, ...) _printf_(3, 4);

size_t table_get_rows(const Table *t);

/* Print the header (unless header is false) and the rows. width 0 means unlimited; otherwise the
 * shrink column is ellipsized so that lines fit. Returns 0 or -EIO. */
int table_print(const Table *t, FILE *f, size_t width, bool color, bool header);

/* Display width of UTF-8 text (code points; control characters count as one). */
size_t utf8_width(const char *s);

/* Copy s replacing control characters and invalid UTF-8 with '?' (tab and newline with a space),
 * keeping at most max bytes plus an ellipsis. NULL on OOM. */
char *string_sanitize(const char *s, size_t max);
