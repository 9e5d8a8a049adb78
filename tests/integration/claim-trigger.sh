#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-enqueue started by a timer ($INVOCATION_ID set) computes the occurrence from when systemd says
# the timer fired (the timer's LastTriggerUSec), not from the moment it runs: a start delayed past
# the next occurrence, or a Restart= retry, still stands for the occurrence that fired it. Against a
# stand-in for systemd's manager on a private bus.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

E="$BIN/jobs-enqueue"
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$@"; }
occurrence_of() { redis_cli --raw HGET jobs:entry:"$1" last; }   # microseconds

redis_start
private_system_bus

# The timer of entry "tick" (every 2 s) fired 7.3 s ago; entry "never" has a timer that never fired.
now=$(date +%s)
fired_us=$(( (now - 7) * 1000000 - 300000 ))
cat >"$T/systemd.json" <<CONF
{"timers": {"jobs-tick.timer": [0, $fired_us], "jobs-never.timer": [0, 0]}, "services": {}}
CONF
fake_systemd_start "$T/systemd.json"

# Its occurrence: the latest elapse of *:*:0/2 at or before the firing (even seconds).
want=$(( (fired_us / 1000000) / 2 * 2 ))
expect_exit 0 env INVOCATION_ID=0123456789abcdef0123456789abcdef "$E" --entry tick --calendar '*:*:0/2' Tick
jid=$OUT
assert_match "$jid" '^[0-9a-f]{24}$' "enqueued"
got=$(occurrence_of tick)
assert_eq "$(python3 -c "print(int($got) // 1000000)")" "$want" "occurrence from the timer's last firing"

# A retry of the same service (same firing) finds it claimed: nothing more is pushed.
expect_exit 0 env INVOCATION_ID=0123456789abcdef0123456789abcdef "$E" --entry tick --calendar '*:*:0/2' Tick
assert_contains "$ERR" "already enqueued by host"
assert_eq "$(redis_cli LLEN queue:default)" 1 "one job for one firing"
ok "started by a timer: the occurrence of its last firing, however late the run; a retry pushes nothing more"

# Run by hand (no INVOCATION_ID): from now, a later occurrence, so a new job.
expect_exit 0 "$E" --entry tick --calendar '*:*:0/2' Tick
got=$(occurrence_of tick)
[ "$(python3 -c "print(int($got) // 1000000)")" -ge $((want + 6)) ] || fail "occurrence $got is not from now"
assert_eq "$(redis_cli LLEN queue:default)" 2
ok "without INVOCATION_ID the occurrence is computed from now"

# A timer that never fired, or no systemd at all: from now.
expect_exit 0 env INVOCATION_ID=0123456789abcdef0123456789abcdef "$E" --entry never --calendar '*:*:0/2' Tick
[ -n "$(occurrence_of never)" ] || fail "no occurrence recorded for entry never"
[[ "$ERR" != *"Cannot ask systemd"* ]] || fail "a timer that never fired is not a failure: $ERR"
expect_exit 0 env INVOCATION_ID=0123456789abcdef0123456789abcdef DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus" \
        "$E" --entry other --calendar '*:*:0/2' Tick
[ -n "$(occurrence_of other)" ] || fail "no occurrence recorded without a bus"
assert_contains "$ERR" "Cannot ask systemd when jobs-other.timer fired" "a warning says the firing time is unknown"
ok "a timer that never fired, or no bus: the occurrence is computed from now"
