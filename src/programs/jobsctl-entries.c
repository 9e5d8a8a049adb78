/* SPDX-License-Identifier: MIT */
/* jobsctl schedule: the fleet entries as Redis knows them — last occurrence, the host that claimed
 * it, its job and what became of the job, the next occurrence and the missed ones. */

#include <inttypes.h>

#include "model/occurrence.h"
#include "model/schedule.h"
#include "programs/jobsctl.h"
#include "redis/claim.h"
#include "util/log.h"

/* Jobs of a queue, the retry set and the dead set looked at to find the entries' last jobs. */
#define ENTRY_SCAN_MAX 100000
/* An occurrence later than the last claimed one counts as missed once it is this late. */
#define ENTRY_GRACE (60 * USEC_PER_SEC)

/* For pairs (queue, jid) in ARGV: "enqueued", "retrying", "dead" or "" (found nowhere). */
static const char state_script[] =
        "local want, state, queues = {}, {}, {}\n"
        "for i = 1, #ARGV, 2 do want[ARGV[i + 1]] = true; queues[ARGV[i]] = true end\n"
        "local function scan(items, kind)\n"
        "  for _, p in ipairs(items) do\n"
        "    local j = string.match(p, '\"jid\":\"([^\"]+)\"')\n"
        "    if j and want[j] and not state[j] then state[j] = kind end\n"
        "  end\n"
        "end\n"
        "local max = tonumber(KEYS[1])\n"
        "scan(redis.call('ZRANGE', 'retry', 0, max - 1), 'retrying')\n"
        "scan(redis.call('ZREVRANGE', 'dead', 0, max - 1), 'dead')\n"
        "for q in pairs(queues) do scan(redis.call('LRANGE', 'queue:' .. q, 0, max - 1), 'enqueued') end\n"
        "local out = {}\n"
        "for i = 1, #ARGV, 2 do out[#out + 1] = state[ARGV[i + 1]] or '' end\n"
        "return out\n";

static const char *field(json_t *rec, const char *name) {
        return json_string_value(json_object_get(rec, name));
}

static usec_t field_usec(json_t *rec, const char *name) {
        uint64_t v;
        return field(rec, name) && parse_u64(field(rec, name), &v) >= 0 ? v : 0;
}

static usec_t field_time(json_t *rec, const char *name) {
        const char *s = field(rec, name);
        double d = s ? strtod(s, NULL) : 0;
        return d > 0 ? (usec_t) (d * (double) USEC_PER_SEC) : 0;
}

/* The next occurrence after now and the ones after last that are overdue by ENTRY_GRACE. */
static void entry_times(const char *calendars, usec_t last, usec_t now, usec_t *ret_next, unsigned *ret_pending) {
        CalendarSpec *specs[SCHEDULE_CALENDARS_MAX] = {};
        _cleanup_free_ char *copy = strdup(strempty(calendars));
        size_t n = 0;
        char *p, *save = NULL;
        *ret_next = 0;
        *ret_pending = 0;
        if (!copy)
                return;
        for (p = strtok_r(copy, "\n", &save); p && n < SCHEDULE_CALENDARS_MAX; p = strtok_r(NULL, "\n", &save))
                if (calendar_spec_parse(p, &specs[n], NULL) >= 0)
                        n++;
        if (n > 0) {
                (void) occurrence_next(specs, n, now, ret_next);
                if (last > 0 && now > ENTRY_GRACE)
                        (void) occurrence_count_between(specs, n, last, now - ENTRY_GRACE + 1, CLAIM_MISSED_WINDOW,
                                                        ret_pending);
        }
        for (size_t i = 0; i < n; i++)
                calendar_spec_free(specs[i]);
}

/* The record of every entry, as a JSON array of objects sorted by name, with the job's outcome. */
int ctl_schedule_entries(Redis *r, json_t **ret) {
        _cleanup_reply_ redisReply *names = NULL, *states = NULL;
        json_auto_t *out = json_array(), *busy = NULL;
        _cleanup_free_ const char **argv = NULL;
        _cleanup_free_ size_t *lens = NULL;
        ProcessInfo *p = NULL;
        size_t np = 0, n, na = 0;
        usec_t now = now_usec(CLOCK_REALTIME);
        char max[16];
        int k;

        if (!out)
                return -ENOMEM;
        k = redis_command(r, &names, "ZRANGE " CLAIM_ENTRIES_KEY " 0 %u", CLAIM_ENTRIES_MAX - 1);
        if (k < 0)
                return k;
        if (names->type != REDIS_REPLY_ARRAY)
                return -EPROTO;
        n = names->elements;
        for (size_t i = 0; i < n; i++) {
                if (names->element[i]->type != REDIS_REPLY_STRING)
                        return -EPROTO;
                k = redis_append(r, "HGETALL " CLAIM_RECORD_PREFIX "%b", names->element[i]->str, names->element[i]->len);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_reply_ redisReply *h = NULL;
                json_t *rec;

                k = redis_get_reply(r, &h);
                if (k < 0)
                        return k;
                rec = json_object();
                if (!rec || json_object_set_new(rec, "entry", json_stringn(names->element[i]->str, names->element[i]->len)) < 0 ||
                    json_array_append_new(out, rec) < 0)
                        return -ENOMEM;
                for (size_t j = 0; h->type == REDIS_REPLY_ARRAY && j + 1 < h->elements; j += 2)
                        if (h->element[j]->type == REDIS_REPLY_STRING && h->element[j + 1]->type == REDIS_REPLY_STRING &&
                            json_object_set_new(rec, h->element[j]->str,
                                                json_stringn(h->element[j + 1]->str, h->element[j + 1]->len)) < 0)
                                return -ENOMEM;
        }

        /* Where the last jobs are: running (a process's work hash), waiting, retrying, dead. */
        k = ctl_processes(r, &p, &np);
        if (k >= 0)
                k = ctl_busy_jobs(r, p, np, &busy);
        processes_free(p, np);
        if (k < 0)
                return k;
        argv = calloc(4 + 2 * n, sizeof *argv);
        lens = calloc(4 + 2 * n, sizeof *lens);
        if (!argv || !lens)
                return -ENOMEM;
        snprintf(max, sizeof max, "%d", ENTRY_SCAN_MAX);
        argv[na++] = "EVAL", argv[na++] = state_script, argv[na++] = "1", argv[na++] = max;
        for (size_t i = 0; i < n; i++) {
                json_t *rec = json_array_get(out, i);
                argv[na++] = field(rec, CLAIM_FIELD_QUEUE) ? field(rec, CLAIM_FIELD_QUEUE) : "default";
                argv[na++] = field(rec, CLAIM_FIELD_JID) ? field(rec, CLAIM_FIELD_JID) : "";
        }
        for (size_t i = 0; i < na; i++)
                lens[i] = strlen(argv[i]);
        k = redis_command_argv(r, &states, (int) na, argv, lens);
        if (k < 0)
                return k;
        if (states->type != REDIS_REPLY_ARRAY || states->elements != n)
                return -EPROTO;

        for (size_t i = 0; i < n; i++) {
                json_t *rec = json_array_get(out, i), *b;
                const char *jid = field(rec, CLAIM_FIELD_JID), *outcome = NULL, *recorded = field(rec, CLAIM_FIELD_OUTCOME);
                usec_t last = field_usec(rec, CLAIM_FIELD_LAST), next, duration = field_usec(rec, CLAIM_FIELD_DURATION);
                unsigned pending;
                size_t j;

                json_array_foreach(busy, j, b)
                        if (jid && streq(strempty(json_string_value(json_object_get(json_object_get(b, "job"), "jid"))), jid))
                                outcome = "running";
                if (!outcome && states->element[i]->type == REDIS_REPLY_STRING && states->element[i]->len > 0)
                        outcome = states->element[i]->str;
                if (!outcome)
                        /* done/failed as jobs-worker recorded them; else the job left Redis without a
                         * record (run by a worker that records none, or the queue was cleared) */
                        outcome = recorded ? recorded : "unknown";
                entry_times(field(rec, CLAIM_FIELD_CALENDARS), last, now, &next, &pending);

                json_auto_t *cals = json_array();
                _cleanup_free_ char *copy = strdup(strempty(field(rec, CLAIM_FIELD_CALENDARS)));
                char *save = NULL;
                if (!cals || !copy)
                        return -ENOMEM;
                for (char *c = strtok_r(copy, "\n", &save); c; c = strtok_r(NULL, "\n", &save))
                        if (json_array_append_new(cals, json_string(c)) < 0)
                                return -ENOMEM;
                json_t *o = json_pack("{s:s?, s:s?, s:s?, s:O, s:o, s:s?, s:s?, s:o, s:s, s:o, s:o, s:o, s:I, s:I}",
                                      "entry", field(rec, "entry"), "class", field(rec, CLAIM_FIELD_CLASS), "queue",
                                      field(rec, CLAIM_FIELD_QUEUE), "calendars", cals, "last_occurrence",
                                      ctl_json_time(last), "host", field(rec, CLAIM_FIELD_HOST), "jid", jid,
                                      "claimed_at", ctl_json_time(field_time(rec, CLAIM_FIELD_CLAIMED_AT)), "outcome",
                                      outcome, "duration",
                                      recorded && duration > 0 ? json_real((double) duration / (double) USEC_PER_SEC) : json_null(),
                                      "finished_at", ctl_json_time(recorded ? field_time(rec, CLAIM_FIELD_FINISHED_AT) : 0),
                                      "next_occurrence", ctl_json_time(next), "missed",
                                      (json_int_t) field_usec(rec, CLAIM_FIELD_MISSED) + pending, "missed_pending",
                                      (json_int_t) pending);
                if (!o || json_array_set_new(out, i, o) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int print_entries(json_t *entries, usec_t now) {
        _cleanup_(table_freep) Table *t = NULL;
        char last[TIMESTAMP_MAX], next[TIMESTAMP_MAX], d[TIMESTAMP_MAX];
        bool c = ctl_colors();
        json_t *e;
        size_t i;

        t = table_new(7, (const char *[]) { "ENTRY", "LAST OCCURRENCE", "HOST", "JID", "OUTCOME", "NEXT", "MISSED" });
        if (!t)
                return log_oom();
        json_array_foreach(entries, i, e) {
                const char *o = json_string_value(json_object_get(e, "outcome"));
                double dur = json_number_value(json_object_get(e, "duration"));
                json_int_t missed = json_integer_value(json_object_get(e, "missed"));
                const char *color = !c ? NULL
                                    : streq(o, "done") ? ANSI_GREEN
                                    : streq(o, "failed") || streq(o, "dead") ? ANSI_RED
                                    : streq(o, "retrying") ? ANSI_YELLOW
                                                           : NULL;

                (void) table_add_cell(t, json_string_value(json_object_get(e, "entry")), c ? ANSI_HIGHLIGHT : NULL);
                (void) table_add_cell(t, ctl_format_time_both(last, sizeof last,
                                                              (usec_t) (json_number_value(json_object_get(e, "last_occurrence")) * 1e6), now), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "host")), NULL);
                (void) table_add_cell(t, json_string_value(json_object_get(e, "jid")), NULL);
                if (dur > 0)
                        (void) table_add_cellf(t, color, "%s in %s", o, format_timespan_short(d, sizeof d, (usec_t) (dur * 1e6)));
                else
                        (void) table_add_cell(t, o, color);
                (void) table_add_cell(t, ctl_format_time_both(next, sizeof next,
                                                              (usec_t) (json_number_value(json_object_get(e, "next_occurrence")) * 1e6), now), NULL);
                (void) table_add_cellf(t, c && missed > 0 ? ANSI_YELLOW : NULL, "%" JSON_INTEGER_FORMAT, missed);
        }
        return ctl_print_table(t);
}

int verb_schedule(int argc, char **argv) {
        _cleanup_(redis_done) Redis r = {};
        json_auto_t *entries = NULL;
        int k;

        k = ctl_begin(argc, argv, 0, &r);
        if (k != 0)
                return k < 0 ? EX_OK : k;
        k = ctl_schedule_entries(&r, &entries);
        if (k == -ENOMEM)
                return (void) log_oom(), EX_OSERR;
        if (k < 0)
                return ctl_redis_error(&r, k, "read the schedule's entries");
        if (arg_json != JSON_OFF)
                return ctl_print_json(TAKE_PTR(entries));
        if (json_array_size(entries) == 0) {
                printf("No entry of a fleet schedule has been enqueued yet (host-local entries, Scope=host, are not recorded).\n");
                return EX_OK;
        }
        k = print_entries(entries, now_usec(CLOCK_REALTIME));
        return k < 0 ? EX_IOERR : EX_OK;
}
