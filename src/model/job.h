/* SPDX-License-Identifier: MIT */
/* The job payload in Sidekiq 6/7 format: a JSON object kept whole so unknown fields survive. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

#define JOB_CLASS_MAX 255
#define JOB_QUEUE_MAX 128
#define JOB_JID_LEN 24
#define JOB_JID_MAX 64                     /* bytes; jids written by other clients may be longer than ours */
#define JOB_PAYLOAD_MAX_DEFAULT (1024 * 1024) /* bytes of JSON; --max-payload changes it */
#define JOB_RETRY_DEFAULT 25               /* retry: true means 25 attempts, as Sidekiq */
#define JOB_ERROR_MESSAGE_MAX 10000
#define JOB_RETRY_COUNT_MAX 1000000        /* the largest retry_count a payload may carry; reached, the job is dead */

/* jansson >= 2.11 provides json_decrefp() for _cleanup_(json_decrefp). */

typedef enum JobRetryKind {
        JOB_RETRY_TRUE,  /* default count */
        JOB_RETRY_FALSE, /* never retried, not sent to dead */
        JOB_RETRY_COUNT, /* retried up to count times */
        _JOB_RETRY_KIND_MAX,
} JobRetryKind;

typedef struct JobRetry {
        JobRetryKind kind;
        unsigned count;
} JobRetry;

/* Class names are Ruby constants ("Foo::Bar") or handler names: [A-Za-z0-9_:.-], no leading '.'
 * or '-', so that a class can never become a path or an option. */
bool job_class_is_valid(const char *s);
/* Queue names: [A-Za-z0-9_.:-], at most JOB_QUEUE_MAX bytes. */
bool job_queue_is_valid(const char *s);

/* Job ids: ours are 24 hex digits, but Sidekiq takes any string ("order:42"): any text of 1 to
 * JOB_JID_MAX bytes without control characters (they would split log lines). */
bool job_jid_is_valid(const char *s);

/* "true", "false" or a count 0..1000. */
int job_retry_from_string(const char *s, JobRetry *ret);

/* 24 lowercase hex digits from the kernel's random source. */
int job_new_jid(char ret[static JOB_JID_LEN + 1]);

/* A new job object: class, queue, args (borrowed; NULL means []), retry, jid, created_at and
 * enqueued_at = now (float epoch seconds). Pass now <= 0 to use the clock. Errors: -EINVAL with
 * *ret_reason set to what is wrong. */
int job_new(const char *class, const char *queue, json_t *args, const JobRetry *retry, double now,
            json_t **ret, const char **ret_reason);

/* Parse and validate a payload of at most max bytes. Binary-safe: the length counts, and "\u0000" in
 * strings is kept. -EMSGSIZE if bigger, -ERANGE if an integer does not fit in 64 bits (see
 * job_find_big_integer()), -EBADMSG if not JSON or not a valid job; *ret_reason says what (a static
 * string). */
int job_parse(const char *buf, size_t len, size_t max, json_t **ret, const char **ret_reason);

/* Where an integer beyond 64 bits is in the payload text: its index in "args" (>= 0), -ENOENT if none is
 * in args. Used to name the place when job_parse() returned -ERANGE. */
int job_find_big_integer(const char *buf, size_t len);

/* The dead-set entry for a payload that is not a valid job, carrying why: a JSON object is kept with
 * error_class "JobsInvalidPayload", error_message = reason and failed_at = now; anything else is
 * wrapped whole ("payload" as a string if it is UTF-8, else "payload_base64") in a job of class
 * JobsInvalidPayload, retry false, with a fresh jid. Binary-safe. */
int job_invalid_entry(const char *buf, size_t len, const char *queue, const char *reason, double now,
                      char **ret, size_t *ret_len);

/* Check the fields Sidekiq relies on. 0 or -EBADMSG with *ret_reason. */
int job_validate(json_t *job, const char **ret_reason);

/* Compact JSON, fields in insertion order, written as Ruby writes it (json-ruby.h). -EMSGSIZE if over max. */
int job_serialize(json_t *job, size_t max, char **ret, size_t *ret_len);

/* Accessors for validated jobs (never NULL after job_validate succeeded, queue defaults to "default"). */
const char *job_get_class(json_t *job);
const char *job_get_queue(json_t *job);
const char *job_get_jid(json_t *job);
JobRetry job_get_retry(json_t *job);
/* retry_count, or -1 if the job never failed. */
int job_get_retry_count(json_t *job);

/* Set a float-seconds timestamp field (created_at, enqueued_at, failed_at, retried_at). */
int job_set_time(json_t *job, const char *field, double t);
