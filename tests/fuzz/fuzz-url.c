/* SPDX-License-Identifier: MIT */
/* libFuzzer: a Redis URL (redis://, rediss://, unix://), parsed, described and masked. A password
 * never shows in the description. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redis/url.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);
        _cleanup_free_ char *masked = NULL;
        const char *reason = NULL;
        RedisURL u = {};
        char buf[512];

        if (!s)
                return 0;
        masked = redis_url_mask(s);
        if (redis_url_parse(s, &u, &reason) < 0) {
                assert(reason);
                return 0;
        }
        redis_url_describe(&u, buf, sizeof buf);
        assert(strlen(buf) < sizeof buf);
        redis_url_done(&u);
        return 0;
}
