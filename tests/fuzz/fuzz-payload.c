/* SPDX-License-Identifier: MIT */
/* libFuzzer: a payload as the worker reads it from Redis. Parsed, failed once (retry fields), serialized,
 * parsed again: the second serialization is byte for byte the first. Refused payloads get a dead
 * entry that is itself JSON. */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "model/retry.h"

#define FUZZ_PAYLOAD_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_decrefp) json_t *job = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL, *dead = NULL;
        const char *reason = NULL;
        size_t len = 0, len2 = 0, dead_len = 0;
        RetryAction action;
        double at;
        int r;

        r = job_parse((const char *) data, size, FUZZ_PAYLOAD_MAX, &job, &reason);
        if (r < 0) {
                assert(reason);
                if (r == -ERANGE)
                        (void) job_find_big_integer((const char *) data, size);
                r = job_invalid_entry((const char *) data, size, "default", reason, 1.7e9, &dead, &dead_len);
                assert(r >= 0 || r == -ENOMEM);
                if (r >= 0) {
                        json_error_t e;
                        json_t *j = json_loadb(dead, dead_len, JSON_ALLOW_NUL, &e);
                        assert(j);
                        json_decref(j);
                }
                return 0;
        }
        r = retry_apply(job, "RuntimeError", "fuzz", 1.7e9, size % 10, &action, &at);
        assert(r >= 0);
        assert(action >= 0 && action < _RETRY_ACTION_MAX);
        r = job_serialize(job, SIZE_MAX, &text, &len);
        assert(r >= 0);
        r = job_parse(text, len, SIZE_MAX, &again, &reason);
        assert(r >= 0);
        r = job_serialize(again, SIZE_MAX, &text2, &len2);
        assert(r >= 0);
        assert(len == len2 && memcmp(text, text2, len) == 0);
        return 0;
}
