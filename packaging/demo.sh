#!/bin/bash
# SPDX-License-Identifier: MIT
# The main job, end to end: build the .deb, boot it in a throw-away systemd container with a local
# Redis, show `systemctl list-timers` and the journal of a job running, then clean everything up.
#   bash packaging/demo.sh            (root; JOBS_DEB=path.deb to skip the build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/system/lib.sh
. "$src/tests/system/lib.sh"
# the root without a kernel (the tests' root has one, for their VM): a faster first bootstrap
CT_SMALL_ROOT=1

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
        say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
        say() { printf '\n$ %s\n' "$*"; }
fi

deb=${JOBS_DEB:-}
if [ -z "$deb" ]; then
        out=$(mktemp -d /var/tmp/jobs-demo.XXXXXX)
        CT_CLEANUP+=("$out")
        trap 'rm -rf "$out"' EXIT
        echo "Building the package (packaging/build-deb.sh) ..."
        deb=$("$src/packaging/build-deb.sh" "$out" 2>"$out/build.log" | tail -1) ||
                { tail -30 "$out/build.log"; exit 1; }
        echo "Built $(basename "$deb")"
fi

echo "Booting Debian 12 with systemd in a container (systemd-nspawn) ..."
ct_boot
echo "Booted in $CT_BOOT_MS ms."

# An example handler for the packaged SayHello entry, unless the package brings its own.
if ! ct sh -c 'test -x /etc/jobs/handlers/SayHello || test -x /usr/lib/jobs/handlers/SayHello'; then
        mkdir -p "$CT_ROOT/etc/jobs/handlers"
        # shellcheck disable=SC2016 # expanded by the handler, not here
        printf '#!/bin/sh\necho "Hello from job $JOB_ID (class $JOB_CLASS, queue $JOB_QUEUE)"\n' \
                > "$CT_ROOT/etc/jobs/handlers/SayHello"
        chmod 0755 "$CT_ROOT/etc/jobs/handlers/SayHello"
fi

say "dpkg -i $(basename "$deb")"
ct_install_deb "$deb" | grep -v '^(Reading database' || true

say "systemctl status jobs-worker --no-pager --lines=0"
ct systemctl status jobs-worker --no-pager --lines=0 || true

# The package schedules nothing by itself: install the example schedule as a host-local one (the
# generator turns /etc/jobs/*.schedule into timers at daemon-reload). On a fleet, every host gets
# the same schedule; each occurrence is enqueued once across them.
say "cp /usr/share/jobs/examples/jobs.schedule /etc/jobs/ && systemctl daemon-reload && systemctl start jobs.target"
ct cp /usr/share/jobs/examples/jobs.schedule /etc/jobs/jobs.schedule
ct systemctl daemon-reload
ct systemctl start jobs.target

say "systemctl list-timers"
ct systemctl list-timers --no-pager

# Do not wait for the minute: start the entry's service now, exactly what the timer would start.
svc=jobs-say-hello.service
say "systemctl start $svc      # what the timer starts: jobs-enqueue"
ct systemctl start "$svc" || true
ct systemctl cat "$svc" --no-pager | grep '^ExecStart=' || true

class_done() { [ "$(ct journalctl -q -u jobs-worker JOB_CLASS=SayHello JOB_STATUS=done -o cat | grep -c .)" -ge 1 ]; }
wait_until 60 class_done || echo "(no SayHello job finished within 60 s)"

say "journalctl -u jobs-worker JOB_CLASS=SayHello"
ct journalctl --no-pager -u jobs-worker JOB_CLASS=SayHello

say "journalctl -u jobs-worker JOB_CLASS=SayHello -o verbose -n 1   # the fields of the last line"
ct journalctl --no-pager -u jobs-worker JOB_CLASS=SayHello -o verbose -n 1 |
        grep -E '^ *(MESSAGE|JOB_[A-Z_]+|JOBS_SERVICE|_SYSTEMD_UNIT)=' || true

echo
echo "Shutting the container down and removing it."
