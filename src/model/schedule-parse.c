/* SPDX-License-Identifier: MIT */
/* The schedule parser: systemd's unit-file syntax (systemd.syntax(7), util/conf-parser.h) with one
 * [Job] section per entry; every problem is a diagnostic, and the rest of the file is still read. */

#include "model/schedule-parser.h"

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

/* Checks that need the whole section: required keys, conflicting keys, unique names. */
static int entry_finish(ScheduleParser *p) {
        ScheduleEntry *e;
        int r;

        if (p->cur == SIZE_MAX)
                return 0;
        e = &p->s->entries[p->cur];
        p->cur = SIZE_MAX;

#define REJECTED(k) (e->rejected & (1U << (k)))
        if (!e->name && !REJECTED(SCHEDULE_KEY_NAME)) {
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
        if (!e->class && !REJECTED(SCHEDULE_KEY_CLASS))
                ENTRY_ERR("Class= is missing; every entry needs Class=NAME, the job class to enqueue");
        if (e->n_calendars == 0 && e->every == 0 && !REJECTED(SCHEDULE_KEY_ON_CALENDAR) && !REJECTED(SCHEDULE_KEY_EVERY))
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
                json_t *prev = json_object_get(p->s->names, e->name);
                if (prev) {
                        const ScheduleEntry *o = &p->s->entries[json_integer_value(prev)];
                        r = schedule_add_error(p->s, e, p->path, e->line,
                                               "[Job] Name=%s: the name is already used by the entry at %s:%u; "
                                               "names must be unique",
                                               e->name, o->path, o->line);
                        if (r < 0)
                                return r;
                } else if (json_object_set_new(p->s->names, e->name, json_integer((json_int_t) (e - p->s->entries))) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int entry_start(ScheduleParser *p, unsigned line) {
        Schedule *s = p->s;
        int r;

        if (s->n_entries >= SCHEDULE_ENTRIES_MAX) {
                r = schedule_add_error(s, NULL, p->path, line,
                                       "[Job]: too many entries; a schedule holds at most %u, the rest of "
                                       "this file is ignored",
                                       SCHEDULE_ENTRIES_MAX);
                return r < 0 ? r : CONF_SECTION_IGNORE;
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
        return 0;
}

static ScheduleEntry *current(ScheduleParser *p) {
        return p->cur == SIZE_MAX ? NULL : &p->s->entries[p->cur];
}

static int on_section(void *userdata, const char *section, unsigned line) {
        ScheduleParser *p = userdata;
        int r;

        r = entry_finish(p);
        if (r < 0)
                return r;
        if (streq(section, "Job"))
                return entry_start(p, line);
        r = schedule_add_error(p->s, NULL, p->path, line,
                               "[%s]: unknown section; a schedule has only [Job] sections (X-* sections are ignored)",
                               section);
        return r < 0 ? r : CONF_SECTION_IGNORE;
}

static int on_assignment(void *userdata, const char *key, const char *value, unsigned line) {
        ScheduleParser *p = userdata;
        ScheduleEntry *e = current(p);
        ScheduleKey k;

        if (!e) /* after a section that failed to start */
                return 0;
        k = schedule_key_from_string(key);
        if (k < 0)
                return schedule_value_error(p, e, line, key, value, "unknown key %s=; allowed: %s", key,
                                            schedule_keys_allowed);
        return schedule_key_assign(p, e, k, key, value, line);
}

static int on_error(void *userdata, ConfError error, unsigned line, const char *message) {
        ScheduleParser *p = userdata;
        int r;

        /* a broken header ends the entry before it; the error is not that entry's */
        if (error == CONF_ERROR_SECTION_HEADER) {
                r = entry_finish(p);
                if (r < 0)
                        return r;
        }
        return schedule_add_error(p->s, current(p), p->path, line, "%s", message);
}

int schedule_parse(Schedule *s, const char *path, const char *text, size_t len) {
        _cleanup_free_ char *pathcopy = NULL;
        ScheduleParser p = { .s = s, .cur = SIZE_MAX };
        int r;

        pathcopy = strdup(path);
        if (!pathcopy)
                return -ENOMEM;
        char **np = reallocarray(s->paths, s->n_paths + 1, sizeof(char *));
        if (!np)
                return -ENOMEM;
        s->paths = np;
        p.path = s->paths[s->n_paths++] = TAKE_PTR(pathcopy);
        if (!s->names && !(s->names = json_object()))
                return -ENOMEM;

        const ConfParser cp = {
                .first_section = "[Job]",
                .line_max = SCHEDULE_LINE_MAX,
                .section = on_section,
                .assignment = on_assignment,
                .error = on_error,
                .userdata = &p,
        };
        r = conf_parse(&cp, text, len);
        if (r < 0)
                return r;
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

