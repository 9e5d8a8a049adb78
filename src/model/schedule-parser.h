/* SPDX-License-Identifier: MIT */
/* What the schedule parser's files share: the parse state, the keys of a [Job] section and their
 * value parsers. Not for other layers. */
#pragma once

#include "model/schedule.h"
#include "util/conf-parser.h"

typedef struct ScheduleParser {
        Schedule *s;
        const char *path;     /* owned by s */
        size_t cur;           /* index of the entry being parsed, SIZE_MAX outside [Job] */
} ScheduleParser;

typedef enum ScheduleKey {
        SCHEDULE_KEY_NAME,
        SCHEDULE_KEY_CLASS,
        SCHEDULE_KEY_QUEUE,
        SCHEDULE_KEY_ARGS,
        SCHEDULE_KEY_RETRY,
        SCHEDULE_KEY_ON_CALENDAR,
        SCHEDULE_KEY_EVERY,
        SCHEDULE_KEY_PERSISTENT,
        SCHEDULE_KEY_RANDOMIZED_DELAY,
        SCHEDULE_KEY_ACCURACY,
        SCHEDULE_KEY_DESCRIPTION,
        SCHEDULE_KEY_SCOPE,
        SCHEDULE_KEY_ACTIVE_JOB,
        _SCHEDULE_KEY_MAX,
        _SCHEDULE_KEY_INVALID = -EINVAL,
} ScheduleKey;

/* "Name=, Class=, ..." for the unknown-key message. */
extern const char schedule_keys_allowed[];

ScheduleKey schedule_key_from_string(const char *key);

/* Check value and store it in e. A refused value is a diagnostic against e ("FILE:LINE: Key=value:
 * what is wrong"), not a failure: returns 0, or -ENOMEM. */
int schedule_key_assign(ScheduleParser *p, ScheduleEntry *e, ScheduleKey k, const char *key, const char *value,
                        unsigned line);

/* A diagnostic about an assignment: "FILE:LINE: key=value: " and the text, the value shortened.
 * Returns 0 or -ENOMEM. */
#define schedule_value_error(p, e, line, key, value, fmt, ...)                                               \
        ({                                                                                                    \
                char _b[CONF_VALUE_SHOWN_MAX + 4];                                                            \
                schedule_add_error((p)->s, (e), (p)->path, (line), "%s=%s: " fmt, (key),                      \
                                   conf_value_shown((value), _b), ##__VA_ARGS__);                             \
        })
