#!/bin/bash
# SPDX-License-Identifier: MIT
# An idle worker waits on every one of its queues at once: with five queues and each wait lasting an
# hour (IdleWaitSec=1h), a job pushed into the fifth queue, then one into the third, runs without any
# wait having to end first. A wait that times out is renewed by itself: the fetch script does not
# run again while nothing comes. Jobs are still taken in the configured order when several wait.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Note <<'EOF2'
read -r payload
echo "$JOB_QUEUE" >>"$JOBS_TEST_MARK/done"
EOF2
printf '[Worker]\n%s\nIdleWaitSec=1h\nQueue=q1 q2 q3 q4 q5\n' "$WORKER_TEST_SETTINGS" >"$T/hour.conf"

# Clients blocked in BLMOVE: the waits of the worker.
waiting_on() { redis_cli CLIENT LIST | grep 'flags=b' | grep -c "cmd=blmove" || true; }
waits_are() { [ "$(waiting_on)" = "$1" ]; }
runs_at_least() { [ -f "$T/done" ] && [ "$(wc -l <"$T/done")" -ge "$1" ]; }

start_worker w -C "$T/hour.conf" -c 1
wait_for "a wait on each of the 5 queues" 30 waits_are 5
ok "idle: 5 connections wait, one per queue"

"$E" -q q5 Note -Q
wait_for "the job of the fifth queue to run" 30 runs_at_least 1
assert_eq "$(cat "$T/done")" q5 "queue of the first job"
wait_for "the 5 waits again" 30 waits_are 5
"$E" -q q3 Note -Q
wait_for "the job of the third queue to run" 30 runs_at_least 2
assert_eq "$(tail -n1 "$T/done")" q3 "queue of the second job"
ok "jobs pushed into the fifth, then the third queue ran while every wait lasts an hour"
stop_worker "$WORKER_PID"

# --- several waiting at once: the configured order holds ----------------------------------------
: >"$T/done"
redis_cli DEL queue:q1 queue:q5 >/dev/null
for q in q5 q5 q1; do "$E" -q "$q" Note -Q; done
start_worker w2 -C "$T/hour.conf" -c 1
wait_for "the three jobs to run" 30 runs_at_least 3
[ "$(wc -l <"$T/done")" = 3 ] || fail "expected 3 runs, got: $(cat "$T/done")"
assert_eq "$(head -n1 "$T/done")" q1 "first of the jobs waiting in q5, q5, q1 (strict order)"
ok "jobs waiting in q5, q5 and q1 when the worker starts: q1 first (strict order)"
stop_worker "$WORKER_PID"

# --- a wait that times out is renewed without a fetch -------------------------------------------
printf '[Worker]\n%s\nIdleWaitSec=1s\nQueue=q1 q2\n' "$WORKER_TEST_SETTINGS" >"$T/second.conf"
redis-cli -s "$REDIS_SOCK" MONITOR >"$T/monitor" &
MONITOR_PID=$!
on_exit 'kill "$MONITOR_PID" 2>/dev/null || true'
monitor_sees() { redis_cli ECHO monitor-up >/dev/null; grep -q monitor-up "$T/monitor"; }
wait_for "MONITOR to see commands" 20 monitor_sees
start_worker w3 -C "$T/second.conf" -c 1
# The fetch script reads the end of each queue ("LINDEX" inside Lua); the waits are "BLMOVE".
fetches() { grep -c 'lua\] "LINDEX" "queue:q1"' "$T/monitor" || true; }
waits() { grep -c '"BLMOVE" "queue:q' "$T/monitor" || true; }
waits_at_least() { [ "$(waits)" -ge "$1" ]; }
wait_for "both waits" 30 waits_at_least 2
f0=$(fetches) b0=$(waits)
wait_for "each wait to be renewed three times" 60 waits_at_least $((b0 + 6))
assert_eq "$(fetches)" "$f0" "fetches while the waits renewed ($b0 -> $(waits) waits)"
ok "waits that time out are renewed ($(waits) waits) without another fetch ($f0 fetch(es) in all)"
"$E" -q q2 Note -Q
wait_for "a job after renewals" 30 runs_at_least 4
stop_worker "$WORKER_PID"
