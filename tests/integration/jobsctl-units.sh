#!/bin/bash
# SPDX-License-Identifier: MIT
# The local side of jobsctl over sd-bus: timers in status and run-now, against a stand-in for
# systemd's manager on a private bus (the system test checks the real one in a booted container);
# and a clear note/error when there is no system bus at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start

# --- no system bus ----------------------------------------------------------------------------
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"
expect_exit 0 "$C" status
assert_contains "$OUT" "Not available: no system bus"
expect_exit 0 "$C" status --json
assert_eq "$(jq -r .timers <<<"$OUT")" null
expect_exit 69 "$C" run-now nightly
assert_contains "$ERR" "Cannot start jobs-nightly.service: no system bus"
ok "no system bus: a note in status, exit 69 from run-now"

# --- a private bus with a stand-in systemd ------------------------------------------------------
for tool in dbus-daemon busctl; do
        command -v $tool >/dev/null || fail "$tool is needed (package dbus-daemon / systemd)"
done
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || fail "python3-dbus and python3-gi are needed"
cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/dbus.log" &
bus_pid=$!
on_exit "kill $bus_pid; wait $bus_pid"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
wait_for "the private bus" 20 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" list

now_us=$(($(date +%s) * 1000000))
cat >"$T/systemd.json" <<CONF
{"timers": {"jobs-nightly.timer": [$((now_us + 3600 * 1000000)), $((now_us - 600 * 1000000))],
            "jobs-hourly-report.timer": [$((now_us + 90 * 1000000)), 0],
            "other.timer": [1, 1]},
 "services": {"jobs-nightly.service": ["$BIN/jobs-enqueue", "--redis", "$REDIS_URL", "--queue", "reports", "--entry", "nightly", "--calendar", "daily", "Reports::Nightly"],
              "jobs-broken.service": ["/bin/false"]}}
CONF
/usr/bin/python3 "$JOBS_SOURCE_DIR/tests/integration/fake-systemd.py" "$DBUS_SYSTEM_BUS_ADDRESS" "$T/systemd.json" "$T/started.log" &
fake_pid=$!
on_exit "kill $fake_pid; wait $fake_pid"
wait_for "the stand-in systemd" 30 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freedesktop.systemd1

expect_exit 0 "$C" status
assert_match "$OUT" 'NEXT +LEFT +LAST +PASSED +UNIT +ACTIVATES'
assert_match "$OUT" '[A-Z][a-z][a-z] 20[0-9-]+ [0-9:]+ [A-Z]+ +(59min [0-9]+s|1h) left +[A-Z][a-z][a-z] 20[0-9-]+ [0-9:]+ [A-Z]+ +10min( [0-9]+s)? ago +jobs-nightly.timer +jobs-nightly.service'
assert_match "$OUT" '(1min( [0-9]+s)?|[0-9]+s) left +n/a +n/a +jobs-hourly-report.timer +jobs-hourly-report.service'
[[ "$OUT" != *other.timer* ]] || fail "a timer that is not ours is listed"
expect_exit 0 "$C" status --json
assert_eq "$(jq -r '.timers | map(.unit) | join(" ")' <<<"$OUT")" "jobs-hourly-report.timer jobs-nightly.timer"
assert_eq "$(jq -r ".timers[1].next == $((now_us / 1000000 + 3600))" <<<"$OUT")" true
assert_eq "$(jq -r '.timers[0].last' <<<"$OUT")" null
ok "status lists the jobs-*.timer units with next and last run"

# run-now starts jobs-NAME.service, waits for it, and the job is in Redis
expect_exit 0 "$C" run-now nightly
assert_contains "$OUT" "Ran jobs-nightly.service"
assert_eq "$(cat "$T/started.log")" "jobs-nightly.service done 0"
assert_eq "$(redis_cli LINDEX queue:reports 0 | jq -r .class)" "Reports::Nightly"
# unit names are accepted too
expect_exit 0 "$C" run-now jobs-nightly.service --json
assert_eq "$(jq -r '.unit + " " + .result' <<<"$OUT")" "jobs-nightly.service done"
assert_eq "$(redis_cli LLEN queue:reports)" 2
expect_exit 0 "$C" run-now --no-block jobs-nightly.timer
three_runs() { [ "$(redis_cli LLEN queue:reports)" = 3 ]; }
wait_for "the third run" 30 three_runs
assert_eq "$(redis_cli GET jobs:run-now:nightly)" "0" "manual runs asked for and taken"
ok "run-now starts the entry's service; each run is enqueued, never deduplicated against the schedule"

expect_exit 66 "$C" run-now missing
assert_contains "$ERR" "No schedule entry 'missing'"
assert_eq "$(redis_cli GET jobs:run-now:missing)" "0" "a run that could not start is not left marked"
expect_exit 70 "$C" run-now broken
assert_contains "$ERR" "jobs-broken.service finished with result 'failed'"
expect_exit 64 "$C" run-now
expect_exit 64 "$C" run-now a b
expect_exit 64 "$C" run-now '../x'
ok "run-now errors"
