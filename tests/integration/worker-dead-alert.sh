#!/bin/bash
# SPDX-License-Identifier: MIT
# OnDead=: when a job enters the dead set, the worker asks systemd (here its stand-in on a private
# bus) to start the template unit with the jid as instance; a job that is only retried starts none,
# and the dead entry is already in Redis when the alert unit runs.
. "$(dirname "$0")/worker-lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
private_system_bus
handler Boom <<'EOF2'
echo "mailbox unavailable" >&2
exit 3
EOF2
dead_jid=00000000000000000000dead
retry_jid=0000000000000000000retry
# The alert unit's command records its instance and what jobsctl finds in the dead set by then.
cat >"$T/fake.json" <<EOF2
{"timers": {}, "services": {
  "jobs-dead-test@$dead_jid.service": ["sh", "-c", "echo \$0 > '$T/alerted'; '$C' dead show $dead_jid > '$T/dead-show' 2>&1", "$dead_jid"],
  "jobs-dead-test@$retry_jid.service": ["sh", "-c", "echo $retry_jid > '$T/wrongly-alerted'"]}}
EOF2
fake_systemd_start "$T/fake.json"

cat >"$T/worker.conf" <<EOF2
[Worker]
$WORKER_TEST_SETTINGS
OnDead=jobs-dead-test@.service
EOF2
start_worker w -C "$T/worker.conf"
w_pid=$WORKER_PID

payload() { printf '{"retry":%s,"queue":"default","class":"Boom","args":[],"jid":"%s","created_at":1700000000.1,"enqueued_at":1700000000.2}' "$2" "$1"; }
redis_cli LPUSH queue:default "$(payload $retry_jid 3)" >/dev/null
redis_cli LPUSH queue:default "$(payload $dead_jid 0)" >/dev/null
redis_cli SADD queues default >/dev/null

wait_for "the job in the dead set" 30 key_is 1 ZCARD dead
wait_for "the alert unit to have run" 30 grep -q "jobs-dead-test@$dead_jid.service done 0" "$T/started.log"
assert_eq "$(cat "$T/alerted")" "$dead_jid" "the alert unit got the jid"
assert_contains "$(cat "$T/dead-show")" "mailbox unavailable" "the dead entry is readable when the alert runs"
wait_log w "dead-job alert (OnDead=) for job $dead_jid"
ok "a dead job starts OnDead=jobs-dead-test@<jid>.service, after its dead entry is written"

wait_for "the other job in retry" 30 key_is 1 ZCARD retry
assert_eq "$(grep -c "jobs-dead-test@" "$T/started.log")" 1 "one unit started"
[ ! -e "$T/wrongly-alerted" ] || fail "a job that is retried started the alert"
ok "a job that will be retried starts nothing"

# A unit systemd does not know: the worker says so and goes on.
stop_worker "$w_pid"
cat >"$T/worker2.conf" <<EOF2
[Worker]
$WORKER_TEST_SETTINGS
OnDead=jobs-missing@.service
EOF2
start_worker w2 -C "$T/worker2.conf"
redis_cli LPUSH queue:default "$(payload 0000000000000000000miss1 0)" >/dev/null
wait_log w2 "could not be started: Unit jobs-missing@0000000000000000000miss1.service not found"
wait_for "the job in the dead set" 30 key_is 2 ZCARD dead
kill -0 "$WORKER_PID" || fail "the worker exited"
ok "an alert unit that cannot start is logged, the worker goes on"

# OnDead= must name a template.
printf '[Worker]\nOnDead=jobs-dead.service\n' >"$T/bad.conf"
expect_exit 78 "$W" -C "$T/bad.conf"
assert_contains "$ERR" "bad.conf:2: OnDead=jobs-dead.service: OnDead= must name a template unit"
ok "OnDead= without @ is refused at load"
