/* SPDX-License-Identifier: MIT */
/* The parsed form of a calendar expression, shared by its parser and its evaluator. */
#pragma once

#include "model/calendar-spec.h"

#define WEEKDAYS_ALL 127
#define YEAR_MAX 2199

typedef struct CalendarRange {
        int start, stop, repeat; /* stop -1: none; repeat 0: none */
} CalendarRange;

/* n == 0: any value ("*") */
typedef struct CalendarChain {
        CalendarRange *v;
        size_t n;
} CalendarChain;

enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MINUTE, F_USEC, _F_MAX };

struct CalendarSpec {
        int weekdays;      /* bit 0 Monday … bit 6 Sunday; -1 any day */
        bool end_of_month; /* the day list counts from the end of the month ("~") */
        bool utc;
        char *timezone;    /* IANA name, or NULL: local time (or UTC) */
        CalendarChain f[_F_MAX];
};
