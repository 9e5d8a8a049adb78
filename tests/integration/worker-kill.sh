#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 of a worker (and of its handlers, as systemd would) while jobs run: another worker
# recovers the in-flight list and every job completes. Count in, count done: none lost.
. "$(dirname "$0")/worker-lib.sh"

N=40
redis_start
# While $JOBS_TEST_MARK/hold exists a job waits (at most 60 s): a worker then holds jobs for as long
# as the test needs, however fast the machine.
handler Work <<'EOF2'
i=0
while [ -e "$JOBS_TEST_MARK/hold" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep "0.$((RANDOM % 3 + 1))"
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2

for i in $(seq $N); do "$E" -Q Work -a "[$i]"; done
redis_cli --raw LRANGE queue:default 0 -1 | python3 -c 'import json,sys; [print(json.loads(l)["jid"]) for l in sys.stdin]' | sort >"$T/in"
assert_eq "$(wc -l <"$T/in")" "$N" "jobs in"

start_worker w1 -c 4
wait_for "some jobs done" 60 lines_at_least "$T/done" 5
id1=$(redis_cli --raw SMEMBERS processes)
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null || true
pkill_handlers
held=0
for k in $(redis_cli --raw HKEYS jobs:inflight); do held=$((held + $(redis_cli LLEN "$k"))); done
[ "$held" -gt 0 ] || fail "expected jobs in the killed worker's in-flight list"
echo "# killed with $(count_lines "$T/done") done, $held in flight, $(redis_cli LLEN queue:default) queued"

start_worker w2 -c 4
wait_for "every job done" 90 lines_at_least "$T/done" "$N"
sort -u "$T/done" >"$T/done.sorted"
diff "$T/in" "$T/done.sorted" || fail "jobs lost or foreign jobs done"
assert_eq "$(redis_cli SISMEMBER processes "$id1")" 0 "the dead worker left the processes set"
wait_log w2 "Worker $id1 (pid [0-9]* on this host) is gone; taking its in-flight jobs back now"
wait_log w2 "Recovered $held in-flight jobs of a worker of this host that is gone"
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue empty"
assert_eq "$(redis_cli HEXISTS jobs:inflight "jobs:inflight:$id1:default")" 0 "dead worker's list forgotten"
# Jobs whose handler wrote its line just before the kill run again (at least once): let them end.
for k in $(redis_cli --raw HKEYS jobs:inflight); do wait_for "$k to empty" 30 key_is 0 LLEN "$k"; done
ok "kill -9 while $held jobs ran: the restarted worker took them back at once, all $N jobs done ($(wc -l <"$T/done") runs)"
W2=$WORKER_PID

# A worker on another host dies: a live worker recovers its list once its alive key expires.
start_worker w3 -c 4
id3=$(redis_cli --raw SMEMBERS processes | grep ":$WORKER_PID:")
# w2 is paused while the jobs arrive, so w3 takes some however the two would share them; they
# wait until w3 is killed.
kill -STOP "$W2"
touch "$T/hold"
for i in $(seq 41 70); do "$E" Work -a "[$i]" >>"$T/in"; done
sort -o "$T/in" "$T/in"
w3_holds() { [ "$(redis_cli LLEN "jobs:inflight:$id3:default")" -gt 0 ]; }
wait_for "w3 to hold jobs" 30 w3_holds
groups=$(pgrep -P "$WORKER_PID" || true)
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null || true
for g in $groups; do kill -9 -- "-$g" 2>/dev/null || true; done
# Pretend it ran elsewhere (another boot id), with its last beat 3 s from expiring.
redis_cli SET "jobs:alive:$id3" "another-host pid:[1] 1" PX 3000 >/dev/null
rm "$T/hold"
kill -CONT "$W2"
wait_for "all 70 jobs done" 90 lines_at_least "$T/done" 70
sort -u "$T/done" >"$T/done.sorted"
diff "$T/in" "$T/done.sorted" || fail "jobs lost or foreign jobs done"
wait_log w2 "Recovered [0-9]* in-flight jobs of workers that stopped beating"
assert_eq "$(redis_cli HEXISTS jobs:inflight "jobs:inflight:$id3:default")" 0 "remote dead worker's list forgotten"
assert_eq "$(redis_cli SISMEMBER processes "$id3")" 0 "the remote dead worker left the processes set"
stop_worker "$W2"
ok "a live worker recovered the in-flight list of a dead worker of another host; all 70 jobs done"
