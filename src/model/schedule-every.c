/* SPDX-License-Identifier: MIT */
/* Every= as a calendar expression aligned to the clock, when the interval allows one. */

#include <stdio.h>

#include "model/schedule.h"

const char *schedule_every_to_calendar(usec_t every, char buf[static SCHEDULE_EVERY_CALENDAR_MAX]) {
        uint64_t sec = every / USEC_PER_SEC;

        if (every == 0 || every % USEC_PER_SEC != 0)
                return NULL;
        if (sec < 60 && 60 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 1 ? "*-*-* *:*:*" : "*-*-* *:*:00/%llu",
                         (unsigned long long) sec);
        else if (sec % 60 == 0 && sec < 3600 && 3600 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 60 ? "*-*-* *:*:00" : "*-*-* *:00/%llu:00",
                         (unsigned long long) (sec / 60));
        else if (sec % 3600 == 0 && sec < 86400 && 86400 % sec == 0)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, sec == 3600 ? "*-*-* *:00:00" : "*-*-* 00/%llu:00:00",
                         (unsigned long long) (sec / 3600));
        else if (sec == 86400)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, "*-*-* 00:00:00");
        else if (sec == 7 * 86400)
                snprintf(buf, SCHEDULE_EVERY_CALENDAR_MAX, "Mon *-*-* 00:00:00");
        else
                return NULL;
        return buf;
}
