/* SPDX-License-Identifier: MIT */
/* Native journal sink: kept apart from log.c so that only programs calling it link libsystemd. */

#include <systemd/sd-journal.h>

#include "util/log.h"

static void journal_sink(const struct iovec *iov, size_t n) {
        (void) sd_journal_sendv(iov, (int) n);
}

void log_open_journal(void) {
        /* Only when journald gave us our stderr (a service), not on a terminal. */
        if (log_get_target() != LOG_TARGET_STREAM)
                return;
        log_set_sink(journal_sink);
        log_set_target(LOG_TARGET_JOURNAL);
}
