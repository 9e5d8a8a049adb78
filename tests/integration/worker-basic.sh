#!/bin/bash
# SPDX-License-Identifier: MIT
# A job pushed by jobs-enqueue runs its executable handler: stdin, environment, output lines logged
# with the job's fields, stats, heartbeat keys, quiet and stop through the signal list.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler SayHello <<'EOF2'
echo "hello from $JOB_CLASS $JOB_ID queue=$JOB_QUEUE retries=$JOB_RETRY_COUNT"
read -r payload
echo "stdin=$payload"
echo "to stderr" >&2
[ -z "${NOTIFY_SOCKET:-}" ] || echo "NOTIFY_SOCKET leaked" >&2
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2

start_worker w1 -c 2
jid=$("$E" SayHello -a '["world",42]')
wait_for "the job to run" 30 lines_at_least "$T/done" 1
wait_log w1 "Finished SayHello job $jid"
log_has w1 "hello from SayHello $jid queue=default retries=0 JOB_JID=$jid JOB_ID=$jid JOB_CLASS=SayHello JOB_QUEUE=default" ||
        fail "stdout line with fields missing: $(cat "$T/w1.log")"
log_has w1 "stdin={\"class\":\"SayHello\",\"args\":\[\"world\",42\]" || fail "job JSON not on stdin"
log_has w1 "to stderr JOB_JID=$jid JOB_ID=$jid .*JOB_HANDLER_STREAM=stderr" || fail "stderr line with fields missing"
log_has w1 "JOB_STATUS=start" || fail "no start event"
log_has w1 "Finished SayHello job $jid in .*JOB_STATUS=done MESSAGE_ID=8d2e5b7a1c4f4e3b8a6d9c0e2f1b3a52 .*JOB_DURATION_USEC=[0-9][0-9]*" ||
        fail "done event without fields"
! log_has w1 "NOTIFY_SOCKET leaked" || fail "handler inherited NOTIFY_SOCKET"
ok "exec handler ran with stdin, environment, and its output logged with the job's fields"

# A payload bigger than a pipe always holds (it goes through a memfd), and a last output line
# without its newline (logged when the handler exits).
handler Big <<'EOF2'
cat >"$JOBS_TEST_MARK/big-stdin"
printf 'no newline at the end'
EOF2
bjid=$("$E" Big -a "[\"$(head -c 100000 /dev/zero | tr '\0' x)\"]")
wait_log w1 "Finished Big job $bjid"
assert_eq "$(json "$(cat "$T/big-stdin")" 'len(d["args"][0])')" 100000 "100 kB payload whole on stdin"
log_has w1 "no newline at the end JOB_JID=$bjid" || fail "last line without a newline not logged"
ok "a 100 kB payload reaches stdin whole; a last line without newline is logged"

wait_for "stat:processed" 10 key_is 2 GET stat:processed
assert_eq "$(redis_cli GET "stat:processed:$(date -u +%F)")" 2 "daily processed"
ttl=$(redis_cli TTL "stat:processed:$(date -u +%F)")
[ "$ttl" -gt $((5 * 365 * 86400 - 100)) ] || fail "daily stat TTL $ttl"
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue drained"
inflight=$(redis_cli --raw HKEYS jobs:inflight)
assert_match "$inflight" '^jobs:inflight:.*:default$' "in-flight registration"
assert_eq "$(redis_cli LLEN "$inflight")" 0 "in-flight list empty after the job"
ok "stats counted, in-flight list emptied"

id=$(redis_cli --raw SMEMBERS processes)
assert_match "$id" "^$(hostname):$WORKER_PID:[0-9a-f]{12}\$" "identity"
info=$(redis_cli HGET "$id" info)
assert_eq "$(json "$info" 'd["pid"]')" "$WORKER_PID"
assert_eq "$(json "$info" 'd["concurrency"]')" 2
assert_eq "$(json "$info" 'd["queues"]')" "['default']"
assert_eq "$(redis_cli HGET "$id" quiet)" false
[ "$(redis_cli HGET "$id" rss)" -gt 0 ] || fail "rss"
ttl=$(redis_cli TTL "$id")
[ "$ttl" -gt 0 ] && [ "$ttl" -le 60 ] || fail "process key TTL $ttl"
assert_eq "$(redis_cli EXISTS "jobs:alive:$id")" 1 "alive key"
ok "heartbeat: processes, <identity> hash, alive key"

# A long job shows up in <identity>:work.
handler Slow <<'EOF2'
touch "$JOBS_TEST_MARK/slow-started"
while [ ! -e "$JOBS_TEST_MARK/slow-go" ]; do sleep 0.05; done
EOF2
sjid=$("$E" Slow)
wait_for "Slow to start" 20 test -e "$T/slow-started"
wait_for "work hash" 20 key_is 1 HEXISTS "$id:work" "$sjid"
work=$(redis_cli HGET "$id:work" "$sjid")
assert_eq "$(json "$work" 'd["queue"]')" default
assert_eq "$(json "$(json "$work" 'd["payload"]')" 'd["jid"]')" "$sjid"
assert_eq "$(redis_cli HGET "$id" busy)" 1 "busy"
touch "$T/slow-go"
wait_log w1 "Finished Slow job $sjid"
ok "<identity>:work lists the running job"

# Quiet through the signal list: no new jobs, quiet=true.
redis_cli LPUSH "$id-signals" TSTP >/dev/null
wait_for "quiet" 20 key_is true HGET "$id" quiet
qjid=$("$E" SayHello)
wait_log w1 "Quiet (TSTP in the signal queue)"
assert_eq "$(redis_cli LLEN queue:default)" 1 "quiet worker leaves the job in the queue"
ok "TSTP in <identity>-signals quiets"

# TERM through the signal list: exits 0, signs off, the job stays for the next worker.
redis_cli LPUSH "$id-signals" TERM >/dev/null
rc=0; wait "$WORKER_PID" || rc=$?
assert_eq "$rc" 0 "exit status after TERM"
assert_eq "$(redis_cli SISMEMBER processes "$id")" 0 "signed off from processes"
assert_eq "$(redis_cli EXISTS "$id" "jobs:alive:$id")" 0 "process keys removed"
assert_eq "$(redis_cli HLEN jobs:inflight)" 0 "in-flight registration removed"
start_worker w2
wait_for "the queued job" 30 lines_at_least "$T/done" 2
grep -q "$qjid" "$T/done" || fail "job left during quiet not run by the next worker"
stop_worker "$WORKER_PID"
ok "TERM in <identity>-signals stops cleanly; the next worker takes the job"
