/* SPDX-License-Identifier: MIT */
/* Dead-job alerts: OnDead=template@.service started with the jid over the system bus. */

#include "engine/dead-alert.h"
#include "util/log.h"
#include "util/unit-name.h"
#include "util/util.h"

void dead_alert_init(DeadAlert *a) {
        *a = (DeadAlert) {};
}

void dead_alert_done(DeadAlert *a) {
        a->bus = sd_bus_flush_close_unref(a->bus);
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* systemd's error names the unit ("Unit jobs-dead@….service not found."). */
        if (e)
                log_warning("The dead-job alert (OnDead=) could not be started: %s", e->message ?: e->name);
        return 0;
}

static int bus_open(DeadAlert *a, sd_event *event) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (a->bus)
                return 0;
        /* $DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket; the handshake runs in the loop. */
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, event, a->priority);
        if (r < 0)
                return r;
        a->bus = TAKE_PTR(bus);
        return 0;
}

static int start_unit(DeadAlert *a, const char *unit) {
        /* "replace": the instance is this jid's own; a start already queued for it is taken over. */
        return sd_bus_call_method_async(a->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "StartUnit", on_start_reply, NULL, "ss",
                                        unit, "replace");
}

void dead_alert_start(DeadAlert *a, sd_event *event, const char *template, const char *jid) {
        char unit[UNIT_NAME_MAX + 1];
        int r;

        if (!template || !jid || !*jid)
                return;
        r = unit_name_instance(template, jid, unit, sizeof unit);
        if (r < 0)
                return (void) log_warning_errno(r, "Cannot name the dead-job alert for job %s from OnDead=%s: %m",
                                                jid, template);
        for (int attempt = 0; attempt < 2; attempt++) {
                r = bus_open(a, event);
                if (r >= 0)
                        r = start_unit(a, unit);
                if (r >= 0) {
                        a->n_requested++;
                        log_info("Asked systemd to start %s, the dead-job alert (OnDead=) for job %s.", unit, jid);
                        return;
                }
                /* A bus that went away (D-Bus restarted): open it again once. */
                a->bus = sd_bus_flush_close_unref(a->bus);
        }
        log_warning_errno(r, "Cannot ask systemd to start %s, the dead-job alert for job %s: %m", unit, jid);
}
