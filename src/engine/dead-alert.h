/* SPDX-License-Identifier: MIT */
/* Dead-job alerts, systemd's way: when a job enters the dead set, the OnDead= template unit is started
 * with the jid as its instance (as OnFailure= starts a unit), over the system bus and without waiting
 * for the answer, so the event loop never blocks on it. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct DeadAlert {
        sd_bus *bus; /* opened at the first dead job, kept; dropped when it failed */
        unsigned n_requested;
        int64_t priority; /* of the bus on the event loop */
} DeadAlert;

void dead_alert_init(DeadAlert *a);
void dead_alert_done(DeadAlert *a);

/* Ask systemd to start template@<escaped jid>.service. Failures are logged, never fatal: the job
 * is in the dead set whatever happens to its alert. */
void dead_alert_start(DeadAlert *a, sd_event *event, const char *template, const char *jid);
