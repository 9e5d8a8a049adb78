#!/bin/bash
# SPDX-License-Identifier: MIT
# Redis goes away mid-run and comes back: the worker keeps its running job, says so, reconnects
# with backoff, records the job's end, and carries on with new jobs. Nothing lost.
. "$(dirname "$0")/worker-lib.sh"

redis_start store
handler Work <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
handler Slow <<'EOF2'
touch "$JOBS_TEST_MARK/slow-started"
while [ ! -e "$JOBS_TEST_MARK/slow-go" ]; do sleep 0.05; done
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2

start_worker w -c 2
for i in 1 2 3; do "$E" -Q Work; done
wait_for "first jobs" 30 lines_at_least "$T/done" 3
slow=$("$E" Slow)
wait_for "slow job started" 30 test -e "$T/slow-started"
inflight=$(redis_cli --raw HKEYS jobs:inflight)
assert_eq "$(redis_cli LLEN "$inflight")" 1 "slow job held in flight"

# Stop Redis, keeping its data (a restart, not a wipe).
redis_cli SHUTDOWN SAVE >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
wait_log w "Redis at .* is unreachable"
touch "$T/slow-go"
wait_for "slow job to finish while Redis is down" 30 lines_at_least "$T/done" 4
kill -0 "$WORKER_PID" || fail "worker died without Redis"
wait_log w "Finished Slow job $slow"

redis_start store
wait_log w "is reachable again" 60
wait_for "slow job's end recorded" 30 key_is 0 LLEN "$inflight"
for i in 1 2 3; do "$E" -Q Work; done
wait_for "jobs after the restart" 30 lines_at_least "$T/done" 7
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue empty"
wait_for "stats include the jobs across the restart" 20 key_is 7 GET stat:processed
stop_worker "$WORKER_PID"
ok "Redis restarted mid-run: running job kept and recorded, worker reconnected and continued"
