/* SPDX-License-Identifier: MIT */
/* The schedule: its entries, the files they came from and the diagnostics found in them. */

#include "model/schedule.h"

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
