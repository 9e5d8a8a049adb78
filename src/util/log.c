/* SPDX-License-Identifier: MIT */
/* The one logging module: stderr lines, journal stream prefixes, native journal, or /dev/kmsg. */

#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/journal-send.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/util.h"

#define LOG_LINE_MAX 4096

static LogTarget log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static const char *log_program = "jobs";
static const char *log_service;
static bool log_show_fields;
static LogSink log_sink;
static int kmsg_fd = -1;
static int journal_fd = -1; /* LOG_TARGET_JOURNAL, or LOG_TARGET_KMSG where there is no /dev/kmsg */

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < (int) ELEMENTSOF(level_names); i++)
                if (!strcasecmp(s, level_names[i]))
                        return i;
        if (!strcasecmp(s, "error"))
                return LOG_ERR;
        if (!strcasecmp(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

bool fd_is_journal_stream(int fd) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_open(const char *program, const char *service) {
        const char *e;

        log_program = program;
        log_service = service;
        log_target = fd_is_journal_stream(STDERR_FILENO) ? LOG_TARGET_STREAM : LOG_TARGET_STDERR;

        log_max_level = LOG_INFO;
        e = getenv("JOBS_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        log_max_level = l;
        }
        e = getenv("JOBS_LOG_FIELDS");
        log_show_fields = e && parse_boolean(e) > 0;
}

/* Containers have no /dev/kmsg (systemd-nspawn hides it on purpose), and a generator's stderr is
 * /dev/null. Once journald listens (daemon-reload; never during the boot-time generator run, when the
 * socket does not exist yet) its native socket is the way to the journal. Non-blocking: PID 1 waits
 * for generators, so a full socket drops the line rather than hang the manager. */
void log_set_target(LogTarget t) {
        log_target = t;
        if (t == LOG_TARGET_KMSG && kmsg_fd < 0 && journal_fd < 0) {
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (kmsg_fd < 0)
                        journal_fd = journal_open(true);
                if (kmsg_fd < 0 && journal_fd < 0)
                        log_target = LOG_TARGET_STDERR;
        }
}

void log_open_journal(void) {
        /* Only when journald gave us our stderr (a service), not on a terminal. Blocking, as
         * sd_journal_send() is: a busy journald slows the worker down rather than lose its lines. */
        if (log_target != LOG_TARGET_STREAM)
                return;
        if (journal_fd < 0)
                journal_fd = journal_open(false);
        if (journal_fd >= 0)
                log_target = LOG_TARGET_JOURNAL;
}

LogTarget log_get_target(void) {
        return log_target;
}

void log_set_sink(LogSink sink) {
        log_sink = sink;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* One journal entry; false when it could not be sent. */
static bool write_journal(int level, int error, const char *const *fields, const char *msg) {
        char prio[sizeof("PRIORITY=") + 2], err[sizeof("ERRNO=") + 12];
        _cleanup_free_ char *m = NULL, *ident = NULL, *svc = NULL;
        struct iovec iov[JOURNAL_FIELDS_MAX];
        size_t n = 0;

        m = strdupf("MESSAGE=%s", msg);
        ident = strdupf("SYSLOG_IDENTIFIER=%s", log_program);
        if (!m || !ident)
                return false;
        snprintf(prio, sizeof prio, "PRIORITY=%d", level);
        iov[n++] = (struct iovec) { m, strlen(m) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        iov[n++] = (struct iovec) { ident, strlen(ident) };
        if (log_service && (svc = strdupf("JOBS_SERVICE=%s", log_service)))
                iov[n++] = (struct iovec) { svc, strlen(svc) };
        if (error != 0) {
                snprintf(err, sizeof err, "ERRNO=%d", error);
                iov[n++] = (struct iovec) { err, strlen(err) };
        }
        for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                iov[n++] = (struct iovec) { (void *) fields[i], strlen(fields[i]) };
        if (log_sink) {
                log_sink(iov, n);
                return true;
        }
        return journal_sendv(journal_fd, iov, n) >= 0;
}

static void write_line(int level, const char *const *fields, const char *msg) {
        char line[LOG_LINE_MAX];
        size_t off = 0;
        int r;

        switch (log_target) {
        case LOG_TARGET_STREAM:
                r = snprintf(line, sizeof line, "<%d>%s", level, msg);
                break;
        case LOG_TARGET_KMSG:
                r = snprintf(line, sizeof line, "<%d>%s[%d]: %s", level, log_program, (int) getpid(), msg);
                break;
        default:
                r = snprintf(line, sizeof line, "%s: %s", log_program, msg);
                break;
        }
        if (r < 0)
                return;
        off = MIN((size_t) r, sizeof line - 2);
        if (log_show_fields && log_target != LOG_TARGET_KMSG)
                for (size_t i = 0; fields && fields[i] && off < sizeof line - 2; i++) {
                        r = snprintf(line + off, sizeof line - 1 - off, " %s", fields[i]);
                        if (r < 0)
                                break;
                        off = MIN(off + (size_t) r, sizeof line - 2);
                }
        line[off++] = '\n';
        (void) !write(log_target == LOG_TARGET_KMSG ? kmsg_fd : STDERR_FILENO, line, off);
}

int log_fieldsv(int level, int error, const char *const *fields, const char *fmt, va_list ap) {
        char msg[LOG_LINE_MAX];
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        errno = error; /* for %m */
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        /* whatever a message quotes, a Redis password is never printed */
        if (secret_present(msg)) {
                char masked[LOG_LINE_MAX];
                (void) secret_mask(msg, masked, sizeof masked);
                memcpy(msg, masked, sizeof msg);
        }

        /* a line journald refused (not up yet, full) goes where stderr goes */
        bool journal = log_target == LOG_TARGET_JOURNAL || (log_target == LOG_TARGET_KMSG && kmsg_fd < 0);
        if (!journal || !write_journal(level, error, fields, msg)) {
                LogTarget t = log_target;
                if (journal)
                        log_target = LOG_TARGET_STDERR;
                write_line(level, fields, msg);
                log_target = t;
        }

        errno = saved;
        return -error;
}

int log_fields(int level, int error, const char *const *fields, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_fieldsv(level, error, fields, fmt, ap);
        va_end(ap);
        return r;
}
