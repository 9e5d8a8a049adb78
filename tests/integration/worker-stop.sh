#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGTERM with long jobs: a job that ends within the shutdown timeout is done, the others are killed
# (whole process group) and pushed back to their queue; the worker exits 0; nothing is lost.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Long <<'EOF2'
sleep 300 &
echo $! >"$JOBS_TEST_MARK/long-child-$JOB_ID"
wait
EOF2
handler Short <<'EOF2'
touch "$JOBS_TEST_MARK/short-started"
while [ ! -e "$JOBS_TEST_MARK/short-go" ]; do sleep 0.05; done
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2

start_worker w -c 3 --shutdown-timeout 2s
"$E" -Q Long; "$E" -Q Long
sjid=$("$E" Short)
wait_for "the jobs to start" 30 bash -c "[ \$(ls $T/long-child-* 2>/dev/null | wc -l) = 2 ] && [ -e $T/short-started ]"
for j in 1 2 3 4; do "$E" -Q Long; done
# Up to 3 of them are fetched ahead (held ready for a free slot); 1 or more stay in the queue.

kill -TERM "$WORKER_PID"
wait_log w "Stopping (SIGTERM): waiting up to 2s for 3 running job(s)"
touch "$T/short-go"
rc=0; wait "$WORKER_PID" || rc=$?
assert_eq "$rc" 0 "exit status"
assert_eq "$(cat "$T/done")" "$sjid" "the short job finished during the stop"
log_has w "Shutdown timeout reached: killed 2 handler(s)" || fail "no kill at the timeout"
assert_eq "$(grep -c 'did not finish within the shutdown timeout.*JOB_STATUS=requeue' "$T/w.log")" 2 "pushed back"
assert_eq "$(redis_cli LLEN queue:default)" 6 "2 pushed back + 4 never taken"
assert_eq "$(redis_cli HLEN jobs:inflight)" 0 "no in-flight lists left"
assert_eq "$(redis_cli --raw KEYS 'jobs:inflight:*')" "" "in-flight lists gone"
for f in "$T"/long-child-*; do
        wait_for "handler child $(cat "$f") to be killed" 10 bash -c "! kill -0 $(cat "$f") 2>/dev/null"
done
# Pushed back to the right end: the interrupted jobs are the next ones taken.
next=$(json "$(redis_cli --raw LINDEX queue:default -1)" 'd["jid"]')
[ -e "$T/long-child-$next" ] || fail "an interrupted job should be next in line"
ok "SIGTERM: short job done, long jobs killed and pushed back (next in line), exit 0"
