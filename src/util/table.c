/* SPDX-License-Identifier: MIT */
/* Tables for a terminal, in systemctl's style. */

#include <langinfo.h>
#include <stdint.h>
#include <stdarg.h>

#include "util/table.h"

typedef struct Cell {
        char *text;
        const char *color;
        size_t width;
} Cell;

struct Table {
        size_t n_columns;
        char *headers[TABLE_COLUMNS_MAX];
        bool right[TABLE_COLUMNS_MAX];
        size_t shrink; /* column index, or SIZE_MAX for none */
        Cell *cells;
        size_t n_cells, n_allocated;
};

static size_t utf8_sequence_length(const unsigned char *p) {
        size_t len;
        unsigned cp;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xE0) == 0xC0) {
                len = 2;
                cp = p[0] & 0x1F;
        } else if ((p[0] & 0xF0) == 0xE0) {
                len = 3;
                cp = p[0] & 0x0F;
        } else if ((p[0] & 0xF8) == 0xF0) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8. */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return 0;
        /* C1 control characters (U+0080..U+009F) can drive a terminal too. */
        if (cp >= 0x80 && cp < 0xA0)
                return 0;
        return len;
}

size_t utf8_width(const char *s) {
        size_t w = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t l = utf8_sequence_length(p);
                p += l > 0 ? l : 1;
                w++;
        }
        return w;
}

static bool locale_is_utf8(void) {
        const char *cs = nl_langinfo(CODESET);
        return cs && (streq(cs, "UTF-8") || streq(cs, "utf8"));
}

char *string_sanitize(const char *s, size_t max) {
        size_t len = strlen(s), o = 0;
        char *out = malloc(MIN(len, max) + 4);

        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t l = utf8_sequence_length(p);

                if (o + MAX(l, (size_t) 1) > max) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                if (l == 1 && (*p == '\n' || *p == '\t' || *p == '\r'))
                        out[o++] = ' ';
                else if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7F)))
                        out[o++] = '?';
                else {
                        memcpy(out + o, p, l);
                        o += l;
                }
                p += l > 0 ? l : 1;
        }
        out[o] = 0;
        return out;
}

Table *table_new(size_t n, const char *const *headers) {
        Table *t;

        if (n == 0 || n > TABLE_COLUMNS_MAX || !headers)
                return NULL;
        t = calloc(1, sizeof *t);
        if (!t)
                return NULL;
        t->n_columns = n;
        t->shrink = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                t->headers[i] = strdup(strempty(headers[i]));
                if (!t->headers[i])
                        return table_free(t);
        }
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_columns; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

void table_set_align_right(Table *t, size_t column, bool right) {
        if (t && column < t->n_columns)
                t->right[column] = right;
}

void table_set_shrink_column(Table *t, size_t column) {
        if (t && column < t->n_columns)
                t->shrink = column;
}

int table_add_cell(Table *t, const char *text, const char *color) {
        char *s;

        if (!t)
                return -EINVAL;
        if (t->n_cells == t->n_allocated) {
                size_t k = t->n_allocated ? t->n_allocated * 2 : 64;
                Cell *c = reallocarray(t->cells, k, sizeof *c);
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->n_allocated = k;
        }
        s = string_sanitize(text ? text : "-", TABLE_CELL_MAX);
        if (!s)
                return -ENOMEM;
        t->cells[t->n_cells++] = (Cell) { .text = s, .color = color, .width = utf8_width(s) };
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

/* Print the first w display columns of s, with an ellipsis if it had to be cut. */
static void print_clipped(FILE *f, const char *s, size_t width, size_t w) {
        const unsigned char *p = (const unsigned char *) s;
        bool utf8 = locale_is_utf8();

        if (width <= w) {
                fputs(s, f);
                return;
        }
        if (w == 0)
                return;
        if (!utf8 && w < 3) {
                fprintf(f, "%.*s", (int) w, "...");
                return;
        }
        for (size_t shown = 0, keep = utf8 ? w - 1 : w - 3; shown < keep && *p; shown++) {
                size_t l = utf8_sequence_length(p);
                l = l > 0 ? l : 1;
                fwrite(p, 1, l, f);
                p += l;
        }
        fputs(utf8 ? "…" : "...", f);
}

static void print_cell(FILE *f, const char *text, size_t width, size_t colw, bool right, bool last,
                       const char *color, bool use_color) {
        size_t shown = MIN(width, colw);

        if (right)
                for (size_t i = shown; i < colw; i++)
                        fputc(' ', f);
        if (use_color && color)
                fputs(color, f);
        print_clipped(f, text, width, colw);
        if (use_color && color)
                fputs(ANSI_NORMAL, f);
        if (!right && !last)
                for (size_t i = shown; i < colw; i++)
                        fputc(' ', f);
}

int table_print(const Table *t, FILE *f, size_t width, bool color, bool header) {
        size_t colw[TABLE_COLUMNS_MAX] = {}, total = 0, rows;

        if (!t || !f)
                return -EINVAL;
        rows = table_get_rows(t);
        for (size_t c = 0; c < t->n_columns; c++) {
                if (header)
                        colw[c] = utf8_width(t->headers[c]);
                for (size_t r = 0; r < rows; r++)
                        colw[c] = MAX(colw[c], t->cells[r * t->n_columns + c].width);
                total += colw[c] + (c > 0);
        }
        if (width > 0 && total > width && t->shrink != SIZE_MAX) {
                /* Give up the excess from one column, keeping a readable minimum. */
                size_t excess = total - width, min = 8;
                size_t *w = &colw[t->shrink];
                *w = *w > min ? MAX(*w - MIN(excess, *w), min) : *w;
        }

        if (header) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        bool last = c + 1 == t->n_columns;
                        if (c > 0)
                                fputc(' ', f);
                        /* Underline the whole column width, as systemctl does. */
                        if (color)
                                fputs(ANSI_UNDERLINE, f);
                        print_cell(f, t->headers[c], utf8_width(t->headers[c]), colw[c], t->right[c],
                                   last && !color, NULL, false);
                        if (color)
                                fputs(ANSI_NORMAL, f);
                }
                fputc('\n', f);
        }
        for (size_t r = 0; r < rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const Cell *cell = &t->cells[r * t->n_columns + c];
                        if (c > 0)
                                fputc(' ', f);
                        print_cell(f, cell->text, cell->width, colw[c], t->right[c],
                                   c + 1 == t->n_columns, cell->color, color);
                }
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}
