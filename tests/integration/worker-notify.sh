#!/bin/bash
# SPDX-License-Identifier: MIT
# The systemd contract seen from the notification socket: READY=1 once connected, STATUS= with live
# figures and Redis outages, STOPPING=1 + EXTEND_TIMEOUT_USEC= on SIGTERM, and WATCHDOG=1 sent only
# while the event loop turns: none while the process is stopped (SIGSTOP), again after SIGCONT.
. "$(dirname "$0")/worker-lib.sh"

redis_start store
handler Work <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2

notify_listen

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=500000 start_worker w
notified() { grep -c -- "$1" "$T/notify.log" || true; }
notified_at_least() { [ "$(notified "$1")" -ge "$2" ]; }
wait_for "READY=1" 60 grep -q '^READY=1' "$T/notify.log"
wait_for "STATUS=Working" 60 grep -q '^STATUS=Working: busy 0/5, processed 0, failed 0; queues default$' "$T/notify.log"
ok "READY=1 after connecting, STATUS= with figures"

"$E" -Q Work; "$E" -Q Work
wait_for "two jobs done" 60 lines_at_least "$T/done" 2
wait_for "STATUS with processed 2" 60 grep -q '^STATUS=Working: busy 0/5, processed 2, failed 0' "$T/notify.log"
ok "STATUS= follows the work"

# --- watchdog: pings only while the loop turns ----------------------------------------------------
wait_for "watchdog pings" 60 notified_at_least '^WATCHDOG=1$' 3
kill -STOP "$WORKER_PID"
wait_for "the worker to be stopped" 60 bash -c "grep -q '^[^)]*) T' /proc/$WORKER_PID/stat"
before=$(notified '^WATCHDOG=1$')
sleep 2 # four watchdog periods with the process frozen: this is what is being observed, not a wait
after=$(notified '^WATCHDOG=1$')
[ $((after - before)) -le 1 ] || fail "$((after - before)) watchdog pings while the loop was stopped"
kill -CONT "$WORKER_PID"
wait_for "pings to resume" 60 notified_at_least '^WATCHDOG=1$' $((after + 3))
ok "WATCHDOG=1 stops while the loop is frozen ($((after - before)) in 2s) and resumes after SIGCONT"

# --- Redis outage shows in STATUS= ----------------------------------------------------------------
redis_cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
wait_for "STATUS with the outage" 60 grep -q '^STATUS=Working: .*Redis unreachable (Redis: .*retrying in' "$T/notify.log"
n=$(wc -l <"$T/notify.log")
redis_start store
wait_for "STATUS back to normal" 60 bash -c "tail -n +$n '$T/notify.log' | grep -q '^STATUS=Working: busy 0/5, processed 2, failed 0; queues default\$'"
ok "STATUS= reports the Redis outage and the recovery"

kill -TSTP "$WORKER_PID"
wait_for "STATUS=Quiet" 60 grep -q '^STATUS=Quiet (not taking jobs): busy 0/5' "$T/notify.log"
jid=$("$E" Work)
wait_log w "Quiet (SIGTSTP)"
assert_eq "$(redis_cli LLEN queue:default)" 1 "a quiet worker takes no job"
ok "SIGTSTP quiets: STATUS= says so, jobs stay queued"

kill -TERM "$WORKER_PID"
rc=0; wait "$WORKER_PID" || rc=$?
assert_eq "$rc" 0 "exit status"
wait_for "STOPPING=1 with EXTEND_TIMEOUT_USEC" 60 grep -q '^STOPPING=1 | EXTEND_TIMEOUT_USEC=[0-9]*$' "$T/notify.log"
ok "SIGTERM: STOPPING=1 and EXTEND_TIMEOUT_USEC=, exit 0"
