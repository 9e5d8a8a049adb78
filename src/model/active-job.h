/* SPDX-License-Identifier: MIT */
/* Rails' ActiveJob jobs as Sidekiq's adapter stores them: a wrapper class, the job class in
 * "wrapped", and ActiveJob's serialization of the job in args[0]. Reading them (which class and
 * arguments a payload stands for) and writing them as Rails 6.1 with Sidekiq 6.4 does. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "model/job.h"

/* The wrapper classes: Rails' own adapter (Sidekiq 6) and Sidekiq 7's. */
#define ACTIVE_JOB_WRAPPER_RAILS "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"
#define ACTIVE_JOB_WRAPPER_SIDEKIQ7 "Sidekiq::ActiveJob::Wrapper"
#define ACTIVE_JOB_ID_LEN 36                /* a UUID, as SecureRandom.uuid writes it */
#define ACTIVE_JOB_LOCALE "en"              /* I18n's default locale */
#define ACTIVE_JOB_TIMEZONE "UTC"           /* a Rails app's default config.time_zone */
#define ACTIVE_JOB_NESTING_MAX 64           /* arrays and hashes inside the arguments */

bool active_job_is_wrapper(const char *class);

/* For a payload whose class is a wrapper: the job class it stands for, "wrapped" (or, without it,
 * the serialization's "job_class"), if it is a valid class name. NULL for any other payload. */
const char *active_job_class(json_t *job);

/* The ActiveJob arguments of a wrapped payload (args[0]["arguments"], borrowed), NULL if it has
 * none or is not one. */
json_t *active_job_arguments(json_t *job);

/* The arguments as ActiveJob serializes them: every hash gets "_aj_symbol_keys": [] (string keys),
 * as ActiveJob::Arguments does; a hash that already holds an "_aj_*" key is taken as serialized by
 * the caller (a GlobalID, symbol keys) and kept as it is. A new reference in *ret; -EINVAL with
 * *ret_reason (not an array, nesting too deep), or -ENOMEM. */
int active_job_serialize_arguments(json_t *arguments, json_t **ret, const char **ret_reason);

/* A payload as Rails 6.1's SidekiqAdapter pushes it through Sidekiq 6.4's client: retry, queue,
 * class (the wrapper), wrapped, args [serialization], jid, created_at, enqueued_at; the
 * serialization has job_class, job_id (a UUID), provider_job_id null, queue_name, priority null,
 * arguments, executions 0, exception_executions {}, locale, timezone and enqueued_at (ISO 8601
 * UTC, whole seconds). now <= 0 uses the clock. -EINVAL with *ret_reason as job_new(). */
int active_job_new(const char *class, const char *queue, json_t *arguments, const JobRetry *retry, double now,
                   json_t **ret, const char **ret_reason);
