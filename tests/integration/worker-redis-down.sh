#!/bin/bash
# SPDX-License-Identifier: MIT
# Without Redis the worker neither blocks its host nor stays silent: it starts (READY=1, STATUS= says
# it waits for Redis), logs one warning per outage and one line when Redis is back, and an idle
# worker stops at once while Redis is down (not after its shutdown timeout).
. "$(dirname "$0")/worker-lib.sh"

handler Work <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
cat >"$T/worker.conf" <<EOF2
[Worker]
PassEnvironment=JOBS_TEST_MARK
ShutdownTimeoutSec=10min
EOF2
notify_listen

# Redis is not there yet: the socket path is where it will be.
mkdir -p "$T/store"
export REDIS_URL="unix://$T/store/redis.sock"
NOTIFY_SOCKET="$T/notify.sock" JOBS_LOG_FIELDS=1 "$W" --handler-dir "$H" -C "$T/worker.conf" >"$T/w.log" 2>&1 &
WORKER_PID=$!
WORKER_PIDS+=("$WORKER_PID")
wait_for "READY=1 without Redis" 30 grep -q '^READY=1' "$T/notify.log"
wait_for "STATUS= saying it waits" 30 grep -q '^STATUS=Waiting for Redis: .*Redis unreachable' "$T/notify.log"
wait_log w "Redis at .* is unreachable" 30
ok "starts without Redis: READY=1, STATUS= waits for Redis, a warning in the log"

warnings() { grep -c "is unreachable" "$T/w.log" || true; }

redis_start store
wait_log w "is reachable again" 30
wait_log w "Connected to Redis" 30
# Many reconnect attempts (every 100 ms, doubling up to 5 s) lay between: one warning.
assert_eq "$(warnings)" 1 "warnings during one outage"
"$E" -Q Work
wait_for "a job done" 30 lines_at_least "$T/done" 1
assert_eq "$(grep -c "is reachable again" "$T/w.log")" 1 "lines for Redis back"
ok "one line when Redis is back; jobs run"

redis_stop
wait_for "the second outage's warning" 30 bash -c "[ \$(grep -c 'is unreachable' '$T/w.log') -ge 2 ]"
assert_eq "$(warnings)" 2 "warnings for two outages"
ok "one warning per outage"

# Idle, Redis down, a 10-minute shutdown timeout: SIGTERM ends it now.
kill -TERM "$WORKER_PID"
exited() { ! kill -0 "$WORKER_PID" 2>/dev/null; }
wait_for "the idle worker to exit with Redis down" 20 exited
rc=0; wait "$WORKER_PID" || rc=$?
assert_eq "$rc" 0 "exit status"
ok "an idle worker stops at once while Redis is down"

# A database this Redis does not have: a configuration error no retry fixes. The worker says so
# and exits 78, which its unit does not restart.
redis_start
"$W" --handler-dir "$H" -C "$WORKER_TEST_CONF" --redis "unix://$REDIS_SOCK?db=999" >"$T/db.log" 2>&1 &
pid=$!
exited() { ! kill -0 "$pid" 2>/dev/null; }
wait_for "the worker to exit on a missing database" 60 exited
rc=0; wait "$pid" || rc=$?
assert_eq "$rc" 78 "exit status"
assert_contains "$(cat "$T/db.log")" "DB index is out of range. The URL names a database this Redis does not have"
grep -q '^RestartPreventExitStatus=.*\b78\b' "$JOBS_SOURCE_DIR/units/jobs-worker.service" || fail "jobs-worker.service restarts on 78"
ok "a database Redis does not have: exit 78 with the reason, not restarted"
