#!/bin/bash
# SPDX-License-Identifier: MIT
# A master that goes silent instead of dying (SIGSTOP: as a frozen VM, or a partition that drops
# packets) closes none of its connections. The sentinels promote the replica after 3 s; the worker,
# subscribed to their +switch-master, is on the new master within 2 s of the promotion, long before
# its heartbeat would give up on the old one (15 s). Then SIGCONT: the sentinels make the old master
# a replica, and every job enqueued after the promotion runs.
. "$(dirname "$0")/sentinel-lib.sh"

sentinel_note_handler
expect_exit 0 "$E" -r "$URL" Note -a '[0]'
start_worker w -r "$URL" -c 5
wait_for "the first job to run" 30 lines_at_least "$T/done" 1
enqueue_loop
wait_for "5 jobs to run before the master stops" 60 lines_at_least "$T/done" 5

lines=$(grep -c "is reachable again" "$T/w.log" || true)
on_exit 'kill -CONT "$MASTER_PID" 2>/dev/null || true; [ -e "$T/promoted" ] || tail -n 25 "$T/s1/sentinel.log" >&2'
kill -STOP "$MASTER_PID"
stopped=$(date +%s.%N)
wait_for "the sentinels to promote the replica" 60 promoted
touch "$T/promoted"
failover=$(date +%s.%N)
wait_resumed "$lines"
assert_contains "$(cat "$T/w.log")" "Sentinels switched master mymaster from 127.0.0.1:$MPORT to 127.0.0.1:$RPORT" \
        "the worker's log"
after=$(tail -n1 "$T/acked")
acked_after() { [ "$(tail -n1 "$T/acked")" -gt "$(($1 + 5))" ]; }
wait_for "5 more enqueues on the new master" 60 acked_after "$after"
ok "the worker left the stopped master $(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$failover" "$back") s after the promotion was seen"

# The old master wakes up: the sentinels make it a replica of the new one.
kill -CONT "$MASTER_PID"
demoted() { mcli "$MPORT" ROLE | head -n1 | grep -qx slave; }
wait_for "the old master to become a replica" 60 demoted
last=$(tail -n1 "$T/acked")
wait_for "5 more enqueues after the old master came back" 60 acked_after "$last"
touch "$T/stop-enqueue"
wait "$ENQ" || true
drained() { [ "$(mcli "$RPORT" LLEN queue:default)" = 0 ] && [ -z "$(mcli "$RPORT" --scan --pattern 'jobs:inflight:*' | while read -r k; do mcli "$RPORT" LRANGE "$k" 0 -1; done)" ]; }
wait_for "the new master's queue to drain" 60 drained
stop_worker "$WORKER_PID"

python3 - "$T/acked" "$T/done" "$after" "$stopped" "$failover" <<'PY'
import collections, sys
acked = [int(l) for l in open(sys.argv[1]) if l.strip()]
runs = collections.Counter(int(l) for l in open(sys.argv[2]) if l.strip())
after, stopped, failover = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
lost = [i for i in acked if runs[i] == 0]
print("ok - failover %.1f s after SIGSTOP; %d enqueues acknowledged, %d lost (acknowledged by the old master, not "
      "replicated), %d run twice" % (failover - stopped, len(acked), len(lost), len([n for n in runs.values() if n > 1])))
lost_after = [i for i in lost if i > after]
if lost_after:
    sys.exit("FAIL: jobs enqueued on the new master did not run: %s" % lost_after[:10])
PY
