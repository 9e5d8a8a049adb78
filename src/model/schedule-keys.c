/* SPDX-License-Identifier: MIT */
/* The keys of a [Job] section: each value checked against what the generated units and the job
 * payload accept, then stored in its ScheduleEntry. */

#include "model/schedule-parser.h"

typedef int (*KeyParser)(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line);

static int parse_name(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !schedule_name_is_valid(value))
                return schedule_value_error(p, e, line, key, value,
                           "entry names may use only A-Z a-z 0-9 _ . -, must start with a letter or digit "
                           "and be at most %zu bytes, because they become the unit names "
                           "jobs-NAME.timer and jobs-NAME.service",
                           (size_t) SCHEDULE_NAME_MAX);
        return conf_set_string(&e->name, value);
}

static int parse_class(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !job_class_is_valid(value))
                return schedule_value_error(p, e, line, key, value,
                           "a class is 1-%d characters of A-Z a-z 0-9 _ : . - and does not start with . or -",
                           JOB_CLASS_MAX);
        return conf_set_string(&e->class, value);
}

static int parse_queue(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (*value && !job_queue_is_valid(value))
                return schedule_value_error(p, e, line, key, value, "a queue is 1-%d characters of A-Z a-z 0-9 _ . : -",
                           JOB_QUEUE_MAX);
        return conf_set_string(&e->queue, value);
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

static int parse_args(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *compact = NULL;
        json_error_t err;

        if (!*value)
                return conf_set_string(&e->args, value);
        j = json_loads(value, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return schedule_value_error(p, e, line, key, value, "not valid JSON (%s at character %d); Args= is a JSON array "
                           "such as [] or [\"world\", 42]", err.text, err.position);
        if (!json_is_array(j))
                return schedule_value_error(p, e, line, key, value, "Args= must be a JSON array such as [] or [\"world\", 42]");
        compact = json_text_compact(value);
        if (!compact)
                return -ENOMEM;
        /* JSON allows a raw DEL in a string; ExecStart= cannot carry one */
        if (!schedule_text_is_printable(compact))
                return schedule_value_error(p, e, line, key, value,
                                            "the arguments hold a control character (such as DEL), which a unit "
                                            "file cannot carry; write it escaped, e.g. \"\\u007f\"");
        if (strlen(compact) > SCHEDULE_ARGS_MAX)
                return schedule_value_error(p, e, line, key, value, "the arguments are %zu bytes of JSON, at most %u are allowed",
                           strlen(compact), SCHEDULE_ARGS_MAX);
        free(e->args);
        e->args = TAKE_PTR(compact);
        return 0;
}

static int parse_retry(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        JobRetry retry;

        if (!*value) {
                e->retry_set = false;
                return 0;
        }
        if (job_retry_from_string(value, &retry) < 0)
                return schedule_value_error(p, e, line, key, value, "use true, false or a number of retries from 0 to 1000");
        e->retry = retry;
        e->retry_set = true;
        return 0;
}

static int parse_calendar(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        _cleanup_free_ char *c = NULL;

        if (!*value) {
                /* as in unit files, an empty assignment resets the list */
                for (size_t i = 0; i < e->n_calendars; i++)
                        free(e->calendars[i].expression);
                e->n_calendars = 0;
                return 0;
        }
        if (!schedule_calendar_charset_ok(value))
                return schedule_value_error(p, e, line, key, value,
                           "a calendar expression is at most %u characters of A-Z a-z 0-9, space and *-:,./~+_@ "
                           "(systemd.time(7), e.g. \"*-*-* 02:00 Europe/London\" or \"Mon..Fri 09:00\")",
                           SCHEDULE_CALENDAR_LEN_MAX);
        if (e->n_calendars >= SCHEDULE_CALENDARS_MAX)
                return schedule_value_error(p, e, line, key, value, "too many OnCalendar= lines, at most %u per entry",
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

static int parse_every(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        usec_t u;

        if (!*value) {
                e->every = 0;
                return 0;
        }
        if (parse_duration(value, &u) < 0 || u < USEC_PER_SEC || u > 366 * USEC_PER_DAY ||
            u % USEC_PER_SEC != 0)
                return schedule_value_error(p, e, line, key, value,
                           "use a whole number of seconds from 1s to 366d, written like \"30s\", \"1min\", "
                           "\"5min\", \"1h 30min\" or \"1d\"");
        e->every = u;
        e->every_line = line;
        return 0;
}

static int parse_persistent(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        int b;

        if (!*value) {
                e->persistent = -1;
                return 0;
        }
        b = parse_boolean(value);
        if (b < 0)
                return schedule_value_error(p, e, line, key, value, "use yes or no (also true/false, on/off, 1/0)");
        e->persistent = b;
        return 0;
}

static int parse_active_job(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        int b = *value ? parse_boolean(value) : 0;

        if (b < 0)
                return schedule_value_error(p, e, line, key, value, "use yes or no (also true/false, on/off, 1/0)");
        e->active_job = b;
        return 0;
}

static int parse_sec(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line,
                     usec_t *field) {
        usec_t u;

        if (!*value) {
                *field = USEC_INFINITY;
                return 0;
        }
        if (parse_duration(value, &u) < 0 || u > 366 * USEC_PER_DAY)
                return schedule_value_error(p, e, line, key, value,
                           "use a duration from 0 to 366d, written like \"1s\", \"30s\", \"5min\" or \"1h 30min\"");
        *field = u;
        return 0;
}

static int parse_randomized_delay(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        return parse_sec(p, e, key, value, line, &e->randomized_delay);
}

static int parse_accuracy(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        return parse_sec(p, e, key, value, line, &e->accuracy);
}

static int parse_scope(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        if (!*value || streq(value, "fleet"))
                e->host_scope = false;
        else if (streq(value, "host"))
                e->host_scope = true;
        else
                return schedule_value_error(p, e, line, key, value,
                                            "use fleet (each occurrence enqueued once by whichever host fires "
                                            "first, the default) or host (enqueued by every host)");
        return 0;
}

static int parse_description(ScheduleParser *p, ScheduleEntry *e, const char *key, const char *value, unsigned line) {
        size_t l = strlen(value);
        if (l > SCHEDULE_DESCRIPTION_MAX || !schedule_text_is_printable(value))
                return schedule_value_error(p, e, line, key, value, "a description is at most %u bytes of printable UTF-8",
                           SCHEDULE_DESCRIPTION_MAX);
        /* in the unit, an odd number of trailing backslashes would continue the line */
        size_t bs = 0;
        while (bs < l && value[l - 1 - bs] == '\\')
                bs++;
        if (bs % 2 == 1)
                return schedule_value_error(p, e, line, key, value, "a description may not end with an odd number of backslashes");
        return conf_set_string(&e->description, value);
}

static const struct {
        const char *key;
        KeyParser parse;
} keys[_SCHEDULE_KEY_MAX] = {
        [SCHEDULE_KEY_NAME] = { "Name", parse_name },
        [SCHEDULE_KEY_CLASS] = { "Class", parse_class },
        [SCHEDULE_KEY_QUEUE] = { "Queue", parse_queue },
        [SCHEDULE_KEY_ARGS] = { "Args", parse_args },
        [SCHEDULE_KEY_RETRY] = { "Retry", parse_retry },
        [SCHEDULE_KEY_ON_CALENDAR] = { "OnCalendar", parse_calendar },
        [SCHEDULE_KEY_EVERY] = { "Every", parse_every },
        [SCHEDULE_KEY_PERSISTENT] = { "Persistent", parse_persistent },
        [SCHEDULE_KEY_RANDOMIZED_DELAY] = { "RandomizedDelaySec", parse_randomized_delay },
        [SCHEDULE_KEY_ACCURACY] = { "AccuracySec", parse_accuracy },
        [SCHEDULE_KEY_DESCRIPTION] = { "Description", parse_description },
        [SCHEDULE_KEY_SCOPE] = { "Scope", parse_scope },
        [SCHEDULE_KEY_ACTIVE_JOB] = { "ActiveJob", parse_active_job },
};

const char schedule_keys_allowed[] = "Name=, Class=, Queue=, Args=, Retry=, OnCalendar=, Every=, Persistent=, "
                                     "RandomizedDelaySec=, AccuracySec=, Description=, Scope=, ActiveJob= (and X-* keys, which are ignored)";

ScheduleKey schedule_key_from_string(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].key, key))
                        return (ScheduleKey) i;
        return _SCHEDULE_KEY_INVALID;
}

int schedule_key_assign(ScheduleParser *p, ScheduleEntry *e, ScheduleKey k, const char *key, const char *value,
                        unsigned line) {
        size_t before = p->s->n_errors + p->s->n_errors_dropped;
        int r = keys[k].parse(p, e, key, value, line);

        if (p->s->n_errors + p->s->n_errors_dropped > before)
                e->rejected |= 1U << k;
        return r;
}
