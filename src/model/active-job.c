/* SPDX-License-Identifier: MIT */
/* ActiveJob payloads in Sidekiq: read the job class and arguments a wrapper stands for, and write
 * them as Rails 6.1's SidekiqAdapter does. */

#include <time.h>

#include "model/active-job.h"
#include "util/util.h"

bool active_job_is_wrapper(const char *class) {
        return class && (streq(class, ACTIVE_JOB_WRAPPER_RAILS) || streq(class, ACTIVE_JOB_WRAPPER_SIDEKIQ7));
}

static json_t *serialization(json_t *job) {
        json_t *a = json_array_get(json_object_get(job, "args"), 0);
        return json_is_object(a) ? a : NULL;
}

const char *active_job_class(json_t *job) {
        json_t *v;
        const char *c;

        if (!active_job_is_wrapper(json_string_value(json_object_get(job, "class"))))
                return NULL;
        v = json_object_get(job, "wrapped");
        if (!json_is_string(v))
                v = json_object_get(serialization(job), "job_class");
        c = json_string_value(v);
        /* a "\u0000" inside would cut the name short: not a class */
        return c && strlen(c) == json_string_length(v) && job_class_is_valid(c) ? c : NULL;
}

json_t *active_job_arguments(json_t *job) {
        json_t *a;

        if (!active_job_class(job))
                return NULL;
        a = json_object_get(serialization(job), "arguments");
        return json_is_array(a) ? a : NULL;
}

static bool has_reserved_key(json_t *o) {
        const char *k;
        json_t *v;

        json_object_foreach(o, k, v)
                if (strncmp(k, "_aj_", 4) == 0)
                        return true;
        return false;
}

static int serialize_value(json_t *v, unsigned depth, json_t **ret) {
        _cleanup_(json_decrefp) json_t *out = NULL;
        const char *k;
        json_t *e;
        size_t i;
        int r;

        if (depth > ACTIVE_JOB_NESTING_MAX)
                return -EINVAL;
        if (json_is_array(v)) {
                out = json_array();
                if (!out)
                        return -ENOMEM;
                json_array_foreach(v, i, e) {
                        json_t *s;
                        r = serialize_value(e, depth + 1, &s);
                        if (r < 0)
                                return r;
                        if (json_array_append_new(out, s) < 0)
                                return -ENOMEM;
                }
        } else if (json_is_object(v) && !has_reserved_key(v)) {
                out = json_object();
                if (!out)
                        return -ENOMEM;
                json_object_foreach(v, k, e) {
                        json_t *s;
                        r = serialize_value(e, depth + 1, &s);
                        if (r < 0)
                                return r;
                        if (json_object_set_new(out, k, s) < 0)
                                return -ENOMEM;
                }
                /* ActiveJob::Arguments marks a hash with string keys so, and turns it back into one. */
                if (json_object_set_new(out, "_aj_symbol_keys", json_array()) < 0)
                        return -ENOMEM;
        } else
                out = json_incref(v);
        *ret = TAKE_PTR(out);
        return 0;
}

int active_job_serialize_arguments(json_t *arguments, json_t **ret, const char **ret_reason) {
        int r;

        if (!json_is_array(arguments)) {
                *ret_reason = "the arguments must be a JSON array";
                return -EINVAL;
        }
        r = serialize_value(arguments, 0, ret);
        if (r == -EINVAL)
                *ret_reason = "the arguments nest arrays and hashes too deep";
        return r;
}

/* SecureRandom.uuid: version 4, variant 1, lowercase. */
static int uuid_v4(char ret[static ACTIVE_JOB_ID_LEN + 1]) {
        uint8_t b[16];
        char h[33];
        int r = random_bytes(b, sizeof b);

        if (r < 0)
                return r;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        hex_encode(b, sizeof b, h);
        snprintf(ret, ACTIVE_JOB_ID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
        return 0;
}

int active_job_new(const char *class, const char *queue, json_t *arguments, const JobRetry *retry, double now,
                   json_t **ret, const char **ret_reason) {
        _cleanup_(json_decrefp) json_t *base = NULL, *args = NULL, *data = NULL, *job = NULL;
        char job_id[ACTIVE_JOB_ID_LEN + 1], iso[32];
        struct tm tm;
        time_t secs;
        int r;

        if (now <= 0)
                now = epoch_now();
        /* The checks, the jid and the timestamps of any job. */
        r = job_new(class, queue, NULL, retry, now, &base, ret_reason);
        if (r < 0)
                return r;
        if (arguments)
                r = active_job_serialize_arguments(arguments, &args, ret_reason);
        else
                r = (args = json_array()) ? 0 : -ENOMEM;
        if (r < 0)
                return r;
        r = uuid_v4(job_id);
        if (r < 0)
                return r;
        secs = (time_t) now;
        if (!gmtime_r(&secs, &tm) || strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;

        data = json_pack("{s:s, s:s, s:n, s:s, s:n, s:O, s:i, s:{}, s:s, s:s, s:s}",
                         "job_class", class,
                         "job_id", job_id,
                         "provider_job_id",
                         "queue_name", job_get_queue(base),
                         "priority",
                         "arguments", args,
                         "executions", 0,
                         "exception_executions",
                         "locale", ACTIVE_JOB_LOCALE,
                         "timezone", ACTIVE_JOB_TIMEZONE,
                         "enqueued_at", iso);
        if (!data)
                return -ENOMEM;
        /* Sidekiq::Client's order for what the adapter pushes: its defaults (retry, queue) first. */
        job = json_pack("{s:O, s:s, s:s, s:s, s:[O], s:O, s:O, s:O}",
                        "retry", json_object_get(base, "retry"),
                        "queue", job_get_queue(base),
                        "class", ACTIVE_JOB_WRAPPER_RAILS,
                        "wrapped", class,
                        "args", data,
                        "jid", json_object_get(base, "jid"),
                        "created_at", json_object_get(base, "created_at"),
                        "enqueued_at", json_object_get(base, "enqueued_at"));
        if (!job)
                return -ENOMEM;
        *ret = TAKE_PTR(job);
        return 0;
}
