/* SPDX-License-Identifier: MIT */
/* jobsctl's operator verbs (status, queues, job sets, processes, enqueue, run-now) and what they share:
 * options, the Redis connection, output (tables, colour, JSON, times) and exit codes (sysexits). */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sysexits.h>

#include "redis/redis.h"
#include "programs/table.h"
#include "util/timestamp.h"

typedef int (*VerbFunction)(int argc, char **argv);

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args; /* positional arguments after the verb */
        VerbFunction run;            /* argv[0] is the verb, argv[1..argc) its arguments */
        const char *usage;           /* arguments, for --help */
        const char *help;            /* one line, for --help */
} Verb;

/* The operator verbs parse their own options (they may follow the verb), so their argument counts
 * are checked by the verb itself. */
#define VERB_ANY UINT_MAX

/* Verbs return an exit status: EX_OK or a sysexits code. argv[0] is the verb. */
int verb_status(int argc, char **argv);
int verb_queues(int argc, char **argv);
int verb_queue(int argc, char **argv);
int verb_job_set(int argc, char **argv);   /* retries | dead | scheduled */
int verb_processes(int argc, char **argv);
int verb_signal(int argc, char **argv);    /* quiet | stop */
int verb_enqueue(int argc, char **argv);
int verb_run_now(int argc, char **argv);
int verb_schedule(int argc, char **argv);  /* jobsctl-entries.c */
int verb_check(int argc, char **argv);     /* jobsctl-schedule.c */
int verb_generate(int argc, char **argv);  /* jobsctl-schedule.c */
int verb_metrics(int argc, char **argv);

typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,
        JSON_PRETTY,
} JsonMode;

/* Options; set by ctl_parse_global() before the verb and by ctl_parse_verb() after it. */
extern const char *arg_redis;
extern JsonMode arg_json;
extern bool arg_legend;
extern const char *arg_class;
extern unsigned arg_limit;
extern bool arg_all;
extern bool arg_yes;
extern bool arg_names;
extern bool arg_no_block;
extern bool arg_check;
extern usec_t arg_max_latency;
extern usec_t arg_dead_within;
extern const char *arg_textfile;
extern bool arg_http;

#define CTL_LIMIT_DEFAULT 100
#define CTL_LIMIT_MAX 100000
#define CTL_MAX_LATENCY_DEFAULT (5 * USEC_PER_MINUTE)
#define CTL_DEAD_WITHIN_DEFAULT USEC_PER_HOUR
#define CTL_CHECK_DURATION_MAX (365 * USEC_PER_DAY)
#define CTL_EXIT_DECLINED 1 /* the confirmation of a delete/kill --all was answered no */

/* Which options a verb accepts besides --redis, --json, --no-legend. */
typedef enum CtlOption {
        CTL_OPT_CLASS = 1 << 0,
        CTL_OPT_LIMIT = 1 << 1,
        CTL_OPT_ALL = 1 << 2,
        CTL_OPT_NAMES = 1 << 3,
        CTL_OPT_NO_BLOCK = 1 << 4,
        CTL_OPT_CHECK = 1 << 5, /* --check, --max-latency, --dead-within */
        CTL_OPT_METRICS = 1 << 6, /* --textfile, --http */
} CtlOption;

/* Parse the options that come before the verb (stops at the first non-option). Returns the index
 * of the verb in argv, or -(exit status) (EX_USAGE, or -1 for --help/--version: exit 0). */
int ctl_parse_global(int argc, char **argv, const Verb *verbs, size_t n);
void ctl_help(const Verb *verbs, size_t n);

/* The candidate closest to word (a typo of it), or NULL when none is close. */
const char *ctl_closest(const char *word, const char *const *candidates, size_t n);
/* Log getopt_long's '?' (unknown option, with a suggestion from opts) or ':' (missing value) for
 * argv[optind - 1]; returns EX_USAGE. Call getopt_long with opterr = 0 and a leading ':'. */
struct option;
int ctl_option_error(int c, char **argv, const struct option *opts);

/* Parse the verb's own arguments (options may come anywhere). On success *ret_args points into argv
 * at the positional arguments after the verb (*ret_n of them) and EX_OK is returned. */
int ctl_parse_verb(int argc, char **argv, unsigned allowed, char ***ret_args, int *ret_n);

/* For verbs without positional arguments: parse the options, refuse arguments, connect. 0 to go
 * on, -1 when --help was printed (exit 0), else the exit status to return. */
int ctl_begin(int argc, char **argv, unsigned allowed, Redis *r);

/* Connect to the Redis the services use (redis-source.h: --redis, $REDIS_URL, worker.conf,
 * /etc/default/jobs, the default). EX_OK, or logs what to do and returns EX_CONFIG, EX_UNAVAILABLE,
 * EX_NOPERM or EX_TEMPFAIL. */
int ctl_connect(Redis *r);
/* The URL of the last ctl_connect() (password masked) and where it came from, or NULL. */
const char *ctl_redis_description(void);
/* Log a failed Redis command (r->error) with context and return the matching exit status. */
int ctl_redis_error(Redis *r, int error, const char *doing);
/* An integer reply, or a string holding one (GET, HGET); 0 for nil and anything else. */
long long ctl_reply_integer(const redisReply *e);
/* sysexits code for a negative errno from the Redis layer. */
int ctl_exit_status(int error);

/* Output: colour only on a terminal and never with $NO_COLOR; width of the terminal or 0. */
bool ctl_colors(void);
size_t ctl_columns(void);
int ctl_print_table(Table *t);
/* Ask question on a terminal; true if the answer is y/yes, or without asking with --yes or when
 * standard input is not a terminal. */
bool ctl_confirm(const char *question);
/* Print a JSON value in the --json mode and drop the reference. EX_OK or EX_IOERR. */
int ctl_print_json(json_t *v);

/* Time fields of a job as Sidekiq writes them (float seconds, or integer milliseconds). 0 if absent. */
usec_t ctl_job_time(json_t *job, const char *field);
/* "Fri 2026-11-27 11:02:04 UTC (3min ago)" style cells. */
char *ctl_format_time_both(char *buf, size_t n, usec_t t, usec_t now);
/* A JSON number of float epoch seconds for a usec time, or JSON null for 0. */
json_t *ctl_json_time(usec_t t);

/* Shared data readers. */
typedef struct Stats {
        long long processed, failed, processed_today, failed_today;
        long long scheduled, retries, dead;
        long long in_flight, in_flight_orphaned; /* jobs-worker's reliable fetch; not read by ctl_read_stats() */
        char version[32];
} Stats;

/* Sidekiq::Stats: the counters (total and today, UTC), the sizes of schedule, retry and dead, the
 * Redis version. */
int ctl_read_stats(Redis *r, Stats *ret);

typedef struct QueueSummary {
        char *name;
        long long size;
        usec_t oldest; /* enqueued_at of the oldest job, 0 if empty */
} QueueSummary;

int ctl_queue_summaries(Redis *r, QueueSummary **ret, size_t *ret_n);
void queue_summaries_free(QueueSummary *q, size_t n);
int ctl_print_queues(const QueueSummary *q, size_t n, usec_t now);
json_t *ctl_queues_to_json(const QueueSummary *q, size_t n, usec_t now);

typedef struct ProcessInfo {
        char *identity;
        json_t *info;        /* the "info" JSON object */
        long long busy, concurrency, rss;
        usec_t beat, started_at;
        bool quiet, stopping;
} ProcessInfo;

int ctl_processes(Redis *r, ProcessInfo **ret, size_t *ret_n);
void processes_free(ProcessInfo *p, size_t n);
int ctl_print_processes(const ProcessInfo *p, size_t n, usec_t now);
json_t *ctl_processes_to_json(const ProcessInfo *p, size_t n);

/* Running jobs from <identity>:work of every process, as a JSON array of
 * {"process","thread","queue","run_at","job"} sorted by run_at. */
int ctl_busy_jobs(Redis *r, const ProcessInfo *p, size_t n, json_t **ret);
/* Print the busy jobs as a table (or "No jobs running."). */
int ctl_print_busy(json_t *busy, usec_t now);

/* The fleet entries' records (claim.h) with their last job's outcome, next occurrence and missed
 * count, as a JSON array of objects sorted by entry name (jobsctl schedule --json). */
int ctl_schedule_entries(Redis *r, json_t **ret);

/* Local timers of jobs-*.timer over sd-bus, as a JSON array of {"unit","next","last","activates"};
 * -ENOENT/-ECONNREFUSED/... when there is no system bus. */
int ctl_list_timers(json_t **ret);

/* Loaded service units matching patterns (NULL-terminated), only those in state (e.g. "failed")
 * unless NULL, as a JSON array of {"unit","load","active","sub","status_text"}; errors as above. */
int ctl_list_services(const char *const *patterns, const char *state, json_t **ret);
