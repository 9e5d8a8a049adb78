#!/bin/bash
# SPDX-License-Identifier: MIT
# The poller's cadence scales with the number of processes, as Sidekiq's does: with 50 processes in
# `processes` each polls every 50 intervals on average (so a window of several heartbeats sees almost
# no poll where one process would see one per interval); once the others are gone, it polls about
# every interval again. The worker beats and polls every 250 ms ($WORKER_TEST_CONF) instead of 5 s:
# the same ratio, so the same odds. Polls are counted in Redis's MONITOR output (the ZRANGE on retry
# run by the poll script).
. "$(dirname "$0")/worker-lib.sh"

redis_start
for i in $(seq -w 1 49); do
        redis_cli SADD processes "fake-$i" >/dev/null
done
redis-cli -s "$REDIS_SOCK" MONITOR >"$T/monitor" &
MONITOR_PID=$!
on_exit 'kill "$MONITOR_PID" 2>/dev/null || true'
monitor_sees() { redis_cli ECHO monitor-up >/dev/null; grep -q monitor-up "$T/monitor"; }
wait_for "MONITOR to see commands" 20 monitor_sees

beats() { grep -c '"SADD" "processes" "[^f]' "$T/monitor" || true; }
polls() { grep -c 'lua\] "ZRANGE" "retry"' "$T/monitor" || true; }
beats_at_least() { [ "$(beats)" -ge "$1" ]; }
polls_at_least() { [ "$(polls)" -ge "$1" ]; }

start_worker w
assert_eq "$(redis_cli SCARD processes)" 50 "processes with the worker"

# --- 50 processes: eight heartbeats (7 intervals) see at most a few polls ------------------------
# One process would poll 6-14 times in that window (every 0.5-1.5 intervals), the former poll-on-
# every-heartbeat 7 times; 50 processes wait uniformly in [0, 50 intervals): 4 polls or more in 7
# intervals has a probability below 1e-4.
wait_for "eight heartbeats" 90 beats_at_least 8
n=$(polls)
[ "$n" -le 3 ] || fail "$n polls in eight heartbeats with 50 processes (expected about 0.14)"
ok "50 processes: $n poll(s) in eight heartbeats"

# --- the others leave: polling comes back to about every interval --------------------------------
for i in $(seq -w 1 49); do
        redis_cli SREM processes "fake-$i" >/dev/null
done
redis_cli ZADD retry 0 '{"class":"Nobody","args":[],"queue":"elsewhere","jid":"0123456789abcdef01234567","retry":true}' >/dev/null
wait_for "the due retry to be polled into its queue" 60 key_is 1 LLEN queue:elsewhere
base=$(polls)
wait_for "two more polls" 60 polls_at_least $((base + 2))
ok "1 process: the due job was moved and polling continues ($(polls) polls in all)"

stop_worker "$WORKER_PID"
