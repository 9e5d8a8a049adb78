/* SPDX-License-Identifier: MIT */
/* Tables for a terminal, printed by libsmartcols. */

#include <errno.h>
#include <libsmartcols.h>
#include <langinfo.h>
#include <stdarg.h>
#include <wchar.h>

#include "programs/table.h"

struct Table {
        struct libscols_table *scols;
        size_t n_columns, n_cells;
        struct libscols_column *columns[TABLE_COLUMNS_MAX];
        struct libscols_line *line; /* the row being filled */
        bool shrink[TABLE_COLUMNS_MAX];
        size_t shrink_order[TABLE_COLUMNS_MAX], n_shrink; /* who gives up width first */
        size_t min[TABLE_COLUMNS_MAX];
        char **texts; /* every cell as added, row by row: a print may show a cut copy */
        size_t n_allocated;
};

Table *table_new(size_t n, const char *const *headers) {
        _cleanup_(table_freep) Table *t = NULL;

        if (n == 0 || n > TABLE_COLUMNS_MAX || !headers)
                return NULL;
        t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->scols = scols_new_table();
        if (!t->scols)
                return NULL;
        /* One space between columns, as systemctl and the tables before this one. */
        if (scols_table_set_column_separator(t->scols, " ") < 0)
                return NULL;
        t->n_columns = n;
        for (size_t i = 0; i < n; i++) {
                t->columns[i] = scols_table_new_column(t->scols, strempty(headers[i]), 0, 0);
                if (!t->columns[i])
                        return NULL;
        }
        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        scols_unref_table(t->scols);
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->texts[i]);
        free(t->texts);
        free(t);
        return NULL;
}

static void column_set_flag(Table *t, size_t column, int flag, bool on) {
        int flags;

        if (!t || column >= t->n_columns)
                return;
        flags = scols_column_get_flags(t->columns[column]);
        (void) scols_column_set_flags(t->columns[column], on ? flags | flag : flags & ~flag);
}

void table_set_align_right(Table *t, size_t column, bool right) {
        column_set_flag(t, column, SCOLS_FL_RIGHT, right);
}

void table_set_shrink_column(Table *t, size_t column) {
        if (t && column < t->n_columns && !t->shrink[column]) {
                t->shrink[column] = true;
                t->shrink_order[t->n_shrink++] = column;
        }
}

void table_set_hidden(Table *t, size_t column, bool hidden) {
        column_set_flag(t, column, SCOLS_FL_HIDDEN, hidden);
}

void table_set_min_width(Table *t, size_t column, size_t min) {
        if (t && column < t->n_columns)
                t->min[column] = min;
}

int table_add_cell(Table *t, const char *text, const char *color) {
        _cleanup_free_ char *s = NULL;
        size_t column;
        int r;

        if (!t)
                return -EINVAL;
        column = t->n_cells % t->n_columns;
        if (t->n_cells == t->n_allocated) {
                size_t k = t->n_allocated ? t->n_allocated * 2 : 64;
                char **texts = reallocarray(t->texts, k, sizeof *texts);
                if (!texts)
                        return -ENOMEM;
                t->texts = texts;
                t->n_allocated = k;
        }
        if (column == 0) {
                t->line = scols_table_new_line(t->scols, NULL);
                if (!t->line)
                        return -ENOMEM;
        }
        s = string_sanitize(text ? text : "-", TABLE_CELL_MAX);
        if (!s)
                return -ENOMEM;
        r = scols_line_set_data(t->line, column, s);
        if (r < 0)
                return r;
        if (color) {
                r = scols_cell_set_color(scols_line_get_cell(t->line, column), color);
                if (r < 0)
                        return r;
        }
        t->texts[t->n_cells++] = TAKE_PTR(s);
        return 0;
}

int table_add_cellf(Table *t, const char *color, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                s = NULL;
                return -ENOMEM;
        }
        return table_add_cell(t, s, color);
}

size_t table_get_rows(const Table *t) {
        return t ? t->n_cells / t->n_columns : 0;
}

static bool locale_is_utf8(void) {
        const char *cs = nl_langinfo(CODESET);
        return cs && (streq(cs, "UTF-8") || streq(cs, "utf8"));
}

/* Screen columns of s in the current locale; a character the locale cannot show counts as one. */
static size_t screen_width(const char *s) {
        mbstate_t st = {};
        size_t w = 0;

        for (const char *p = s; *p;) {
                wchar_t wc;
                size_t l = mbrtowc(&wc, p, MB_CUR_MAX, &st);
                int cw;

                if (l == (size_t) -1 || l == (size_t) -2 || l == 0) {
                        st = (mbstate_t) {};
                        l = 1;
                        cw = 1;
                } else
                        cw = wcwidth(wc);
                w += cw > 0 ? (size_t) cw : 0;
                p += l;
        }
        return w;
}

/* A copy of s cut to at most max screen columns, the cut marked with an ellipsis. */
static char *cut_to_width(const char *s, size_t max) {
        const char *ellipsis = locale_is_utf8() ? "…" : "...";
        size_t ew = locale_is_utf8() ? 1 : 3, w = 0, keep = 0;
        mbstate_t st = {};
        char *out;

        if (max <= ew)
                return strndup(ellipsis, max);
        for (const char *p = s; *p;) {
                wchar_t wc;
                size_t l = mbrtowc(&wc, p, MB_CUR_MAX, &st);
                int cw = 1;

                if (l == (size_t) -1 || l == (size_t) -2 || l == 0) {
                        st = (mbstate_t) {};
                        l = 1;
                } else
                        cw = MAX(wcwidth(wc), 0);
                if (w + (size_t) cw > max - ew)
                        break;
                w += (size_t) cw;
                p += l;
                keep = (size_t) (p - s);
        }
        out = malloc(keep + strlen(ellipsis) + 1);
        if (!out)
                return NULL;
        memcpy(out, s, keep);
        strcpy(out + keep, ellipsis);
        return out;
}

/* The widths the shrink columns are cut to so that a row fits width: the first marked gives up what
 * it can down to its minimum (or its header), then the next, until the row fits. */
static void fit_columns(const Table *t, size_t width, size_t *colw) {
        size_t rows = table_get_rows(t), total = 0;

        for (size_t c = 0; c < t->n_columns; c++) {
                /* libsmartcols keeps a column as wide as its header, shown or not. */
                colw[c] = screen_width(scols_column_get_name(t->columns[c]));
                for (size_t r = 0; r < rows; r++)
                        colw[c] = MAX(colw[c], screen_width(t->texts[r * t->n_columns + c]));
                if (!scols_column_is_hidden(t->columns[c]))
                        total += colw[c] + (total > 0);
        }
        for (size_t i = 0; i < t->n_shrink && total > width; i++) {
                size_t c = t->shrink_order[i];
                size_t floor = MAX(t->min[c], screen_width(scols_column_get_name(t->columns[c])));
                size_t give = colw[c] > floor ? MIN(colw[c] - floor, total - width) : 0;

                if (scols_column_is_hidden(t->columns[c]))
                        continue;
                colw[c] -= give;
                total -= give;
        }
}

int table_print(const Table *t, FILE *f, size_t width, bool color, bool header) {
        size_t colw[TABLE_COLUMNS_MAX] = {};
        struct libscols_table *s;
        int r;

        if (!t || !f)
                return -EINVAL;
        s = t->scols;
        (void) scols_table_set_stream(s, f);
        (void) scols_table_enable_colors(s, color);
        (void) scols_table_enable_noheadings(s, !header);
        for (size_t c = 0; c < t->n_columns; c++) {
                /* The header is underlined across the column, as systemctl does. */
                struct libscols_cell *h = scols_column_get_header(t->columns[c]);
                (void) scols_cell_set_color(h, color ? ANSI_UNDERLINE : NULL);
        }
        if (width > 0)
                fit_columns(t, width, colw);
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;
                _cleanup_free_ char *cut = NULL;

                /* A print before at another width may have left a cut copy: start from the text. */
                if (width > 0 && t->shrink[c] && screen_width(t->texts[i]) > colw[c]) {
                        cut = cut_to_width(t->texts[i], colw[c]);
                        if (!cut)
                                return -ENOMEM;
                }
                r = scols_line_set_data(scols_table_get_line(s, i / t->n_columns), c, cut ?: t->texts[i]);
                if (r < 0)
                        return r;
        }
        /* The cells fit now; libsmartcols counts screen columns, pads and aligns, and cuts nothing. */
        (void) scols_table_set_termforce(s, SCOLS_TERMFORCE_NEVER);
        /* An empty table prints its header only when it has one. */
        if (t->n_cells == 0 && !header)
                return 0;
        r = scols_print_table(s);
        if (r < 0)
                return r;
        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
