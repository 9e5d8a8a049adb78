/* SPDX-License-Identifier: MIT */
/* The schedule: [Job] sections in systemd's Key=Value syntax, parsed into entries plus diagnostics. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/job.h"
#include "util/util.h"

/* Limits on what a schedule file may hold. A 10,000-entry schedule must fit. */
#define SCHEDULE_FILE_MAX (8U * 1024 * 1024)  /* bytes per file */
#define SCHEDULE_LINE_MAX 16384U              /* bytes of one logical line, continuations joined */
#define SCHEDULE_ENTRIES_MAX 10000U           /* entries in one schedule (all files together) */
#define SCHEDULE_CALENDARS_MAX 64U            /* OnCalendar= lines per entry */
#define SCHEDULE_CALENDAR_LEN_MAX 256U        /* bytes of one calendar expression */
#define SCHEDULE_ARGS_MAX 8192U               /* bytes of the compact Args= JSON */
#define SCHEDULE_DESCRIPTION_MAX 256U
#define SCHEDULE_ERRORS_MAX 1000U             /* diagnostics kept; more are counted, not stored */
#define SCHEDULE_UNIT_PREFIX "jobs-"
/* "jobs-" NAME ".service" must stay within systemd's 255-byte unit name limit. */
#define SCHEDULE_NAME_MAX (255U - (sizeof(SCHEDULE_UNIT_PREFIX) - 1) - (sizeof(".service") - 1))

typedef struct ScheduleCalendar {
        char *expression;
        unsigned line;
} ScheduleCalendar;

typedef struct ScheduleEntry {
        char *name;          /* Name=, unique; the units are jobs-NAME.timer and jobs-NAME.service */
        const char *path;    /* the file it came from (owned by the Schedule) */
        unsigned line;       /* line of its [Job] header */
        char *class;         /* Class=, required */
        char *queue;         /* Queue=, NULL means "default" */
        char *args;          /* Args= as compact JSON, NULL means [] */
        char *description;   /* Description=, NULL means a generated one */
        JobRetry retry;      /* Retry=, meaningful when retry_set */
        bool retry_set;
        ScheduleCalendar *calendars; /* OnCalendar=, in file order */
        size_t n_calendars;
        usec_t every;        /* Every=, 0 when unset */
        unsigned every_line;
        int persistent;      /* Persistent=, -1 when unset */
        usec_t randomized_delay; /* RandomizedDelaySec=, USEC_INFINITY when unset */
        usec_t accuracy;     /* AccuracySec=, USEC_INFINITY when unset (the units say 1s) */
        bool active_job;     /* ActiveJob=yes: pushed as Rails' ActiveJob pushes it (model/active-job.h) */
        bool host_scope;     /* Scope=host: runs on every host; default Scope=fleet: once per occurrence */
        bool broken;         /* an error was reported against this entry; never emit it */
        unsigned rejected;   /* bit per key whose value was refused: no "missing" error for it */
} ScheduleEntry;

typedef struct ScheduleError {
        char *message;       /* "FILE:LINE: Key=value: what is wrong; what is allowed" */
        size_t file;         /* index in paths, for sorting */
        unsigned line;
} ScheduleError;

typedef struct Schedule {
        ScheduleEntry *entries;
        size_t n_entries, entries_alloc;
        json_t *names;       /* set of entry names (a jansson object used as a hash table) */
        char **paths;        /* file names the entries point into */
        size_t n_paths;
        ScheduleError *errors;
        size_t n_errors;
        size_t n_errors_dropped; /* errors beyond SCHEDULE_ERRORS_MAX */
} Schedule;

Schedule *schedule_new(void);
Schedule *schedule_free(Schedule *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Schedule *, schedule_free);

/* Parse text read from path and append its entries and diagnostics to s. An entry with an error is
 * kept but marked broken; the rest of the file is still parsed. Returns 0 (look at s->n_errors), or
 * -ENOMEM. */
int schedule_parse(Schedule *s, const char *path, const char *text, size_t len);

/* Read path (at most SCHEDULE_FILE_MAX bytes) and schedule_parse() it. A file that cannot be read is
 * a diagnostic too; returns -ENOMEM only. */
int schedule_load_file(Schedule *s, const char *path);

/* Record a diagnostic ("PATH:LINE: ...") and mark entry (may be NULL) broken. Returns 0 or -ENOMEM. */
int schedule_add_error(Schedule *s, ScheduleEntry *entry, const char *path, unsigned line, const char *fmt, ...)
        _printf_(5, 6);

/* Order the diagnostics by file, then line (they are recorded as found). */
void schedule_sort_errors(Schedule *s);

/* Number of entries not marked broken. */
size_t schedule_count_good(const Schedule *s);

/* The queue name an entry enqueues into, and its Args= as JSON text. */
const char *schedule_entry_queue(const ScheduleEntry *e);
const char *schedule_entry_args(const ScheduleEntry *e);

/* Every= as a calendar expression when the interval divides a minute, an hour or a day evenly
 * ("*-*-* *:*:00" for 1min), so the timer is aligned to the clock and Persistent= works; NULL when
 * the interval must run as a monotonic timer. Writes into buf. */
#define SCHEDULE_EVERY_CALENDAR_MAX 64
const char *schedule_every_to_calendar(usec_t every, char buf[static SCHEDULE_EVERY_CALENDAR_MAX]);

/* Entry names are [A-Za-z0-9_.-], start with a letter or digit, at most SCHEDULE_NAME_MAX bytes,
 * so "jobs-NAME.timer" is always a valid unit name. */
bool schedule_name_is_valid(const char *name);

/* Syntax every calendar expression must pass before systemd's own grammar is asked: printable ASCII
 * letters, digits, space and "*-:,./~+_", at most SCHEDULE_CALENDAR_LEN_MAX bytes. */
bool schedule_calendar_charset_ok(const char *s);

/* Valid UTF-8 without control characters (below U+0020, and DEL), as Description= must be. */
bool schedule_text_is_printable(const char *s);
