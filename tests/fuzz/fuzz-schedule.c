/* SPDX-License-Identifier: MIT */
/* libFuzzer: a schedule file, parsed and checked as jobsctl check and the generator do, and every
 * entry that passes written as units: no crash, and every unit text starts with the marker. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "model/schedule.h"
#include "units/emit.h"
#include "units/generate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(schedule_freep) Schedule *s = schedule_new();
        static const EmitOptions o = { .source_path = "/etc/jobs/fuzz.schedule" };
        int r;

        if (!s)
                return 0;
        r = schedule_parse(s, "/etc/jobs/fuzz.schedule", (const char *) data, size);
        if (r == -ENOMEM)
                return 0;
        if (units_check(s) < 0)
                return 0;
        schedule_sort_errors(s);
        for (size_t i = 0; i < s->n_entries; i++) {
                const ScheduleEntry *e = &s->entries[i];
                _cleanup_free_ char *name = NULL, *timer = NULL, *service = NULL;

                if (e->broken)
                        continue;
                /* units_check() accepted it: every writer must succeed */
                assert(emit_unit_name(e, ".timer", &name) >= 0);
                assert(emit_timer(e, &o, &timer) >= 0);
                assert(emit_service(e, &o, &service) >= 0);
                assert(strncmp(timer, EMIT_MARKER, strlen(EMIT_MARKER)) == 0);
                assert(strncmp(service, EMIT_MARKER, strlen(EMIT_MARKER)) == 0);
        }
        return 0;
}
