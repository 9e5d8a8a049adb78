/* SPDX-License-Identifier: MIT */
/* What jobsctl's verbs share: options, the Redis connection, output and exit codes. */

#include <getopt.h>
#include <math.h>
#include <sys/ioctl.h>

#include "config.h"
#include "programs/jobsctl.h"
#include "util/log.h"
#include "programs/redis-source.h"
#include "redis/redis-tls.h"
#include "redis/url.h"

const char *arg_redis = NULL;
JsonMode arg_json = JSON_OFF;
bool arg_legend = true;
const char *arg_class = NULL;
unsigned arg_limit = CTL_LIMIT_DEFAULT;
bool arg_all = false;
bool arg_yes = false;
bool arg_names = false;
bool arg_no_block = false;
bool arg_check = false;
usec_t arg_max_latency = CTL_MAX_LATENCY_DEFAULT;
usec_t arg_dead_within = CTL_DEAD_WITHIN_DEFAULT;
const char *arg_textfile = NULL;
bool arg_http = false;

enum {
        ARG_REDIS = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_CLASS,
        ARG_LIMIT,
        ARG_ALL,
        ARG_YES,
        ARG_NAMES,
        ARG_NO_BLOCK,
        ARG_CHECK,
        ARG_MAX_LATENCY,
        ARG_DEAD_WITHIN,
        ARG_TEXTFILE,
        ARG_HTTP,
        ARG_VERSION,
};

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "redis", required_argument, NULL, ARG_REDIS },
        { "json", optional_argument, NULL, ARG_JSON },
        { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
        { "class", required_argument, NULL, ARG_CLASS },
        { "limit", required_argument, NULL, ARG_LIMIT },
        { "all", no_argument, NULL, ARG_ALL },
        { "yes", no_argument, NULL, ARG_YES },
        { "names", no_argument, NULL, ARG_NAMES },
        { "no-block", no_argument, NULL, ARG_NO_BLOCK },
        { "check", no_argument, NULL, ARG_CHECK },
        { "max-latency", required_argument, NULL, ARG_MAX_LATENCY },
        { "dead-within", required_argument, NULL, ARG_DEAD_WITHIN },
        { "textfile", required_argument, NULL, ARG_TEXTFILE },
        { "http", no_argument, NULL, ARG_HTTP },
        {},
};

static const Verb *help_verbs = NULL;
static size_t help_n_verbs = 0;

void ctl_help(const Verb *verbs, size_t n) {
        printf("%s [OPTIONS...] COMMAND ...\n\n"
               "Operate the jobs queue in Redis (Sidekiq's layout) and the local job timers.\n\n"
               "Commands:\n",
               program_invocation_short_name);
        for (size_t i = 0; i < n; i++) {
                int w = printf("  %s %s", verbs[i].name, verbs[i].usage);
                printf("%*s%s\n", w < 34 ? 34 - w : 1, "", verbs[i].help);
        }
        printf("\nActions of retries, dead and scheduled:\n"
               "  list [--class C] [--limit N]    Jobs in the set, soonest (dead: latest) first\n"
               "  show JID                        One job in full\n"
               "  retry JID|--all [--class C]     Put jobs back on their queue now\n"
               "  delete JID|--all [--class C]    Delete jobs for good\n"
               "  kill JID|--all [--class C]      Move jobs to the dead set (retries, scheduled;\n"
               "                                  dead kill JID finds the job in either)\n");
        printf("\nOptions:\n"
               "  -h --help                      Show this help\n"
               "     --version                   Show the version\n"
               "     --redis URL                 Redis to use (default: $REDIS_URL, Redis= of worker.conf,\n"
               "                                 REDIS_URL= of /etc/default/jobs, else %s)\n"
               "     --json[=pretty|short]       Print JSON instead of tables\n"
               "     --no-legend                 Omit table headers and footers\n"
               "     --class CLASS               Only jobs of this class\n"
               "     --limit N                   Show at most N jobs (default %u)\n"
               "     --all                       Act on every job (or process) instead of one\n"
               "     --yes                       delete/kill --all: do not ask on a terminal\n"
               "     --names                     queues: print the names only\n"
               "     --no-block                  run-now: do not wait for the service to finish\n"
               "     --check                     status: one line and exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
               "                                 3 UNKNOWN (Nagios plugin convention)\n"
               "     --max-latency DURATION      status --check: warn when a queue's oldest job is older\n"
               "                                 (default 5min)\n"
               "     --dead-within DURATION      status --check: warn when a job died this recently\n"
               "                                 (default 1h)\n"
               "     --textfile PATH             metrics: write to PATH atomically (node_exporter)\n"
               "     --http                      metrics: answer one HTTP request on the socket systemd\n"
               "                                 passes (jobs-metrics.socket)\n"
               "     --source-path PATH          generate: SourcePath= of the units (default: SCHEDULE's)\n"
               "     --enqueue-path PATH         generate: ExecStart= program (default: %s)\n"
               "     --no-calendar-check         check, generate: do not ask systemd-analyze about\n"
               "                                 OnCalendar= expressions\n\n"
               "Exit status: 0 ok, 64 usage, 65 bad data, 66 no such job/queue/process/entry,\n"
               "69 Redis, the system bus or systemd-analyze unavailable, 73 cannot write OUTDIR,\n"
               "75 try again, 76 Redis protocol error,\n"
               "77 permission denied, 78 bad $REDIS_URL. See jobsctl(1).\n",
               REDIS_URL_DEFAULT, CTL_LIMIT_DEFAULT, JOBS_ENQUEUE_PATH);
}

#define SUGGEST_WORD_MAX 64

/* Levenshtein distance of two short words (longer ones are never close). */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[SUGGEST_WORD_MAX + 1];

        if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
                        diag = up;
                }
        }
        return row[lb];
}

const char *ctl_closest(const char *word, const char *const *candidates, size_t n) {
        size_t best = SIZE_MAX, limit = MAX((size_t) 1, MIN((size_t) 3, strlen(word) / 3));
        const char *found = NULL;

        for (size_t i = 0; i < n; i++) {
                size_t d = edit_distance(word, candidates[i]);
                if (d <= limit && d < best) {
                        best = d;
                        found = candidates[i];
                }
        }
        return found;
}

int ctl_option_error(int c, char **argv, const struct option *opts) {
        const char *names[64];
        char word[SUGGEST_WORD_MAX + 1];
        const char *given = argv[optind - 1], *close;
        size_t n = 0;

        if (c == ':') {
                log_error("Option %s needs a value; see %s --help.", given, program_invocation_short_name);
                return EX_USAGE;
        }
        if (optopt != 0) {
                log_error("Unknown option '-%c'; see %s --help.", optopt, program_invocation_short_name);
                return EX_USAGE;
        }
        /* "--jsn=short": compare the name only. */
        snprintf(word, sizeof word, "%.*s", (int) strcspn(given + 2, "="), strlen(given) > 2 ? given + 2 : "");
        for (const struct option *o = opts; o->name && n < ELEMENTSOF(names); o++)
                names[n++] = o->name;
        close = ctl_closest(word, names, n);
        if (close)
                log_error("Unknown option '%s'; did you mean --%s?", given, close);
        else
                log_error("Unknown option '%s'; see %s --help.", given, program_invocation_short_name);
        return EX_USAGE;
}

static int parse_option(int c, unsigned allowed, const char *given) {
        unsigned u;

        switch (c) {
        case ARG_REDIS:
                if (strlen(optarg) > REDIS_URL_MAX) {
                        log_error("--redis URL is longer than %d bytes.", REDIS_URL_MAX);
                        return EX_USAGE;
                }
                arg_redis = optarg;
                return EX_OK;
        case ARG_JSON:
                if (!optarg)
                        arg_json = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
                else if (streq(optarg, "pretty"))
                        arg_json = JSON_PRETTY;
                else if (streq(optarg, "short"))
                        arg_json = JSON_SHORT;
                else if (streq(optarg, "off"))
                        arg_json = JSON_OFF;
                else {
                        log_error("Unknown --json mode '%s': use --json=pretty or --json=short.", optarg);
                        return EX_USAGE;
                }
                return EX_OK;
        case ARG_NO_LEGEND:
                arg_legend = false;
                return EX_OK;
        case ARG_CLASS:
                if (!(allowed & CTL_OPT_CLASS))
                        break;
                if (strlen(optarg) > 255) {
                        log_error("--class is longer than 255 bytes.");
                        return EX_USAGE;
                }
                arg_class = optarg;
                return EX_OK;
        case ARG_LIMIT:
                if (!(allowed & CTL_OPT_LIMIT))
                        break;
                if (parse_unsigned(optarg, &u) < 0 || u == 0 || u > CTL_LIMIT_MAX) {
                        log_error("--limit wants a number from 1 to %u, not '%s'.", CTL_LIMIT_MAX, optarg);
                        return EX_USAGE;
                }
                arg_limit = u;
                return EX_OK;
        case ARG_ALL:
                if (!(allowed & CTL_OPT_ALL))
                        break;
                arg_all = true;
                return EX_OK;
        case ARG_YES:
                if (!(allowed & CTL_OPT_ALL))
                        break;
                arg_yes = true;
                return EX_OK;
        case ARG_NAMES:
                if (!(allowed & CTL_OPT_NAMES))
                        break;
                arg_names = true;
                return EX_OK;
        case ARG_NO_BLOCK:
                if (!(allowed & CTL_OPT_NO_BLOCK))
                        break;
                arg_no_block = true;
                return EX_OK;
        case ARG_CHECK:
                if (!(allowed & CTL_OPT_CHECK))
                        break;
                arg_check = true;
                return EX_OK;
        case ARG_MAX_LATENCY:
        case ARG_DEAD_WITHIN: {
                usec_t t;
                if (!(allowed & CTL_OPT_CHECK))
                        break;
                if (parse_duration(optarg, &t) < 0 || t == 0 || t > CTL_CHECK_DURATION_MAX) {
                        log_error("%s wants a duration from 1s to 1 year (e.g. 5min, \"1h 30min\"), not '%s'.",
                                  c == ARG_MAX_LATENCY ? "--max-latency" : "--dead-within", optarg);
                        return EX_USAGE;
                }
                *(c == ARG_MAX_LATENCY ? &arg_max_latency : &arg_dead_within) = t;
                return EX_OK;
        }
        case ARG_TEXTFILE:
                if (!(allowed & CTL_OPT_METRICS))
                        break;
                if (strlen(optarg) >= PATH_MAX || !optarg[0]) {
                        log_error("--textfile wants a file name shorter than %d bytes.", PATH_MAX);
                        return EX_USAGE;
                }
                arg_textfile = optarg;
                return EX_OK;
        case ARG_HTTP:
                if (!(allowed & CTL_OPT_METRICS))
                        break;
                arg_http = true;
                return EX_OK;
        }
        log_error("Option %s does not apply to this command; see %s --help.", given,
                  program_invocation_short_name);
        return EX_USAGE;
}

int ctl_parse_global(int argc, char **argv, const Verb *verbs, size_t n) {
        int c, r;

        help_verbs = verbs;
        help_n_verbs = n;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        ctl_help(help_verbs, help_n_verbs);
                        return -1;
                case ARG_VERSION:
                        printf("jobsctl %s\n", JOBS_VERSION);
                        return -1;
                case ARG_REDIS:
                case ARG_JSON:
                case ARG_NO_LEGEND:
                        r = parse_option(c, 0, argv[optind - 1]);
                        if (r != EX_OK)
                                return -r;
                        break;
                case '?':
                case ':':
                        return -ctl_option_error(c, argv, options);
                default:
                        log_error("Option %s goes after the command; see %s --help.", argv[optind - 1],
                                  program_invocation_short_name);
                        return -EX_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("No command given; see %s --help.", program_invocation_short_name);
                return -EX_USAGE;
        }
        return optind;
}

int ctl_parse_verb(int argc, char **argv, unsigned allowed, char ***ret_args, int *ret_n) {
        int c, r;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                if (c == '?' || c == ':')
                        return ctl_option_error(c, argv, options);
                if (c == 'h') {
                        ctl_help(help_verbs, help_n_verbs);
                        return -1;
                }
                if (c == ARG_VERSION) {
                        printf("jobsctl %s\n", JOBS_VERSION);
                        return -1;
                }
                r = parse_option(c, allowed, argv[optind - 1]);
                if (r != EX_OK)
                        return r;
        }
        *ret_args = argv + optind;
        *ret_n = argc - optind;
        return EX_OK;
}

int ctl_exit_status(int error) {
        switch (-error) {
        case 0:
                return EX_OK;
        case EACCES:
        case EPERM:
                return EX_NOPERM;
        case EAGAIN:
        case ETIMEDOUT:
                return EX_TEMPFAIL;
        case EPROTO:
                return EX_PROTOCOL;
        case ENOMEM:
                return EX_OSERR;
        case ENXIO:
                return EX_CONFIG;
        case ENOENT:
                return EX_NOINPUT;
        case EINVAL:
        case EBADMSG:
                return EX_DATAERR;
        default:
                return EX_UNAVAILABLE;
        }
}

#define AUTH_HINT                                                                                   \
        "Put the password in the URL (redis://:PASSWORD@host, unix:///path?password=PASSWORD), the "  \
        "redis-password credential or %s/jobs/redis-password; see jobsctl(1)."

static char *connected_description = NULL;

static void connected_description_free(void) {
        free(connected_description);
        connected_description = NULL;
}

const char *ctl_redis_description(void) {
        return connected_description;
}

int ctl_connect(Redis *r) {
        _cleanup_(redis_source_done) RedisSource src = {};
        _cleanup_(redis_url_done) RedisURL u = {};
        const char *reason = NULL;
        int q;

        if (redis_source_find(&src, arg_redis) < 0)
                return (void) log_oom(), EX_OSERR;
        for (size_t i = 0; i < src.n_notes; i++)
                log_debug("Redis URL: %s", src.notes[i]);
        q = redis_url_parse(src.url, &u, &reason);
        if (q < 0) {
                log_error("Invalid Redis URL in %s: %s. Use redis://[:password@]host[:port][/db] "
                          "or unix:///path/to/socket[?db=N].",
                          src.origin, strna(reason));
                /* As jobs-enqueue: a bad option is a usage error, a bad environment a configuration one. */
                return arg_redis ? EX_USAGE : EX_CONFIG;
        }
        q = redis_source_load_password(&src, &u);
        if (q < 0) {
                log_error_errno(q, "Failed to read the Redis password from %s: %m", strna(src.password_origin));
                return q == -EINVAL ? EX_CONFIG : EX_NOPERM;
        }
        if (!connected_description)
                (void) atexit(connected_description_free);
        free(connected_description);
        connected_description = redis_source_describe(&src);
        if (!connected_description)
                return (void) log_oom(), EX_OSERR;
        q = redis_open(r, &u, REDIS_TIMEOUT_DEFAULT);
        if (q == -EACCES) {
                log_error("%s (Redis %s). " AUTH_HINT, r->error, connected_description, redis_source_sysconfdir());
                return EX_NOPERM;
        }
        if (q == -REDIS_TLS_EVERIFY || q == -REDIS_TLS_EREFUSED || (q == -EINVAL && u.tls)) {
                log_error("%s (Redis %s). See \"TLS\" in jobsctl(1).", r->error, connected_description);
                return q == -REDIS_TLS_EREFUSED ? EX_NOPERM : EX_CONFIG;
        }
        if (q == -ENXIO) {
                log_error("%s (Redis %s): the URL names a database the server does not have (see \"databases\" "
                          "in redis.conf).", r->error, connected_description);
                return EX_CONFIG;
        }
        if (q < 0) {
                log_error("Cannot reach Redis %s: %s. Is redis-server running? Point jobsctl at it with --redis URL "
                          "or REDIS_URL.",
                          connected_description, r->error);
                return ctl_exit_status(q) == EX_TEMPFAIL ? EX_TEMPFAIL : EX_UNAVAILABLE;
        }
        return EX_OK;
}

int ctl_begin(int argc, char **argv, unsigned allowed, Redis *r) {
        char **args;
        int k, n;

        k = ctl_parse_verb(argc, argv, allowed, &args, &n);
        if (k != EX_OK)
                return k;
        if (n > 0) {
                log_error("'%s' takes no arguments; see %s --help.", argv[0], program_invocation_short_name);
                return EX_USAGE;
        }
        k = ctl_connect(r);
        return k == EX_OK ? 0 : k;
}

int ctl_redis_error(Redis *r, int error, const char *doing) {
        if (error == -ENOMEM)
                log_oom();
        else if (error == -EACCES)
                log_error("Failed to %s: %s. " AUTH_HINT, doing, r->error, redis_source_sysconfdir());
        else if (error == -EPROTO && !r->error[0])
                log_error("Failed to %s: unexpected reply from Redis at %s.", doing, r->where);
        else
                log_error("Failed to %s: %s", doing, r->error[0] ? r->error : strerror(-error));
        return ctl_exit_status(error);
}

long long ctl_reply_integer(const redisReply *e) {
        if (e->type == REDIS_REPLY_INTEGER)
                return e->integer;
        if (e->type == REDIS_REPLY_STRING)
                return strtoll(e->str, NULL, 10);
        return 0;
}

bool ctl_colors(void) {
        const char *e = getenv("NO_COLOR"), *term = getenv("TERM");

        /* https://no-color.org: any non-empty value disables colour. */
        if (e && e[0])
                return false;
        if (term && streq(term, "dumb"))
                return false;
        return isatty(STDOUT_FILENO);
}

size_t ctl_columns(void) {
        struct winsize ws = {};
        const char *e = getenv("COLUMNS");
        unsigned u;

        if (e && parse_unsigned(e, &u) >= 0 && u > 0)
                return u;
        if (!isatty(STDOUT_FILENO))
                return 0;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

bool ctl_confirm(const char *question) {
        char answer[16] = "", *a;

        /* A script (no terminal on stdin) gets what it asked for, as before --yes existed. */
        if (arg_yes || !isatty(STDIN_FILENO))
                return true;
        fprintf(stderr, "%s [y/N] ", question);
        fflush(stderr);
        if (!fgets(answer, sizeof answer, stdin))
                return false;
        a = strstrip(answer);
        return strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0;
}

int ctl_print_table(Table *t) {
        if (table_print(t, stdout, ctl_columns(), ctl_colors(), arg_legend) < 0) {
                log_error("Failed to write to standard output.");
                return EX_IOERR;
        }
        return EX_OK;
}

int ctl_print_json(json_t *v) {
        json_auto_t *owned = v;
        size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16) |
                       (arg_json == JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT);

        if (!v)
                return (void) log_oom(), EX_OSERR;
        if (json_dumpf(v, stdout, flags) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
                log_error("Failed to write to standard output.");
                return EX_IOERR;
        }
        return EX_OK;
}

usec_t ctl_job_time(json_t *job, const char *field) {
        json_t *v = json_object_get(job, field);

        if (!json_is_number(v))
                return 0;
        return usec_from_sidekiq_time(json_number_value(v), json_is_integer(v));
}

char *ctl_format_time_both(char *buf, size_t n, usec_t t, usec_t now) {
        char a[TIMESTAMP_MAX], b[TIMESTAMP_MAX];

        if (t == 0 || t == USEC_INFINITY)
                snprintf(buf, n, "n/a");
        else
                snprintf(buf, n, "%s (%s)", format_timestamp(a, sizeof a, t, false),
                         format_timestamp_relative(b, sizeof b, t, now));
        return buf;
}

json_t *ctl_json_time(usec_t t) {
        if (t == 0 || t == USEC_INFINITY)
                return json_null();
        return json_real((double) t / (double) USEC_PER_SEC);
}
