#!/bin/bash
# SPDX-License-Identifier: MIT
# The failure path end to end: Sidekiq's retry fields and backoff, the poller, dead after the last
# retry, retry:false dropped, invalid payloads to dead, unknown classes, timeouts killing the group.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Boom <<'EOF2'
echo "about to fail"
echo "first stderr line" >&2
echo "the reason" >&2
exit 3
EOF2
handler Hang <<'EOF2'
sleep 300 &
echo $! >"$JOBS_TEST_MARK/hang-child"
wait
EOF2
handler Echo <<'EOF2'
cat >"$JOBS_TEST_MARK/echo-stdin"
EOF2
cat >"$T/worker.conf" <<EOF2
# test settings
[Worker]
$WORKER_TEST_SETTINGS
Concurrency=3
Timeout=Hang 1s
Handler=Broken $T/not-executable
EOF2
echo 'echo never' >"$T/not-executable"
chmod 644 "$T/not-executable"
start_worker w -C "$T/worker.conf"

member() { redis_cli --raw ZRANGE "$1" 0 0; }
score() { redis_cli --raw ZSCORE "$1" "$2"; }
# first_entry SET: its first member and score at once into $m and $s (on a loaded machine the entry
# may be retried, and so replaced, between two separate reads)
first_entry() { { read -r m; read -r s; } < <(redis_cli --raw ZRANGE "$1" 0 0 WITHSCORES); }
# park: $m far in the future while the test looks at it, so that its own retry (15 s on) cannot
# come first on a slow machine; make_due then sets it due
park() { assert_eq "$(redis_cli ZADD retry XX CH 99999999999 "$m")" 1 "retry entry parked"; }
between() { python3 -c "import sys; a,lo,hi=map(float,sys.argv[1:]); sys.exit(0 if lo-1e-3 <= a <= hi+1e-3 else 1)" "$@"; }
retry_count_is() { [ "$(json "$(member retry)" 'd.get("retry_count")')" = "$1" ]; }
make_due() { redis_cli ZADD retry XX 0 "$(member retry)" >/dev/null; }

# --- first failure --------------------------------------------------------------------------------
jid=$("$E" Boom --retry 2)
wait_for "the job in retry" 30 key_is 1 ZCARD retry
first_entry retry
park
assert_eq "$(json "$m" 'd["jid"]')" "$jid"
assert_eq "$(json "$m" 'd["retry_count"]')" 0 "retry_count"
assert_eq "$(json "$m" 'd["error_class"]')" HandlerExitError "error_class"
assert_eq "$(json "$m" 'd["error_message"]')" "handler exited with status 3: the reason" "error_message"
assert_eq "$(json "$m" 'type(d["failed_at"]).__name__')" float "failed_at is a float"
assert_eq "$(json "$m" '"retried_at" in d')" False "no retried_at yet"
assert_eq "$(json "$m" 'd["queue"]')" default
failed_at=$(json "$m" 'd["failed_at"]')
between "$s" "$(echo "$failed_at + 15" | bc)" "$(echo "$failed_at + 24" | bc)" || fail "retry score $s not in failed_at+[15,24] ($failed_at)"
wait_log w "JOB_STATUS=retry"
log_has w "Boom job $jid failed: HandlerExitError: handler exited with status 3: the reason" || fail "fail log"
ok "first failure: retry_count 0, error fields, failed_at, score = failed_at + 0^4 + 15 + rand(10)*1"

# --- second failure, through the poller -----------------------------------------------------------
make_due
wait_for "second failure" 60 retry_count_is 1
first_entry retry
park
retried_at=$(json "$m" 'd["retried_at"]')
assert_eq "$(json "$m" 'd["failed_at"]')" "$failed_at" "failed_at kept"
between "$s" "$(echo "$retried_at + 16" | bc)" "$(echo "$retried_at + 34" | bc)" || fail "retry score $s not in retried_at+[16,34]"
[ "$(json "$m" 'd["enqueued_at"] > d["created_at"]')" = True ] || fail "poller did not refresh enqueued_at"
ok "second failure: retry_count 1, retried_at, score = retried_at + 1 + 15 + rand(10)*2, fresh enqueued_at"

# --- exhausted: dead --------------------------------------------------------------------------------
before=$(date +%s)
make_due
wait_for "the job in dead" 60 key_is 1 ZCARD dead
after=$(date +%s)
assert_eq "$(redis_cli ZCARD retry)" 0 "retry empty"
d=$(redis_cli --raw ZRANGE dead 0 0)
assert_eq "$(json "$d" 'd["jid"]')" "$jid"
assert_eq "$(json "$d" 'd["retry_count"]')" 2 "retry_count at death"
between "$(score dead "$d")" "$((before - 1))" "$((after + 1))" || fail "dead score $(score dead "$d") not in [$before, $after], when the job died"
wait_log w "Boom job $jid has no retries left.*JOB_STATUS=dead"
ok "retries exhausted: dead with retry_count 2"

# --- retry: false -----------------------------------------------------------------------------------
jid=$("$E" Boom --retry false)
wait_log w "Boom job $jid is not retried (retry: false) and was dropped"
assert_eq "$(redis_cli ZCARD retry)" 0 "retry:false not in retry"
assert_eq "$(redis_cli ZCARD dead)" 1 "retry:false not in dead"
ok "retry: false is dropped"

# --- invalid payloads --------------------------------------------------------------------------------
redis_cli LPUSH queue:default 'not json {' >/dev/null
wait_for "invalid JSON in dead" 30 key_is 2 ZCARD dead
raw=$(redis_cli --raw ZRANGE dead 0 -1 | grep -F '"payload":"not json {"')
assert_eq "$(json "$raw" 'd["class"]')" JobsInvalidPayload "raw invalid payload kept in a dead entry"
assert_match "$(json "$raw" 'd["error_message"]')" 'not valid JSON' "the entry says why"
redis_cli LPUSH queue:default '{"class":"Boom","args":[]}' >/dev/null
wait_for "job without jid in dead" 30 key_is 3 ZCARD dead
nj=$(redis_cli --raw ZRANGE dead 0 -1 | grep -F '"class":"Boom","args":[],"error_class"')
assert_eq "$(json "$nj" 'd["error_class"]')" JobsInvalidPayload
assert_match "$(json "$nj" 'd["error_message"]')" 'jid' "reason names the field"
log_has w "Invalid job payload from queue default moved to the dead set: payload is not valid JSON" || fail "invalid log"
kill -0 "$WORKER_PID" || fail "worker died on bad input"
ok "invalid JSON and invalid jobs go to dead with the reason; the worker lives"

# --- unknown class ---------------------------------------------------------------------------------
jid=$("$E" NoSuchHandler --retry 1)
wait_for "unknown class in retry" 30 key_is 1 ZCARD retry
m=$(member retry)
assert_eq "$(json "$m" 'd["error_class"]')" NameError
assert_match "$(json "$m" 'd["error_message"]')" "no handler for class NoSuchHandler" "message"
redis_cli DEL retry >/dev/null
ok "unknown class fails like any failure (retry) with a clear error"

# --- a handler that cannot be executed -----------------------------------------------------------------
jid=$("$E" Broken --retry 1)
wait_for "unexecutable handler in retry" 30 key_is 1 ZCARD retry
m=$(member retry)
assert_eq "$(json "$m" 'd["error_class"]')" HandlerSpawnError
assert_eq "$(json "$m" 'd["error_message"]')" "cannot start $T/not-executable: Permission denied" "message"
redis_cli DEL retry >/dev/null
ok "a handler that cannot be executed fails with HandlerSpawnError naming the file and why"

# --- timeout kills the handler's process group ---------------------------------------------------------
jid=$("$E" Hang --retry 1)
wait_for "hang child pid" 30 test -s "$T/hang-child"
child=$(cat "$T/hang-child")
wait_for "timeout failure" 30 key_is 1 ZCARD retry
m=$(member retry)
assert_eq "$(json "$m" 'd["error_class"]')" HandlerTimeout
assert_match "$(json "$m" 'd["error_message"]')" "timeout of 1s" "timeout message"
wait_for "the handler's background child to be gone" 10 bash -c "! kill -0 $child 2>/dev/null"
redis_cli DEL retry >/dev/null
ok "timeout: HandlerTimeout, whole process group killed"

# --- schedule: the poller enqueues due jobs with enqueued_at --------------------------------------------
jid=0123456789abcdef01234567
raw='{"class":"Echo","args":[1.10,"x"],"retry":true,"queue":"default","jid":"'$jid'","created_at":1700000000.5,"x_unknown":{"a":1}}'
redis_cli ZADD schedule "$(($(date +%s) + 1))" "$raw" >/dev/null
wait_for "the scheduled job to run" 30 test -s "$T/echo-stdin"
p=$(cat "$T/echo-stdin")
assert_eq "$(json "$p" 'd["jid"]')" "$jid"
assert_eq "$(json "$p" 'type(d["enqueued_at"]).__name__')" float "enqueued_at added"
assert_eq "${p%,\"enqueued_at\":*}" "${raw%\}}" "payload kept byte for byte"
ok "scheduled job moved by the poller with a fresh enqueued_at, payload otherwise untouched"

wait_for "failure stats" 10 key_is 9 GET stat:failed
stop_worker "$WORKER_PID"
ok "worker stopped cleanly"
