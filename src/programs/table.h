/* SPDX-License-Identifier: MIT */
/* Tables for a terminal, printed by libsmartcols (as lsblk and findmnt are): a header, columns
 * aligned in screen columns (a Japanese character takes two), and columns that give up width so that
 * a row fits the terminal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/macro.h"
#include "util/sanitize.h"

#define TABLE_COLUMNS_MAX 16
#define TABLE_CELL_MAX 4096 /* bytes kept of one cell; longer text is cut with "..." */

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
/* A column that gives up width when the table is wider than the terminal; several may. A column
 * given up is cut at its edge, as lsblk does. min is the width it keeps (0: libsmartcols chooses). */
void table_set_shrink_column(Table *t, size_t column);
void table_set_min_width(Table *t, size_t column, size_t min);
/* Keep a column out of the printed table (its cells are still added). */
void table_set_hidden(Table *t, size_t column, bool hidden);

/* Append one cell; rows fill left to right. Control characters and invalid UTF-8 in text are
 * replaced so that data from Redis can never move the cursor or change the terminal. color is one
 * of the ANSI_* sequences or NULL. NULL text prints as "-". */
int table_add_cell(Table *t, const char *text, const char *color);
/* Same, formatted. */
int table_add_cellf(Table *t, const char *color, const char *fmt, ...) _printf_(3, 4);

size_t table_get_rows(const Table *t);

/* Print the header (unless header is false) and the rows. width 0 means unlimited; otherwise the
 * shrink columns are cut so that lines fit width screen columns. Returns 0 or a negative errno. */
int table_print(const Table *t, FILE *f, size_t width, bool color, bool header);
