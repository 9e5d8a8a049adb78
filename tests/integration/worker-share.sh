#!/bin/bash
# SPDX-License-Identifier: MIT
# Long jobs are shared between workers: a worker busy with long jobs does not hold more of them
# than it runs (no prefetch while jobs are slow), so a second worker takes the rest at once. Then
# a stream of short jobs, where workers hold jobs ready and record the ends of jobs together with
# their next fetch: every job runs once and every in-flight list empties.
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
ok "all four long jobs done"

handler Quick <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/quick"
EOF2
inflight_total() {
        local n=0 k
        for k in $(redis_cli --raw HKEYS jobs:inflight); do n=$((n + $(redis_cli LLEN "$k"))); done
        [ "$n" = 0 ]
}
# all 300 in the queue at once (one LPUSH), so the workers hold jobs ready and batch their acks
mapfile -t payloads < <(python3 -c '
import json
for i in range(300):
    print(json.dumps({"class": "Quick", "args": [i], "retry": True, "queue": "default", "jid": "%024x" % i,
                      "created_at": 1764240000.5, "enqueued_at": 1764240000.5}, separators=(",", ":")))')
redis_cli LPUSH queue:default "${payloads[@]}" >/dev/null
wait_for "300 short jobs done" 120 key_is 304 GET stat:processed
wait_for "every in-flight list empty" 30 inflight_total
assert_eq "$(sort "$T/quick" | uniq | wc -l)" 300 "distinct jobs run"
assert_eq "$(wc -l <"$T/quick")" 300 "runs"
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue empty"
stop_worker "$WORKER_PID"
stop_worker "$a_pid"
ok "300 short jobs over two workers: each ran once, all recorded, both workers stopped cleanly"
