/* SPDX-License-Identifier: MIT */
/* When a timer last fired, asked of systemd (the timer's LastTriggerUSec property over D-Bus). */
#pragma once

#include "util/util.h"

/* The realtime at which UNIT (a .timer) last elapsed, which stays the same across the service's
 * Restart= retries and is the boot time for a Persistent= catch-up. libsystemd is loaded only when
 * this is called, so that a jobs-enqueue run from a shell does not pay for it. *ret = 0 when the
 * timer never fired; -EOPNOTSUPP when libsystemd cannot be loaded, else sd-bus's error. */
int timer_last_trigger(const char *unit, usec_t *ret);
