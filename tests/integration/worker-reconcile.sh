#!/bin/bash
# SPDX-License-Identifier: MIT
# A fetch whose reply is lost with the connection leaves jobs in a live worker's in-flight list that
# the worker never saw. Its heartbeat keeps the list its own, so only the worker itself can give them
# back: after every reconnect it puts back what it does not hold, and keeps what it runs.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Work <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
handler Slow <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/started"
while [ ! -f "$JOBS_TEST_MARK/release" ]; do sleep 0.05; done
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
start_worker w
id=$(redis_cli --raw SMEMBERS processes)
[ -n "$id" ] || fail "no process registered"
key="jobs:inflight:$id:default"

# One job runs (held), one sits in the list as a lost fetch reply leaves it.
redis_cli LPUSH queue:default '{"class":"Slow","args":[],"jid":"held-1"}' >/dev/null
wait_for "the held job to start" 30 lines_at_least "$T/started" 1
redis_cli LPUSH "$key" '{"class":"Work","args":[],"jid":"stray-1"}' >/dev/null
assert_eq "$(redis_cli LLEN "$key")" 2 "in-flight list before"

# Redis drops every client, as a restart does.
redis_cli CLIENT KILL TYPE normal >/dev/null
wait_for "the stray job to run" 30 grep -qx stray-1 "$T/done"
assert_eq "$(redis_cli LRANGE "$key" 0 -1 | grep -c held-1)" 1 "the running job stays in the list"
log_has w "Put 1 job(s) back in their queue" || fail "no log line for the job put back"
touch "$T/release"
wait_for "the held job to finish" 30 grep -qx held-1 "$T/done"
wait_for "the in-flight list to empty" 30 key_is 0 LLEN "$key"
assert_eq "$(sort "$T/done" | uniq -d)" "" "jobs run twice"
ok "after a reconnect the stray job is put back and runs once; the running one stays held"

stop_worker "$WORKER_PID"
