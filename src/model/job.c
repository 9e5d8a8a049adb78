/* SPDX-License-Identifier: MIT */
/* The job payload in Sidekiq 6/7 format: create, parse, validate, serialize. */

#include <math.h>

#include "model/job.h"
#include "model/json-ruby.h"
#include "util/util.h"

/* Ruby constant paths ("Foo::Bar") and handler names; never a path, an option or a hidden file. */
bool job_class_is_valid(const char *s) {
        if (!string_is_charset(s, JOB_CLASS_MAX, "_:.-"))
                return false;
        return s[0] != '.' && s[0] != '-';
}

bool job_queue_is_valid(const char *s) {
        return string_is_charset(s, JOB_QUEUE_MAX, "_.:-");
}

bool job_jid_is_valid(const char *s) {
        size_t n;

        if (!s || !*s)
                return false;
        n = strnlen(s, JOB_JID_MAX + 1);
        if (n > JOB_JID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* A string field as a C string: NULL if missing, not a string, or holding "\u0000" (which would cut
 * it short wherever it is used as a name). */
static const char *string_field(json_t *job, const char *field) {
        json_t *v = json_object_get(job, field);
        const char *s = json_string_value(v);

        return s && strlen(s) == json_string_length(v) ? s : NULL;
}

int job_retry_from_string(const char *s, JobRetry *ret) {
        unsigned n;
        int r;

        if (!s)
                return -EINVAL;
        if (streq(s, "true")) {
                *ret = (JobRetry) { JOB_RETRY_TRUE, JOB_RETRY_DEFAULT };
                return 0;
        }
        if (streq(s, "false")) {
                *ret = (JobRetry) { JOB_RETRY_FALSE, 0 };
                return 0;
        }
        r = parse_unsigned(s, &n);
        if (r < 0)
                return -EINVAL;
        if (n > 1000)
                return -ERANGE;
        *ret = (JobRetry) { JOB_RETRY_COUNT, n };
        return 0;
}

int job_new_jid(char ret[static JOB_JID_LEN + 1]) {
        uint8_t b[JOB_JID_LEN / 2];
        int r = random_bytes(b, sizeof b);
        if (r < 0)
                return r;
        hex_encode(b, sizeof b, ret);
        return 0;
}

static json_t *retry_to_json(const JobRetry *retry) {
        if (!retry || retry->kind == JOB_RETRY_TRUE)
                return json_true();
        if (retry->kind == JOB_RETRY_FALSE)
                return json_false();
        return json_integer(retry->count);
}

int job_new(const char *class, const char *queue, json_t *args, const JobRetry *retry, double now,
            json_t **ret, const char **ret_reason) {
        _cleanup_(json_decrefp) json_t *job = NULL;
        char jid[JOB_JID_LEN + 1];
        int r;

        if (!job_class_is_valid(class)) {
                *ret_reason = "class must be 1-255 characters of A-Z a-z 0-9 _ : . - and not start with . or -";
                return -EINVAL;
        }
        if (!queue)
                queue = "default";
        if (!job_queue_is_valid(queue)) {
                *ret_reason = "queue must be 1-128 characters of A-Z a-z 0-9 _ . : -";
                return -EINVAL;
        }
        if (args && !json_is_array(args)) {
                *ret_reason = "args must be a JSON array";
                return -EINVAL;
        }
        r = job_new_jid(jid);
        if (r < 0)
                return r;
        if (now <= 0)
                now = epoch_now();

        /* Sidekiq's own key order, so a payload reads the same in its Web UI. */
        job = json_pack("{s:s, s:o, s:o, s:s, s:s, s:f, s:f}",
                        "class", class,
                        "args", args ? json_incref(args) : json_array(),
                        "retry", retry_to_json(retry),
                        "queue", queue,
                        "jid", jid,
                        "created_at", now,
                        "enqueued_at", now);
        if (!job)
                return -ENOMEM;
        *ret = TAKE_PTR(job);
        return 0;
}

int job_validate(json_t *job, const char **ret_reason) {
        json_t *v;

        if (!json_is_object(job)) {
                *ret_reason = "payload is not a JSON object";
                return -EBADMSG;
        }
        v = json_object_get(job, "class");
        if (!json_is_string(v)) {
                *ret_reason = "field \"class\" is missing or not a string";
                return -EBADMSG;
        }
        if (!job_class_is_valid(string_field(job, "class"))) {
                *ret_reason = "field \"class\" has characters outside A-Z a-z 0-9 _ : . - or is too long";
                return -EBADMSG;
        }
        v = json_object_get(job, "args");
        if (!json_is_array(v)) {
                *ret_reason = "field \"args\" is missing or not an array";
                return -EBADMSG;
        }
        v = json_object_get(job, "queue");
        if (v && !job_queue_is_valid(string_field(job, "queue"))) {
                *ret_reason = "field \"queue\" is not a valid queue name";
                return -EBADMSG;
        }
        if (!job_jid_is_valid(string_field(job, "jid"))) {
                *ret_reason = "field \"jid\" is missing, empty, longer than 64 bytes or has control characters";
                return -EBADMSG;
        }
        v = json_object_get(job, "retry");
        if (v && !json_is_boolean(v) && !(json_is_integer(v) && json_integer_value(v) >= 0)) {
                *ret_reason = "field \"retry\" must be true, false or a non-negative integer";
                return -EBADMSG;
        }
        v = json_object_get(job, "retry_count");
        /* -1 is what Sidekiq's manual retry (SortedEntry#retry) leaves after a first failure. */
        if (v && !(json_is_integer(v) && json_integer_value(v) >= -1 && json_integer_value(v) <= JOB_RETRY_COUNT_MAX)) {
                *ret_reason = "field \"retry_count\" must be an integer from -1 to 1000000"; /* JOB_RETRY_COUNT_MAX */
                return -EBADMSG;
        }
        static const char *const times[] = { "created_at", "enqueued_at", "failed_at", "retried_at" };
        for (size_t i = 0; i < ELEMENTSOF(times); i++) {
                v = json_object_get(job, times[i]);
                if (v && !json_is_number(v)) {
                        *ret_reason = "a timestamp field (created_at, enqueued_at, failed_at, retried_at) is not a number";
                        return -EBADMSG;
                }
        }
        return 0;
}

int job_parse(const char *buf, size_t len, size_t max, json_t **ret, const char **ret_reason) {
        _cleanup_(json_decrefp) json_t *job = NULL;
        json_error_t err;
        int r;

        if (len > max) {
                *ret_reason = "payload is larger than the configured maximum";
                return -EMSGSIZE;
        }
        /* Duplicate keys would let two readers see two different jobs. "\u0000" is valid JSON that
         * Ruby writes and Sidekiq runs: it is kept (json_string_length() counts it). */
        job = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!job) {
                /* jansson reads integers as 64-bit: a bigger one would come back altered, so refuse it. */
                if (strstr(err.text, "too big")) {
                        *ret_reason = "integer out of range (more than 64 bits)";
                        return -ERANGE;
                }
                *ret_reason = "payload is not valid JSON";
                return -EBADMSG;
        }
        r = job_validate(job, ret_reason);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(job);
        return 0;
}

static size_t skip_space(const char *buf, size_t len, size_t i) {
        while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
                i++;
        return i;
}

/* Past the string that opens at buf[i]. */
static size_t skip_string(const char *buf, size_t len, size_t i) {
        for (i++; i < len && buf[i] != '"'; i++)
                if (buf[i] == '\\')
                        i++;
        return MIN(i + 1, len);
}

/* An integer token (no '.', 'e', 'E') that does not fit in int64_t. */
static bool number_is_big(const char *t, size_t n) {
        bool neg = n > 0 && t[0] == '-';
        size_t digits = n - neg;

        if (memchr(t, '.', n) || memchr(t, 'e', n) || memchr(t, 'E', n))
                return false;
        if (digits != 19)
                return digits > 19;
        return memcmp(t + neg, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0;
}

int job_find_big_integer(const char *buf, size_t len) {
        unsigned depth = 0, args_depth = 0;
        bool args_key = false;
        int index = 0;

        for (size_t i = 0; i < len;) {
                char c = buf[i];

                if (c == '"') {
                        size_t end = skip_string(buf, len, i), k = skip_space(buf, len, end);
                        if (depth == 1 && k < len && buf[k] == ':')
                                args_key = end - i == 6 && memcmp(buf + i, "\"args\"", 6) == 0;
                        i = end;
                } else if (c == '[' || c == '{') {
                        depth++;
                        if (c == '[' && depth == 2 && args_key && !args_depth) {
                                args_depth = depth;
                                index = 0;
                        }
                        i++;
                } else if (c == ']' || c == '}') {
                        if (args_depth && depth == args_depth)
                                args_depth = 0, args_key = false;
                        depth = depth > 0 ? depth - 1 : 0;
                        i++;
                } else if (c == ',') {
                        if (args_depth && depth == args_depth)
                                index++;
                        if (depth == 1)
                                args_key = false;
                        i++;
                } else if (c == '-' || (c >= '0' && c <= '9')) {
                        size_t start = i;
                        while (i < len && strchr("0123456789+-.eE", buf[i]) && buf[i])
                                i++;
                        if (args_depth && depth >= args_depth && number_is_big(buf + start, i - start))
                                return index;
                } else
                        i++;
        }
        return -ENOENT;
}

int job_invalid_entry(const char *buf, size_t len, const char *queue, const char *reason, double now,
                      char **ret, size_t *ret_len) {
        _cleanup_(json_decrefp) json_t *o = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
        char jid[JOB_JID_LEN + 1];
        int r;

        if (!json_is_object(o)) {
                _cleanup_free_ char *b64 = NULL;
                json_t *text = json_stringn(buf, len); /* NULL unless UTF-8 */

                if (!text) {
                        b64 = base64_encode(buf, len);
                        if (!b64)
                                return -ENOMEM;
                }
                r = job_new_jid(jid);
                if (r < 0) {
                        json_decref(text);
                        return r;
                }
                json_decref(o);
                o = json_pack("{s:s, s:[], s:b, s:s, s:s, s:o}", "class", "JobsInvalidPayload", "args", "retry", 0,
                              "queue", job_queue_is_valid(queue) ? queue : "default", "jid", jid,
                              text ? "payload" : "payload_base64", text ? text : json_string(b64));
                if (!o)
                        return -ENOMEM;
        }
        if (json_object_set_new(o, "error_class", json_string("JobsInvalidPayload")) < 0 ||
            json_object_set_new(o, "error_message", json_string(reason)) < 0)
                return -ENOMEM;
        r = job_set_time(o, "failed_at", now);
        if (r < 0)
                return r;
        return job_serialize(o, SIZE_MAX, ret, ret_len);
}

int job_serialize(json_t *job, size_t max, char **ret, size_t *ret_len) {
        /* jansson writes "\u0000" escaped: the text holds no NUL byte, strlen() is its length. */
        char *s = json_dumps(job, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        /* As Ruby writes it, so Sidekiq's API finds our entries by their text. */
        int r = json_ruby_rewrite(&s, &n);
        if (r < 0) {
                free(s);
                return r;
        }
        if (n > max) {
                free(s);
                return -EMSGSIZE;
        }
        *ret = s;
        if (ret_len)
                *ret_len = n;
        return 0;
}

const char *job_get_class(json_t *job) {
        return json_string_value(json_object_get(job, "class"));
}

const char *job_get_queue(json_t *job) {
        const char *q = json_string_value(json_object_get(job, "queue"));
        return q ? q : "default";
}

const char *job_get_jid(json_t *job) {
        return json_string_value(json_object_get(job, "jid"));
}

JobRetry job_get_retry(json_t *job) {
        json_t *v = json_object_get(job, "retry");

        if (!v || json_is_true(v))
                return (JobRetry) { JOB_RETRY_TRUE, JOB_RETRY_DEFAULT };
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                return (JobRetry) { JOB_RETRY_COUNT, (unsigned) MIN(json_integer_value(v), 1000000) };
        return (JobRetry) { JOB_RETRY_FALSE, 0 };
}

int job_get_retry_count(json_t *job) {
        json_t *v = json_object_get(job, "retry_count");
        return json_is_integer(v) ? (int) json_integer_value(v) : -1;
}

int job_set_time(json_t *job, const char *field, double t) {
        if (!isfinite(t) || t < 0)
                return -EINVAL;
        return json_object_set_new(job, field, json_real(t)) < 0 ? -ENOMEM : 0;
}
