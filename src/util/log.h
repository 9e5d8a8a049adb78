/* SPDX-License-Identifier: MIT */
/* The one logging module: readable lines on stderr, or journal entries with structured fields.
 *
 * Fields are NULL-terminated arrays of "KEY=value" strings (journald's form). Library code does not
 * log above debug; the caller that decides logs once: return log_error_errno(r, "... %m", ...).
 * Journal entries are written by util/journal-send.h, the one journald writer. */
#pragma once

#include <stdarg.h>
#include <sys/uio.h>
#include <syslog.h>

#include "util/macro.h"

typedef enum LogTarget {
        LOG_TARGET_STDERR,  /* plain lines for a terminal */
        LOG_TARGET_STREAM,  /* stderr connected to journald: "<N>" priority prefixes */
        LOG_TARGET_JOURNAL, /* native journal entries with fields (needs log_open_journal()) */
        LOG_TARGET_KMSG,    /* /dev/kmsg, for the generator that runs before journald */
        _LOG_TARGET_MAX,
} LogTarget;

/* Receives the fields of journal entries instead of journald (tests). */
typedef void (*LogSink)(const struct iovec *iov, size_t n);

/* JOURNAL_STREAM is "dev:ino" of the stream journald gave the service: true when fd is that stream
 * (only trusted when it is, as a child may inherit the variable with other descriptors). */
bool fd_is_journal_stream(int fd);

/* Name the program and its JOBS_SERVICE=, pick stderr or journal stream from the environment
 * (JOURNAL_STREAM), read JOBS_LOG_LEVEL=debug|info|notice|warning|err and JOBS_LOG_FIELDS=1
 * (append fields to stderr lines, for tests and terminals). */
void log_open(const char *program, const char *service);

/* Switch to native journal entries when running under journald (stderr is the journal stream). */
void log_open_journal(void);

void log_set_target(LogTarget t);
LogTarget log_get_target(void);
void log_set_sink(LogSink sink);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);

/* Logs (when level is enabled) and returns -abs(error), or 0 if error is 0. %m prints strerror(error).
 * URL passwords in the message are masked (util/secret.h). */
/* The journal field that names a job. systemd writes a numeric JOB_ID= of its own on PID 1's lines,
 * so ours is JOB_JID=; JOB_ID= is written beside it until the next release, for existing queries. */
#define LOG_FIELD_JID "JOB_JID="
#define LOG_FIELD_JID_COMPAT "JOB_ID="

int log_fields(int level, int error, const char *const *fields, const char *fmt, ...) _printf_(4, 5);
int log_fieldsv(int level, int error, const char *const *fields, const char *fmt, va_list ap)
        _printf_(4, 0);

#define log_full_errno(level, error, ...) log_fields(level, error, NULL, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
