/* SPDX-License-Identifier: MIT */
/* jobs-enqueue: push one job into Redis in Sidekiq's format, print its jid, exit.
 * Started by every generated timer, so it does nothing a single push does not need. */

#include <getopt.h>
#include <math.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "config.h"

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
               "      --in DURATION      run later, e.g. 30s, 5min, \"1h 30min\"\n"
               "      --at EPOCH         run at this time (seconds since the epoch, may have decimals)\n"
               "      --max-payload BYTES  refuse jobs larger than this (default: %d)\n"
               "      --timeout DURATION connect and command timeout (default: 2s)\n"
               "  -Q, --quiet            do not print the jid\n"
               "  -h, --help             show this help\n"
               "      --version          show the version\n\n"
               "Exit status: 0 enqueued, 64 usage, 65 bad job data, 69 Redis unavailable,\n"
               "75 temporary failure (timeout, Redis loading), 77 authentication refused, 78 bad REDIS_URL.\n",
               program_invocation_short_name, REDIS_URL_DEFAULT, JOB_RETRY_DEFAULT, JOB_PAYLOAD_MAX_DEFAULT);
}

static int parse_argv(int argc, char **argv, EnqueueRequest *req, bool *quiet) {
        enum { ARG_RETRY = 0x100, ARG_IN, ARG_AT, ARG_MAX_PAYLOAD, ARG_TIMEOUT, ARG_VERSION };
        static const struct option options[] = {
                { "redis", required_argument, NULL, 'r' },
                { "queue", required_argument, NULL, 'q' },
                { "retry", required_argument, NULL, ARG_RETRY },
                { "args", required_argument, NULL, 'a' },
                { "in", required_argument, NULL, ARG_IN },
                { "at", required_argument, NULL, ARG_AT },
                { "max-payload", required_argument, NULL, ARG_MAX_PAYLOAD },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
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
        return 1;
}

/* Standard output is the journal stream systemd gave the service (JOURNAL_STREAM=dev:ino): the log
 * line already names the jid, a bare jid line after it would be noise. */
static bool stdout_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDOUT_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

int main(int argc, char **argv) {
        EnqueueRequest req = ENQUEUE_REQUEST_INIT;
        char jid[JOB_JID_LEN + 1];
        bool quiet = false;
        int r;

        log_open(streq(program_invocation_short_name, "jobsctl enqueue") ? "jobsctl enqueue" : "jobs-enqueue", "enqueue");

        r = parse_argv(argc, argv, &req, &quiet);
        if (r <= 0)
                return r < 0 ? EX_USAGE : 0;

        r = enqueue_run(&req, jid);
        if (r != 0)
                return r;
        if (!quiet && !stdout_is_journal())
                printf("%s\n", jid);
        return 0;
}
