/* SPDX-License-Identifier: MIT */
/* libFuzzer: the Ruby-style JSON writer. Any JSON value, dumped compact and rewritten as Ruby writes
 * it, still reads back as the same value; any double formats to text that reads back as itself. */
#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/json-ruby.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_decrefp) json_t *v = NULL, *back = NULL;
        char real[JSON_REAL_MAX];
        json_error_t e;
        double d;

        if (size >= sizeof d) {
                memcpy(&d, data, sizeof d);
                int n = json_ruby_format_real(d, real);
                if (isfinite(d)) {
                        assert(n > 0 && (size_t) n < sizeof real);
                        assert(strtod(real, NULL) == d);
                } else
                        assert(n == -EDOM);
        }

        v = json_loadb((const char *) data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!v)
                return 0;
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
                return 0;
        size_t len = strlen(text);
        int r = json_ruby_rewrite(&text, &len);
        assert(r >= 0 || r == -ENOMEM);
        back = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        assert(back);
        assert(json_equal(v, back));
        free(text);
        return 0;
}
