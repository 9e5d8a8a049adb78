/* SPDX-License-Identifier: MIT */
/* jobsctl metrics: the queue's state in Prometheus' text exposition format, on standard output,
 * into a node_exporter textfile (written atomically), or as the answer to one HTTP request on a
 * socket from systemd (jobs-metrics.socket, Accept=yes). */

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stddef.h>
#include <systemd/sd-daemon.h>

#include "programs/jobsctl.h"
#include "redis/class-stats.h"
#include "util/log.h"

#define HTTP_REQUEST_MAX 8192
#define HTTP_TIMEOUT_MSEC 5000
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A label value with \, " and newline escaped, as the exposition format asks. */
static void put_label(FILE *f, const char *s) {
        for (; s && *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

/* name{label="value"} and the space before the sample. */
static void put_series(FILE *f, const char *name, const char *label, const char *value) {
        fprintf(f, "%s{%s=\"", name, label);
        put_label(f, value);
        fputs("\"} ", f);
}

static void metric_head(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}


typedef struct ClassCounters {
        const char *name; /* in the SRANDMEMBER reply */
        long long processed, failed, usec, bucket[CLASS_STATS_BUCKETS + 1];
} ClassCounters;

/* One class's hash (HGETALL reply) as its counters. */
static void class_parse(const redisReply *h, ClassCounters *c) {
        for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
                const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
                char field[16];

                if (h->element[i]->type != REDIS_REPLY_STRING || h->element[i + 1]->type != REDIS_REPLY_STRING)
                        continue;
                if (streq(k, "processed"))
                        c->processed = strtoll(v, NULL, 10);
                else if (streq(k, "failed"))
                        c->failed = strtoll(v, NULL, 10);
                else if (streq(k, "duration_usec"))
                        c->usec = strtoll(v, NULL, 10);
                else
                        for (size_t b = 0; b <= CLASS_STATS_BUCKETS; b++) {
                                class_stats_bucket_field(b, field);
                                if (streq(k, field))
                                        c->bucket[b] = strtoll(v, NULL, 10);
                        }
        }
}

static void write_class_histogram(FILE *f, const ClassCounters *c) {
        long long cumulative = 0;

        for (size_t b = 0; b <= CLASS_STATS_BUCKETS; b++) {
                cumulative += c->bucket[b];
                fputs("jobs_class_duration_seconds_bucket{class=\"", f);
                put_label(f, c->name);
                if (b < CLASS_STATS_BUCKETS)
                        fprintf(f, "\",le=\"%g\"} %lld\n", class_stats_bounds[b], cumulative);
                else
                        fprintf(f, "\",le=\"+Inf\"} %lld\n", cumulative);
        }
        put_series(f, "jobs_class_duration_seconds_sum", "class", c->name);
        fprintf(f, "%.6f\n", (double) c->usec / 1e6);
        put_series(f, "jobs_class_duration_seconds_count", "class", c->name);
        fprintf(f, "%lld\n", cumulative);
}

/* Per class: counts and the run-time histogram the workers keep (redis/class-stats.h). */
static int write_classes(FILE *f, Redis *r) {
        _cleanup_reply_ redisReply *names = NULL;
        _cleanup_free_ ClassCounters *c = NULL;
        size_t n = 0;
        int k;

        k = redis_command(r, &names, "SRANDMEMBER " REDIS_KEY_CLASSES " %d", CLASS_STATS_CLASSES_MAX);
        if (k < 0)
                return k;
        if (names->type != REDIS_REPLY_ARRAY)
                return -EPROTO;
        c = calloc(names->elements + 1, sizeof *c);
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < names->elements; i++) {
                _cleanup_reply_ redisReply *h = NULL;

                if (names->element[i]->type != REDIS_REPLY_STRING)
                        continue;
                k = redis_command(r, &h, "HGETALL " REDIS_KEY_CLASS_PREFIX "%s", names->element[i]->str);
                if (k < 0)
                        return k;
                c[n].name = names->element[i]->str;
                class_parse(h, &c[n++]);
        }
        static const struct {
                const char *name, *help;
                size_t offset;
        } counters[] = {
                { "jobs_class_processed_total", "Jobs of the class that jobs-worker ran (failed ones included).",
                  offsetof(ClassCounters, processed) },
                { "jobs_class_failed_total", "Jobs of the class that failed in jobs-worker.", offsetof(ClassCounters, failed) },
        };
        for (size_t m = 0; m < ELEMENTSOF(counters); m++) {
                metric_head(f, counters[m].name, "counter", counters[m].help);
                for (size_t i = 0; i < n; i++) {
                        put_series(f, counters[m].name, "class", c[i].name);
                        fprintf(f, "%lld\n", *(const long long *) ((const char *) &c[i] + counters[m].offset));
                }
        }
        metric_head(f, "jobs_class_duration_seconds", "histogram", "How long jobs of the class ran in jobs-worker.");
        for (size_t i = 0; i < n; i++)
                write_class_histogram(f, &c[i]);
        return 0;
}

/* Schedule entries (jobsctl schedule): last occurrence, its outcome, missed occurrences. */
static void write_schedule(FILE *f, json_t *entries) {
        json_t *e;
        size_t i;

        metric_head(f, "jobs_schedule_last_occurrence_timestamp_seconds", "gauge",
                    "The entry's last occurrence claimed by a host (Unix time).");
        json_array_foreach(entries, i, e) {
                json_t *t = json_object_get(e, "last_occurrence");
                if (!json_is_number(t))
                        continue;
                put_series(f, "jobs_schedule_last_occurrence_timestamp_seconds", "entry",
                           json_string_value(json_object_get(e, "entry")));
                fprintf(f, "%.3f\n", json_number_value(t));
        }
        metric_head(f, "jobs_schedule_last_outcome", "gauge",
                    "1 for the outcome of the entry's last occurrence (enqueued, running, done, failed, unknown).");
        json_array_foreach(entries, i, e) {
                fputs("jobs_schedule_last_outcome{entry=\"", f);
                put_label(f, json_string_value(json_object_get(e, "entry")));
                fputs("\",outcome=\"", f);
                put_label(f, json_string_value(json_object_get(e, "outcome")));
                fputs("\"} 1\n", f);
        }
        metric_head(f, "jobs_schedule_missed", "gauge", "Occurrences of the entry that passed with no host enqueueing them.");
        json_array_foreach(entries, i, e) {
                put_series(f, "jobs_schedule_missed", "entry", json_string_value(json_object_get(e, "entry")));
                fprintf(f, "%lld\n", (long long) json_integer_value(json_object_get(e, "missed")));
        }
}

/* Writes the metrics; up is 0 when Redis could not be read (then only jobs_up is written). */
static void write_metrics(FILE *f, bool up, const Stats *s, const QueueSummary *q, size_t nq, const ProcessInfo *p,
                          size_t np, json_t *entries, usec_t now) {
        long long busy = 0;

        metric_head(f, "jobs_up", "gauge", "1 if Redis could be read, else 0.");
        fprintf(f, "jobs_up %d\n", up ? 1 : 0);
        if (!up)
                return;

        static const struct {
                const char *name, *type, *help;
                size_t offset;
        } stats[] = {
                { "jobs_processed_total", "counter", "Jobs processed by every worker (failed ones included), stat:processed.",
                  offsetof(Stats, processed) },
                { "jobs_failed_total", "counter", "Jobs that failed in every worker, stat:failed.", offsetof(Stats, failed) },
                { "jobs_scheduled_size", "gauge", "Jobs enqueued for later (the schedule set).", offsetof(Stats, scheduled) },
                { "jobs_retry_size", "gauge", "Jobs waiting for a retry (the retry set).", offsetof(Stats, retries) },
                { "jobs_dead_size", "gauge", "Jobs that ran out of retries (the dead set).", offsetof(Stats, dead) },
        };
        for (size_t i = 0; i < ELEMENTSOF(stats); i++) {
                metric_head(f, stats[i].name, stats[i].type, stats[i].help);
                fprintf(f, "%s %lld\n", stats[i].name, *(const long long *) ((const char *) s + stats[i].offset));
        }

        metric_head(f, "jobs_queue_size", "gauge", "Jobs waiting in the queue.");
        for (size_t i = 0; i < nq; i++) {
                put_series(f, "jobs_queue_size", "queue", q[i].name);
                fprintf(f, "%lld\n", q[i].size);
        }
        metric_head(f, "jobs_queue_latency_seconds", "gauge", "Age of the oldest job in the queue (0 when empty).");
        for (size_t i = 0; i < nq; i++) {
                put_series(f, "jobs_queue_latency_seconds", "queue", q[i].name);
                fprintf(f, "%.3f\n",
                        q[i].oldest > 0 && now > q[i].oldest ? (double) (now - q[i].oldest) / (double) USEC_PER_SEC : 0.0);
        }

        metric_head(f, "jobs_processes", "gauge", "Worker processes with a live heartbeat.");
        fprintf(f, "jobs_processes %zu\n", np);
        metric_head(f, "jobs_process_busy", "gauge", "Jobs running in the process.");
        for (size_t i = 0; i < np; i++) {
                put_series(f, "jobs_process_busy", "identity", p[i].identity);
                fprintf(f, "%lld\n", p[i].busy);
                busy += p[i].busy;
        }
        metric_head(f, "jobs_process_concurrency", "gauge", "Jobs the process runs at most at once.");
        for (size_t i = 0; i < np; i++) {
                put_series(f, "jobs_process_concurrency", "identity", p[i].identity);
                fprintf(f, "%lld\n", p[i].concurrency);
        }
        metric_head(f, "jobs_busy", "gauge", "Jobs running in every process.");
        fprintf(f, "jobs_busy %lld\n", busy);
        write_schedule(f, entries);
}

/* The whole exposition in memory, so that it is sent or written in one piece. */
static int collect(char **ret, size_t *ret_size) {
        _cleanup_(redis_done) Redis r = {};
        _cleanup_fclose_ FILE *f = NULL;
        json_auto_t *entries = NULL;
        QueueSummary *q = NULL;
        ProcessInfo *p = NULL;
        size_t nq = 0, np = 0;
        char *buf = NULL;
        size_t size = 0;
        Stats s = {};
        int k;

        k = ctl_connect(&r);
        if (k == EX_OSERR || k == EX_USAGE)
                return k;
        if (k == EX_OK) {
                k = ctl_read_stats(&r, &s);
                if (k >= 0)
                        k = ctl_queue_summaries(&r, &q, &nq);
                if (k >= 0)
                        k = ctl_processes(&r, &p, &np);
                if (k >= 0)
                        k = ctl_schedule_entries(&r, &entries);
                if (k < 0)
                        (void) ctl_redis_error(&r, k, "read the state");
        }
        f = open_memstream(&buf, &size);
        if (!f) {
                queue_summaries_free(q, nq);
                processes_free(p, np);
                return (void) log_oom(), EX_OSERR;
        }
        /* An exporter answers while its target is down: jobs_up 0 is the alert. */
        write_metrics(f, k == EX_OK, &s, q, nq, p, np, entries, now_usec(CLOCK_REALTIME));
        if (k == EX_OK) {
                int c = write_classes(f, &r);
                if (c < 0)
                        log_warning("Cannot read the per-class counters: %s", r.error[0] ? r.error : strerror(-c));
        }
        queue_summaries_free(q, nq);
        processes_free(p, np);
        if (fclose(TAKE_PTR(f)) != 0) {
                free(buf);
                return (void) log_oom(), EX_OSERR;
        }
        *ret = buf;
        *ret_size = size;
        return EX_OK;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return negative_errno();
                p += w;
                n -= (size_t) w;
        }
        return 0;
}

/* Write PATH.XXXXXX beside PATH, then rename it over: node_exporter never reads half a file. */
static int write_textfile(const char *path, const char *text, size_t n) {
        _cleanup_free_ char *tmp = strdupf("%s.XXXXXX", path);
        _cleanup_close_ int fd = -1;
        int k;

        if (!tmp)
                return (void) log_oom(), EX_OSERR;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                log_error_errno(negative_errno(), "Cannot create a file beside %s: %m", path);
                return EX_CANTCREAT;
        }
        k = write_all(fd, text, n);
        if (k >= 0 && fchmod(fd, 0644) < 0)
                k = negative_errno();
        if (k >= 0 && fsync(fd) < 0)
                k = negative_errno();
        if (k >= 0 && rename(tmp, path) < 0)
                k = negative_errno();
        if (k < 0) {
                (void) unlink(tmp);
                log_error_errno(k, "Cannot write %s: %m", path);
                return EX_CANTCREAT;
        }
        return EX_OK;
}

/* Read the request head (up to the blank line) within the deadline. */
static int read_request(int fd, char *buf, size_t size) {
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t got;

                if (poll(&pfd, 1, HTTP_TIMEOUT_MSEC) <= 0)
                        return -ETIMEDOUT;
                got = read(fd, buf + n, size - 1 - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        return got < 0 ? negative_errno() : -ECONNRESET;
                n += (size_t) got;
                buf[n] = 0;
                if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
                        return 0;
        }
        return -E2BIG;
}

static int http_reply(int fd, const char *status, const char *type, const char *body, size_t n, bool head) {
        _cleanup_free_ char *h = strdupf("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                         "Connection: close\r\n\r\n",
                                         status, type, n);
        int k;

        if (!h)
                return -ENOMEM;
        k = write_all(fd, h, strlen(h));
        if (k >= 0 && !head)
                k = write_all(fd, body, n);
        return k;
}

/* One request on the connection systemd accepted (Accept=yes): fd 3, or standard input. */
static int serve_http(void) {
        static const char not_found[] = "Not found: the metrics are at /metrics\n";
        static const char not_allowed[] = "Only GET and HEAD\n";
        char req[HTTP_REQUEST_MAX];
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        bool head;
        int fd, k;

        k = sd_listen_fds(true);
        fd = k >= 1 ? SD_LISTEN_FDS_START : STDIN_FILENO;
        k = read_request(fd, req, sizeof req);
        if (k < 0) {
                log_debug_errno(k, "No request read: %m");
                return k == -E2BIG ? EX_DATAERR : EX_OK;
        }
        head = !strncmp(req, "HEAD ", 5);
        if (strncmp(req, "GET ", 4) != 0 && !head)
                k = http_reply(fd, "405 Method Not Allowed", "text/plain", not_allowed, sizeof not_allowed - 1, false);
        else if (strncmp(req + (head ? 5 : 4), "/metrics ", 9) != 0 && strncmp(req + (head ? 5 : 4), "/ ", 2) != 0)
                k = http_reply(fd, "404 Not Found", "text/plain", not_found, sizeof not_found - 1, head);
        else {
                k = collect(&text, &n);
                if (k != EX_OK)
                        return k;
                k = http_reply(fd, "200 OK", CONTENT_TYPE, text, n, head);
        }
        if (k < 0)
                log_debug_errno(k, "Failed to answer: %m");
        return EX_OK;
}

int verb_metrics(int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        char **args;
        size_t n = 0;
        int k, nargs;

        k = ctl_parse_verb(argc, argv, CTL_OPT_METRICS, &args, &nargs);
        if (k != EX_OK)
                return k < 0 ? EX_OK : k;
        if (nargs > 0 || (arg_http && arg_textfile)) {
                log_error("Usage: jobsctl metrics [--textfile PATH | --http]; see %s --help.",
                          program_invocation_short_name);
                return EX_USAGE;
        }
        if (arg_http)
                return serve_http();
        k = collect(&text, &n);
        if (k != EX_OK)
                return k;
        if (arg_textfile)
                return write_textfile(arg_textfile, text, n);
        if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0) {
                log_error("Failed to write to standard output.");
                return EX_IOERR;
        }
        return EX_OK;
}
