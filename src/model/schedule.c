/* SPDX-License-Identifier: MIT */
/* The schedule parser: systemd's unit-file syntax (systemd.syntax(7)) with [Job] sections. */

#include <ctype.h>
#include <stdarg.h>

#include "model/schedule.h"

#define COMMENTS "#;"
#define WHITESPACE " \t\n\r"
#define VALUE_SHOWN_MAX 80

typedef struct Parser {
        Schedule *s;
        const char *path;
        size_t cur;           /* index of the entry being parsed, SIZE_MAX outside [Job] */
        bool ignoring;        /* inside an unknown or X- section, or past the entry limit */
        json_t *names;        /* shared with the Schedule: name → index of its first entry */
} Parser;

typedef int (*KeyParser)(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line);

Schedule *schedule_new(void) {
        return calloc(1, sizeof(Schedule));
}

static void entry_done(ScheduleEntry *e) {
        free(e->name);
        free(e->class);
        free(e->queue);
        free(e->args);
        free(e->description);
        for (size_t i = 0; i < e->n_calendars; i++)
                free(e->calendars[i].expression);
        free(e->calendars);
}

Schedule *schedule_free(Schedule *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                entry_done(&s->entries[i]);
        free(s->entries);
        for (size_t i = 0; i < s->n_paths; i++)
                free(s->paths[i]);
        free(s->paths);
        for (size_t i = 0; i < s->n_errors; i++)
                free(s->errors[i].message);
        free(s->errors);
        json_decref(s->names);
        free(s);
        return NULL;
}

static int grow(void **array, size_t *alloc, size_t need, size_t size) {
        if (need <= *alloc)
                return 0;
        size_t n = MAX(need, *alloc * 2);
        n = MAX(n, (size_t) 8);
        void *p = reallocarray(*array, n, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *alloc = n;
        return 0;
}

int schedule_add_error(Schedule *s, ScheduleEntry *entry, const char *path, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *full = NULL;
        va_list ap;

        if (entry)
                entry->broken = true;
        if (s->n_errors >= SCHEDULE_ERRORS_MAX) {
                s->n_errors_dropped++;
                return 0;
        }
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        full = line > 0 ? strdupf("%s:%u: %s", path, line, msg) : strdupf("%s: %s", path, msg);
        if (!full)
                return -ENOMEM;
        /* errors is grown one by one: it stays small (SCHEDULE_ERRORS_MAX) */
        ScheduleError *n = reallocarray(s->errors, s->n_errors + 1, sizeof(ScheduleError));
        if (!n)
                return -ENOMEM;
        s->errors = n;
        size_t file = 0;
        for (size_t i = s->n_paths; i > 0; i--)
                if (streq(s->paths[i - 1], path)) {
                        file = i - 1;
                        break;
                }
        s->errors[s->n_errors++] = (ScheduleError) { TAKE_PTR(full), file, line };
        return 0;
}

static bool error_after(const ScheduleError *x, const ScheduleError *y) {
        return x->file != y->file ? x->file > y->file : x->line > y->line;
}

void schedule_sort_errors(Schedule *s) {
        /* insertion sort: stable, and there are at most SCHEDULE_ERRORS_MAX of them */
        for (size_t i = 1; i < s->n_errors; i++) {
                ScheduleError t = s->errors[i];
                size_t j = i;
                for (; j > 0 && error_after(&s->errors[j - 1], &t); j--)
                        s->errors[j] = s->errors[j - 1];
                s->errors[j] = t;
        }
}

/* Values are quoted in messages, shortened so that a 16 KiB line does not flood the terminal. */
static const char *shown(const char *v, char buf[static VALUE_SHOWN_MAX + 8]) {
        size_t l = strlen(v);

        if (l <= VALUE_SHOWN_MAX)
                return v;
        /* cut on a UTF-8 character boundary */
        size_t k = VALUE_SHOWN_MAX;
        while (k > 0 && ((unsigned char) v[k] & 0xc0) == 0x80)
                k--;
        memcpy(buf, v, k);
        memcpy(buf + k, "...", 4);
        return buf;
}

#define ERR(p, e, line, key, value, fmt, ...)                                                             \
        ({                                                                                                \
                char _b[VALUE_SHOWN_MAX + 8];                                                             \
                schedule_add_error((p)->s, (e), (p)->path, (line), "%s=%s: " fmt, (key),                  \
                                   shown((value), _b), ##__VA_ARGS__);                                    \
        })

static bool utf8_is_valid_printable(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned n;
                uint32_t c;

                if (*p < 0x80) {
                        if (*p < 0x20 || *p == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        n = 1, c = *p & 0x1f;
                else if ((*p & 0xf0) == 0xe0)
                        n = 2, c = *p & 0x0f;
                else if ((*p & 0xf8) == 0xf0)
                        n = 3, c = *p & 0x07;
                else
                        return false;
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        c = (c << 6) | (*p & 0x3f);
                }
                /* overlong forms, surrogates and values past U+10FFFF */
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
                    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                        return false;
        }
        return true;
}

bool schedule_name_is_valid(const char *name) {
        if (!string_is_charset(name, SCHEDULE_NAME_MAX, "_.-"))
                return false;
        return isalnum((unsigned char) name[0]);
}

bool schedule_calendar_charset_ok(const char *s) {
        return string_is_charset(s, SCHEDULE_CALENDAR_LEN_MAX, " *-:,./~+_@");
}

static int set_string(char **field, const char *value) {
        char *c = NULL;

        if (*value && !(c = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int parse_name(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !schedule_name_is_valid(value))
                return ERR(p, e, line, key, value,
                           "entry names may use only A-Z a-z 0-9 _ . -, must start with a letter or digit "
                           "and be at most %zu bytes, because they become the unit names "
                           "jobs-NAME.timer and jobs-NAME.service",
                           (size_t) SCHEDULE_NAME_MAX);
        return set_string(&e->name, value);
}

static int parse_class(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !job_class_is_valid(value))
                return ERR(p, e, line, key, value,
                           "a class is 1-%d characters of A-Z a-z 0-9 _ : . - and does not start with . or -",
                           JOB_CLASS_MAX);
        return set_string(&e->class, value);
}

static int parse_queue(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !job_queue_is_valid(value))
                return ERR(p, e, line, key, value, "a queue is 1-%d characters of A-Z a-z 0-9 _ . : -",
                           JOB_QUEUE_MAX);
        return set_string(&e->queue, value);
}

/* Valid JSON text without the whitespace between tokens. Numbers and strings stay as written: a
 * re-serialisation would print 0.1 as 0.10000000000000001. */
static char *json_text_compact(const char *text) {
        char *out = malloc(strlen(text) + 1), *o = out;
        bool in_string = false, escaped = false;

        if (!out)
                return NULL;
        for (const char *p = text; *p; p++) {
                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (*p == '\\')
                                escaped = true;
                        else if (*p == '"')
                                in_string = false;
                } else if (strchr(" \t\r\n", *p))
                        continue;
                else if (*p == '"')
                        in_string = true;
                *o++ = *p;
        }
        *o = 0;
        return out;
}

static int parse_args(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *compact = NULL;
        json_error_t err;

        if (!*value)
                return set_string(&e->args, value);
        j = json_loads(value, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return ERR(p, e, line, key, value, "not valid JSON (%s at character %d); Args= is a JSON array "
                           "such as [] or [\"world\", 42]", err.text, err.position);
        if (!json_is_array(j))
                return ERR(p, e, line, key, value, "Args= must be a JSON array such as [] or [\"world\", 42]");
        compact = json_text_compact(value);
        if (!compact)
                return -ENOMEM;
        if (strlen(compact) > SCHEDULE_ARGS_MAX)
                return ERR(p, e, line, key, value, "the arguments are %zu bytes of JSON, at most %u are allowed",
                           strlen(compact), SCHEDULE_ARGS_MAX);
        free(e->args);
        e->args = TAKE_PTR(compact);
        return 0;
}

static int parse_retry(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        JobRetry retry;

        if (!*value) {
                e->retry_set = false;
                return 0;
        }
        if (job_retry_from_string(value, &retry) < 0)
                return ERR(p, e, line, key, value, "use true, false or a number of retries from 0 to 1000");
        e->retry = retry;
        e->retry_set = true;
        return 0;
}

static int parse_calendar(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        _cleanup_free_ char *c = NULL;

        if (!*value) {
                /* as in unit files, an empty assignment resets the list */
                for (size_t i = 0; i < e->n_calendars; i++)
                        free(e->calendars[i].expression);
                e->n_calendars = 0;
                return 0;
        }
        if (!schedule_calendar_charset_ok(value))
                return ERR(p, e, line, key, value,
                           "a calendar expression is at most %u characters of A-Z a-z 0-9, space and *-:,./~+_@ "
                           "(systemd.time(7), e.g. \"*-*-* 02:00 Europe/London\" or \"Mon..Fri 09:00\")",
                           SCHEDULE_CALENDAR_LEN_MAX);
        if (e->n_calendars >= SCHEDULE_CALENDARS_MAX)
                return ERR(p, e, line, key, value, "too many OnCalendar= lines, at most %u per entry",
                           SCHEDULE_CALENDARS_MAX);
        c = strdup(value);
        if (!c)
                return -ENOMEM;
        ScheduleCalendar *n = reallocarray(e->calendars, e->n_calendars + 1, sizeof(ScheduleCalendar));
        if (!n)
                return -ENOMEM;
        e->calendars = n;
        e->calendars[e->n_calendars++] = (ScheduleCalendar) { TAKE_PTR(c), line };
        return 0;
}

static int parse_every(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        usec_t u;

        if (!*value) {
                e->every = 0;
                return 0;
        }
        if (parse_duration(value, &u) < 0 || u < USEC_PER_SEC || u > 366 * USEC_PER_DAY ||
            u % USEC_PER_SEC != 0)
                return ERR(p, e, line, key, value,
                           "use a whole number of seconds from 1s to 366d, written like \"30s\", \"1min\", "
                           "\"5min\", \"1h 30min\" or \"1d\"");
        e->every = u;
        e->every_line = line;
        return 0;
}

static int parse_persistent(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        int b;

        if (!*value) {
                e->persistent = -1;
                return 0;
        }
        b = parse_boolean(value);
        if (b < 0)
                return ERR(p, e, line, key, value, "use yes or no (also true/false, on/off, 1/0)");
        e->persistent = b;
        return 0;
}

static int parse_sec(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line,
                     usec_t *field) {
        usec_t u;

        if (!*value) {
                *field = USEC_INFINITY;
                return 0;
        }
        if (parse_duration(value, &u) < 0 || u > 366 * USEC_PER_DAY)
                return ERR(p, e, line, key, value,
                           "use a duration from 0 to 366d, written like \"1s\", \"30s\", \"5min\" or \"1h 30min\"");
        *field = u;
        return 0;
}

static int parse_randomized_delay(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        return parse_sec(p, e, key, value, line, &e->randomized_delay);
}

static int parse_accuracy(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        return parse_sec(p, e, key, value, line, &e->accuracy);
}

static int parse_scope(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (!*value || streq(value, "fleet"))
                e->host_scope = false;
        else if (streq(value, "host"))
                e->host_scope = true;
        else
                return ERR(p, e, line, key, value,
                           "use fleet (each occurrence enqueued once by whichever host fires first, the "
                           "default) or host (enqueued by every host)");
        return 0;
}

static int parse_description(Parser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        size_t l = strlen(value);
        if (l > SCHEDULE_DESCRIPTION_MAX || !utf8_is_valid_printable(value))
                return ERR(p, e, line, key, value, "a description is at most %u bytes of printable UTF-8",
                           SCHEDULE_DESCRIPTION_MAX);
        /* in the unit, an odd number of trailing backslashes would continue the line */
        size_t bs = 0;
        while (bs < l && value[l - 1 - bs] == '\\')
                bs++;
        if (bs % 2 == 1)
                return ERR(p, e, line, key, value, "a description may not end with an odd number of backslashes");
        return set_string(&e->description, value);
}

enum {
        KEY_NAME, KEY_CLASS, KEY_QUEUE, KEY_ARGS, KEY_RETRY, KEY_ON_CALENDAR, KEY_EVERY, KEY_PERSISTENT,
        KEY_RANDOMIZED_DELAY, KEY_ACCURACY, KEY_DESCRIPTION, KEY_SCOPE, _KEY_MAX,
};

static const struct {
        const char *key;
        KeyParser parse;
} keys[_KEY_MAX] = {
        [KEY_NAME] = { "Name", parse_name },
        [KEY_CLASS] = { "Class", parse_class },
        [KEY_QUEUE] = { "Queue", parse_queue },
        [KEY_ARGS] = { "Args", parse_args },
        [KEY_RETRY] = { "Retry", parse_retry },
        [KEY_ON_CALENDAR] = { "OnCalendar", parse_calendar },
        [KEY_EVERY] = { "Every", parse_every },
        [KEY_PERSISTENT] = { "Persistent", parse_persistent },
        [KEY_RANDOMIZED_DELAY] = { "RandomizedDelaySec", parse_randomized_delay },
        [KEY_ACCURACY] = { "AccuracySec", parse_accuracy },
        [KEY_DESCRIPTION] = { "Description", parse_description },
        [KEY_SCOPE] = { "Scope", parse_scope },
};
#define KEYS_ALLOWED "Name=, Class=, Queue=, Args=, Retry=, OnCalendar=, Every=, Persistent=, " \
        "RandomizedDelaySec=, AccuracySec=, Description=, Scope= (and X-* keys, which are ignored)"

/* Checks that need the whole section: required keys, conflicting keys, unique names. */
static int entry_finish(Parser *p) {
        ScheduleEntry *e;
        int r;

        if (p->cur == SIZE_MAX)
                return 0;
        e = &p->s->entries[p->cur];
        p->cur = SIZE_MAX;

#define REJECTED(k) (e->rejected & (1U << (k)))
        if (!e->name && !REJECTED(KEY_NAME)) {
                r = schedule_add_error(p->s, e, p->path, e->line,
                                       "[Job]: Name= is missing; every entry needs a Name= (it becomes the unit "
                                       "names jobs-NAME.timer and jobs-NAME.service)");
                if (r < 0)
                        return r;
        }
        /* "[Job] Name=x: " when the entry has a name, "[Job]: " when not */
        const char *sep = e->name ? " Name=" : "", *n = strempty(e->name);
#define ENTRY_ERR(fmt, ...)                                                                             \
        do {                                                                                            \
                r = schedule_add_error(p->s, e, p->path, e->line, "[Job]%s%s: " fmt, sep, n, ##__VA_ARGS__); \
                if (r < 0)                                                                              \
                        return r;                                                                       \
        } while (0)
        if (!e->class && !REJECTED(KEY_CLASS))
                ENTRY_ERR("Class= is missing; every entry needs Class=NAME, the job class to enqueue");
        if (e->n_calendars == 0 && e->every == 0 && !REJECTED(KEY_ON_CALENDAR) && !REJECTED(KEY_EVERY))
                ENTRY_ERR("no OnCalendar= and no Every=; an entry needs one of them, e.g. Every=1min or "
                          "OnCalendar=*-*-* 02:00 Europe/London");
        if (e->n_calendars > 0 && e->every > 0)
                ENTRY_ERR("both OnCalendar= and Every= are set; use one of them (several OnCalendar= lines "
                          "are allowed)");
        if (e->every > 0 && e->persistent > 0) {
                char buf[SCHEDULE_EVERY_CALENDAR_MAX], d[DURATION_MAX];
                if (!schedule_every_to_calendar(e->every, buf))
                        ENTRY_ERR("Persistent=yes needs a calendar schedule, but Every=%s does not divide a "
                                  "minute, an hour or a day and runs as a monotonic timer, which cannot catch "
                                  "up missed runs; use OnCalendar= or an Every= such as 5min, 1h or 1d",
                                  format_duration(d, sizeof d, e->every));
        } else if (e->every > 0 && !e->host_scope) {
                char buf[SCHEDULE_EVERY_CALENDAR_MAX], d[DURATION_MAX];
                if (!schedule_every_to_calendar(e->every, buf))
                        ENTRY_ERR("Every=%s does not divide a minute, an hour or a day, so it runs as a "
                                  "monotonic timer whose occurrences differ between hosts and cannot be "
                                  "enqueued once across them; use an Every= such as 5min, 1h or 1d, "
                                  "OnCalendar=, or Scope=host to enqueue on every host",
                                  format_duration(d, sizeof d, e->every));
        }
#undef REJECTED
#undef ENTRY_ERR

        if (e->name && schedule_name_is_valid(e->name)) {
                json_t *prev = json_object_get(p->names, e->name);
                if (prev) {
                        const ScheduleEntry *o = &p->s->entries[json_integer_value(prev)];
                        r = schedule_add_error(p->s, e, p->path, e->line,
                                               "[Job] Name=%s: the name is already used by the entry at %s:%u; "
                                               "names must be unique",
                                               e->name, o->path, o->line);
                        if (r < 0)
                                return r;
                } else if (json_object_set_new(p->names, e->name, json_integer((json_int_t) (e - p->s->entries))) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int entry_start(Parser *p, unsigned line) {
        Schedule *s = p->s;
        int r;

        if (s->n_entries >= SCHEDULE_ENTRIES_MAX) {
                p->ignoring = true;
                return schedule_add_error(s, NULL, p->path, line,
                                          "[Job]: too many entries; a schedule holds at most %u, the rest of "
                                          "this file is ignored",
                                          SCHEDULE_ENTRIES_MAX);
        }
        r = grow((void **) &s->entries, &s->entries_alloc, s->n_entries + 1, sizeof(ScheduleEntry));
        if (r < 0)
                return r;
        s->entries[s->n_entries] = (ScheduleEntry) {
                .path = p->path,
                .line = line,
                .persistent = -1,
                .randomized_delay = USEC_INFINITY,
                .accuracy = USEC_INFINITY,
        };
        p->cur = s->n_entries++;
        p->ignoring = false;
        return 0;
}

static int parse_logical_line(Parser *p, char *l, unsigned line) {
        char *eq, *key, *value;
        int r;

        l = strstrip(l);
        if (!*l || strchr(COMMENTS, *l))
                return 0;

        if (*l == '[') {
                size_t k = strlen(l);
                r = entry_finish(p);
                if (r < 0)
                        return r;
                if (l[k - 1] != ']') {
                        p->ignoring = true;
                        return schedule_add_error(p->s, NULL, p->path, line,
                                                  "%s: invalid section header; write [Job]", l);
                }
                l[k - 1] = 0;
                const char *section = l + 1;
                if (streq(section, "Job"))
                        return entry_start(p, line);
                p->ignoring = true;
                if (strncmp(section, "X-", 2) == 0)
                        return 0; /* extension sections are ignored, as systemd does */
                return schedule_add_error(p->s, NULL, p->path, line,
                                          "[%s]: unknown section; a schedule has only [Job] sections "
                                          "(X-* sections are ignored)",
                                          section);
        }

        if (p->ignoring)
                return 0;

        ScheduleEntry *e = p->cur == SIZE_MAX ? NULL : &p->s->entries[p->cur];
        eq = strchr(l, '=');
        if (!eq) {
                char b[VALUE_SHOWN_MAX + 8];
                return schedule_add_error(p->s, e, p->path, line, "%s: missing '='; lines are Key=Value",
                                          shown(l, b));
        }
        *eq = 0;
        key = strstrip(l);
        value = strstrip(eq + 1);
        if (!e)
                return ERR(p, NULL, line, key, value,
                           "assignment outside of a [Job] section; start each entry with a [Job] line");
        if (!*key)
                return ERR(p, e, line, key, value, "empty key; lines are Key=Value");

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].key, key)) {
                        size_t before = p->s->n_errors + p->s->n_errors_dropped;
                        r = keys[i].parse(p, e, key, value, line);
                        if (p->s->n_errors + p->s->n_errors_dropped > before)
                                e->rejected |= 1U << i;
                        return r;
                }
        if (strncmp(key, "X-", 2) == 0)
                return 0;
        return ERR(p, e, line, key, value, "unknown key %s=; allowed: " KEYS_ALLOWED, key);
}

int schedule_parse(Schedule *s, const char *path, const char *text, size_t len) {
        _cleanup_free_ char *buf = NULL, *pathcopy = NULL;
        size_t buf_len = 0, buf_alloc = 0;
        unsigned lineno = 0, start_line = 0;
        bool continued = false, too_long = false;
        Parser p = { .s = s, .cur = SIZE_MAX };
        int r;

        pathcopy = strdup(path);
        if (!pathcopy)
                return -ENOMEM;
        char **np = reallocarray(s->paths, s->n_paths + 1, sizeof(char *));
        if (!np)
                return -ENOMEM;
        s->paths = np;
        p.path = s->paths[s->n_paths++] = TAKE_PTR(pathcopy);

        if (memchr(text, 0, len))
                return schedule_add_error(s, NULL, path, 0, "the file contains a NUL byte; a schedule is text");

        if (!s->names && !(s->names = json_object()))
                return -ENOMEM;
        p.names = s->names;

        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
                text += 3;
                len -= 3;
        }

        const char *end = text + len;
        for (const char *q = text; q < end;) {
                const char *nl = memchr(q, '\n', (size_t) (end - q));
                const char *le = nl ? nl : end;
                size_t n = (size_t) (le - q);
                const char *line = q;

                q = nl ? nl + 1 : end;
                lineno++;
                if (n > 0 && line[n - 1] == '\r')
                        n--;

                /* comment lines are dropped even in the middle of a continuation (systemd.syntax(7)) */
                size_t ws = 0;
                while (ws < n && strchr(WHITESPACE, line[ws]))
                        ws++;
                if (ws < n && strchr(COMMENTS, line[ws]))
                        continue;

                if (!continued) {
                        start_line = lineno;
                        buf_len = 0;
                        too_long = false;
                }
                if (!too_long && buf_len + n > SCHEDULE_LINE_MAX) {
                        too_long = true;
                        r = schedule_add_error(s, p.cur == SIZE_MAX ? NULL : &s->entries[p.cur], path, start_line,
                                               "the line is longer than %u bytes (continuations joined); "
                                               "split the value or shorten it",
                                               SCHEDULE_LINE_MAX);
                        if (r < 0)
                                return r;
                }
                if (!too_long) {
                        r = grow((void **) &buf, &buf_alloc, buf_len + n + 1, 1);
                        if (r < 0)
                                return r;
                        memcpy(buf + buf_len, line, n);
                        buf_len += n;
                        buf[buf_len] = 0;
                }

                /* an odd run of trailing backslashes continues the line; the last one becomes a space */
                size_t bs = 0;
                while (bs < n && line[n - 1 - bs] == '\\')
                        bs++;
                if (bs % 2 == 1) {
                        if (!too_long)
                                buf[buf_len - 1] = ' ';
                        continued = true;
                        continue;
                }
                continued = false;
                if (too_long)
                        continue;
                r = parse_logical_line(&p, buf, start_line);
                if (r < 0)
                        return r;
        }
        if (continued && !too_long) {
                r = parse_logical_line(&p, buf, start_line);
                if (r < 0)
                        return r;
        }
        return entry_finish(&p);
}

int schedule_load_file(Schedule *s, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_full_file(path, SCHEDULE_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return schedule_add_error(s, NULL, path, 0, "the file is larger than %u bytes; split the schedule",
                                          SCHEDULE_FILE_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return schedule_add_error(s, NULL, path, 0, "cannot read the file: %s", strerror(-r));
        return schedule_parse(s, path, text, len);
}

size_t schedule_count_good(const Schedule *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_entries; i++)
                n += !s->entries[i].broken;
        return n;
}

const char *schedule_entry_queue(const ScheduleEntry *e) {
        return e->queue ? e->queue : "default";
}

const char *schedule_entry_args(const ScheduleEntry *e) {
        return e->args ? e->args : "[]";
}

const char *schedule_every_to_calendar(usec_t every, char buf[static SCHEDULE_EVERY_CALENDAR_MAX]) {
        uint64_t sec = every / USEC_PER_SEC;

        if (every == 0 || every % USEC_PER_SEC != 0)
                return NULL;
        if (sec < 60 && 60 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 1 ? "*-*-* *:*:*" : "*-*-* *:*:00/%llu",
                         (unsigned long long) sec);
        else if (sec % 60 == 0 && sec < 3600 && 3600 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 60 ? "*-*-* *:*:00" : "*-*-* *:00/%llu:00",
                         (unsigned long long) (sec / 60));
        else if (sec % 3600 == 0 && sec < 86400 && 86400 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 3600 ? "*-*-* *:00:00" : "*-*-* 00/%llu:00:00",
                         (unsigned long long) (sec / 3600));
        else if (sec == 86400)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, "*-*-* 00:00:00");
        else if (sec == 7 * 86400)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, "Mon *-*-* 00:00:00");
        else
                return NULL;
        return buf;
}
