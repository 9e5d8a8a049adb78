/* SPDX-License-Identifier: MIT */
/* jobs-enqueue: push one job into Redis in Sidekiq's format, print its jid, exit.
 * Started by every generated timer, so it does nothing a single push does not need. */

#include <getopt.h>
#include <math.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "model/schedule.h"
#include "programs/enqueue.h"
#include "util/log.h"

static void help(void) {
        /* jobsctl enqueue runs this program as "jobsctl enqueue". */
        printf("Usage: %s [OPTIONS] CLASS\n"
               "Push one job for CLASS into Redis in Sidekiq's format and print its jid.\n\n"
               "  -r, --redis URL        redis://[:password@]host:port/db or unix:///path?db=N\n"
               "                         (default: $REDIS_URL, Redis= of worker.conf, REDIS_URL=\n"
               "                         of /etc/default/jobs, else %s)\n"
               "  -q, --queue NAME       queue (default: default)\n"
               "      --retry N|true|false  retries before the job goes to the dead set (default: true = %d)\n"
               "  -a, --args JSON        job arguments, a JSON array (default: [])\n"
               "      --active-job       an ActiveJob job (Rails): CLASS is the job class, JSON its\n"
               "                         perform_later arguments\n"
               "      --in DURATION      run later, e.g. 30s, 5min, \"1h 30min\" (at most 100 years)\n"
               "      --at TIME          run at this time: \"2026-12-24 18:00\" (local), 2026-12-24T18:00:00Z,\n"
               "                         \"2026-12-24 18:00 +01:00\", seconds since the epoch, @EPOCH\n"
               "      --max-payload BYTES  refuse jobs larger than this (default: %d)\n"
               "      --timeout DURATION connect and command timeout (default: 2s)\n"
               "      --wait-replicas N  after the push, wait until N replicas have it (Redis WAIT), else\n"
               "                         exit 75 (default 0: do not wait; with --entry $JOBS_WAIT_REPLICAS)\n"
               "      --wait-timeout DURATION  how long to wait for them (default 1s; with --entry\n"
               "                         $JOBS_WAIT_TIMEOUT)\n"
               "      --entry NAME       a run of schedule entry NAME: enqueue its occurrence once across\n"
               "                         every host sharing this Redis (see jobs-schedule(5))\n"
               "      --calendar EXPR    a calendar of the entry (repeatable); the occurrence is its\n"
               "                         latest elapse at or before the trigger time\n"
               "      --occurrence EPOCH the occurrence this run stands for (default: from --calendar)\n"
               "      --trigger-time EPOCH|start  when the timer fired (default: now; start: when this\n"
               "                         process was forked, as generated units pass)\n"
               "  -Q, --quiet            do not print the jid\n"
               "  -h, --help             show this help\n"
               "      --version          show the version\n\n"
               "Exit status: 0 enqueued (or, with --entry, already enqueued by a host: nothing printed), 64 usage, 65 bad job data, 69 Redis unavailable,\n"
               "75 temporary failure (timeout, Redis loading or a replica, too few replicas), 77 authentication refused, 78 bad REDIS_URL or database index.\n",
               program_invocation_short_name, REDIS_URL_DEFAULT, JOB_RETRY_DEFAULT, JOB_PAYLOAD_MAX_DEFAULT);
}

/* The defaults of --wait-replicas and --wait-timeout for runs of a schedule entry: its timer's
 * service reads them from /etc/default/jobs. Only there: a retry after a 75 finds the entry's claim,
 * while a run without one (Scope=host, by hand) would push its job again on every retry for as long
 * as the replicas are away. A bad value is a configuration error (78), which the services do not
 * retry. */
static int parse_wait_env(EnqueueRequest *req, bool replicas_set, bool timeout_set) {
        const char *e;

        if (!req->entry)
                return 0;
        e = getenv(ENQUEUE_WAIT_REPLICAS_ENV);
        if (!replicas_set && e && *e && enqueue_parse_wait_replicas("$" ENQUEUE_WAIT_REPLICAS_ENV, e, &req->wait_replicas) < 0)
                return EX_CONFIG;
        e = getenv(ENQUEUE_WAIT_TIMEOUT_ENV);
        if (!timeout_set && e && *e && enqueue_parse_wait_timeout("$" ENQUEUE_WAIT_TIMEOUT_ENV, e, &req->wait_timeout) < 0)
                return EX_CONFIG;
        return 0;
}

static int parse_argv(int argc, char **argv, EnqueueRequest *req, bool *quiet, bool *wait_replicas_set,
                      bool *wait_timeout_set) {
        enum { ARG_RETRY = 0x100, ARG_IN, ARG_AT, ARG_MAX_PAYLOAD, ARG_TIMEOUT, ARG_VERSION, ARG_ENTRY,
               ARG_OCCURRENCE, ARG_CALENDAR, ARG_TRIGGER_TIME, ARG_ACTIVE_JOB, ARG_WAIT_REPLICAS, ARG_WAIT_TIMEOUT };
        static const struct option options[] = {
                { "redis", required_argument, NULL, 'r' },
                { "queue", required_argument, NULL, 'q' },
                { "retry", required_argument, NULL, ARG_RETRY },
                { "args", required_argument, NULL, 'a' },
                { "active-job", no_argument, NULL, ARG_ACTIVE_JOB },
                { "in", required_argument, NULL, ARG_IN },
                { "at", required_argument, NULL, ARG_AT },
                { "max-payload", required_argument, NULL, ARG_MAX_PAYLOAD },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "wait-replicas", required_argument, NULL, ARG_WAIT_REPLICAS },
                { "wait-timeout", required_argument, NULL, ARG_WAIT_TIMEOUT },
                { "entry", required_argument, NULL, ARG_ENTRY },
                { "occurrence", required_argument, NULL, ARG_OCCURRENCE },
                { "calendar", required_argument, NULL, ARG_CALENDAR },
                { "trigger-time", required_argument, NULL, ARG_TRIGGER_TIME },
                { "quiet", no_argument, NULL, 'Q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "r:q:a:Qh", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        req->redis_url = optarg;
                        break;
                case 'q':
                        req->queue = optarg;
                        break;
                case 'a':
                        req->args_json = optarg;
                        break;
                case ARG_ACTIVE_JOB:
                        req->active_job = true;
                        break;
                case ARG_RETRY:
                        if (job_retry_from_string(optarg, &req->retry) < 0) {
                                log_error("Invalid --retry '%s': use true, false or a number from 0 to 1000.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_IN:
                        r = enqueue_parse_in(optarg, req);
                        if (r < 0)
                                return r;
                        break;
                case ARG_AT:
                        r = enqueue_parse_at(optarg, req);
                        if (r < 0)
                                return r;
                        break;
                case ARG_MAX_PAYLOAD: {
                        uint64_t v;
                        if (parse_u64(optarg, &v) < 0 || v < 64 || v > 512ULL * 1024 * 1024) {
                                log_error("Invalid --max-payload '%s': use a byte count from 64 to 536870912.", optarg);
                                return -EINVAL;
                        }
                        req->max_payload = (size_t) v;
                        break;
                }
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &req->timeout) < 0 || req->timeout == 0) {
                                log_error("Invalid --timeout '%s': use a duration such as 500ms or 2s.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_WAIT_REPLICAS:
                        r = enqueue_parse_wait_replicas("--wait-replicas", optarg, &req->wait_replicas);
                        if (r < 0)
                                return r;
                        *wait_replicas_set = true;
                        break;
                case ARG_WAIT_TIMEOUT:
                        r = enqueue_parse_wait_timeout("--wait-timeout", optarg, &req->wait_timeout);
                        if (r < 0)
                                return r;
                        *wait_timeout_set = true;
                        break;
                case ARG_ENTRY:
                        if (!schedule_name_is_valid(optarg)) {
                                log_error("Invalid --entry '%s': a schedule entry name ([A-Za-z0-9_.-], at most %zu bytes).",
                                          optarg, (size_t) SCHEDULE_NAME_MAX);
                                return -EINVAL;
                        }
                        req->entry = optarg;
                        break;
                case ARG_OCCURRENCE:
                        r = enqueue_parse_epoch("--occurrence", optarg, &req->occurrence);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CALENDAR:
                        if (req->n_calendars >= SCHEDULE_CALENDARS_MAX) {
                                log_error("Too many --calendar options; an entry has at most %u calendars.",
                                          SCHEDULE_CALENDARS_MAX);
                                return -EINVAL;
                        }
                        req->calendars[req->n_calendars++] = optarg;
                        break;
                case ARG_TRIGGER_TIME:
                        req->trigger = 0;
                        req->trigger_start = streq(optarg, "start");
                        if (req->trigger_start)
                                break;
                        r = enqueue_parse_epoch("--trigger-time", optarg, &req->trigger);
                        if (r < 0)
                                return log_error("--trigger-time also takes 'start': when this process was forked."), r;
                        break;
                case 'Q':
                        *quiet = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("jobs-enqueue %s\n", JOBS_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }

        if (optind + 1 != argc) {
                log_error("Expected exactly one job class, got %d. See jobs-enqueue --help.", argc - optind);
                return -EINVAL;
        }
        req->class = argv[optind];
        if (req->entry && (req->at > 0 || req->in > 0)) {
                log_error("--entry enqueues its occurrence now; it cannot be combined with --in or --at.");
                return -EINVAL;
        }
        if (req->entry && req->occurrence == 0 && req->n_calendars == 0) {
                log_error("--entry needs the entry's calendars (--calendar) or its --occurrence.");
                return -EINVAL;
        }
        if (!req->entry && (req->occurrence > 0 || req->n_calendars > 0 || req->trigger > 0 || req->trigger_start)) {
                log_error("--occurrence, --calendar and --trigger-time apply to a schedule entry; pass --entry NAME too.");
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv) {
        EnqueueRequest req = ENQUEUE_REQUEST_INIT;
        char jid[JOB_JID_LEN + 1];
        bool quiet = false, wait_replicas_set = false, wait_timeout_set = false;
        int r;

        log_open(streq(program_invocation_short_name, "jobsctl enqueue") ? "jobsctl enqueue" : "jobs-enqueue", "enqueue");

        r = parse_argv(argc, argv, &req, &quiet, &wait_replicas_set, &wait_timeout_set);
        if (r <= 0)
                return r < 0 ? EX_USAGE : 0;
        r = parse_wait_env(&req, wait_replicas_set, wait_timeout_set);
        if (r != 0)
                return r;
        if (wait_timeout_set && req.wait_replicas == 0) {
                log_error("--wait-timeout applies when waiting for replicas: pass --wait-replicas N too.");
                return EX_USAGE;
        }

        /* Without $TZ glibc checks /etc/localtime on every local-time call, and each evaluation of a
         * calendar without a zone names it in $TZ and puts $TZ back: naming it once (the same zone)
         * makes that one read for the run. */
        if (!getenv("TZ") && setenv("TZ", ":/etc/localtime", 0) < 0)
                return log_oom(), EX_OSERR;
        /* Under systemd, native journal entries: the line that names the job carries its fields. */
        log_open_journal();
        r = enqueue_run(&req, jid);
        if (r != 0)
                return r;
        /* under systemd the log line already names the jid: a bare jid line after it would be noise */
        if (!quiet && jid[0] && !fd_is_journal_stream(STDOUT_FILENO))
                printf("%s\n", jid);
        return 0;
}
