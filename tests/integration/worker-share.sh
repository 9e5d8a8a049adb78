#!/bin/bash
# SPDX-License-Identifier: MIT
# Long jobs are shared between workers: a worker busy with long jobs does not hold more of them
# than it runs (no prefetch while jobs are slow), so a second worker takes the rest at once.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Long <<'EOF2'
touch "$JOBS_TEST_MARK/started-$JOB_ID"
while [ ! -e "$JOBS_TEST_MARK/go" ]; do sleep 0.05; done
EOF2
started() { [ "$(find "$T" -maxdepth 1 -name 'started-*' | wc -l)" -ge "$1" ]; }

for _ in 1 2 3 4; do "$E" Long >/dev/null; done
start_worker a -c 2
wait_for "worker a to run two jobs" 30 started 2
a_pid=$WORKER_PID
start_worker b -c 2
wait_for "worker b to run the other two" 30 started 4
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue empty"
ok "a worker running long jobs holds only those it runs; the next worker takes the rest"

touch "$T/go"
wait_for "all four done" 30 key_is 4 GET stat:processed
stop_worker "$WORKER_PID"
stop_worker "$a_pid"
ok "all four done, both workers stopped cleanly"
