#!/bin/bash
# SPDX-License-Identifier: MIT
# A Redis ACL user with only the commands of README.md's ACL line: redis://user:password@host sends
# AUTH user password; jobs-enqueue (now, later, a schedule entry's claim), the worker (a job, a
# failure and its retry, a scheduled job) and jobsctl (status, queues, sets, processes, metrics,
# retry, kill, quiet) all work as that user, Redis denies nothing (ACL LOG empty), the user is
# really restricted, a wrong password exits 77, the password comes from the credential too, and it
# never shows in output or logs.
. "$(dirname "$0")/worker-lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

unset JOBS_TEST_ACL
line=$(grep -m1 '^ACL SETUSER jobs on ' "$JOBS_SOURCE_DIR/README.md")
grep -qxF -- "$line" "$JOBS_SOURCE_DIR/man/jobs-worker.8" || fail "jobs-worker(8) does not have README.md's ACL line"
redis_start_tcp
acl_setup
PW=$JOBS_ACL_PASSWORD
export REDIS_URL="redis://jobs:$PW@127.0.0.1:$REDIS_PORT/0"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"
as_jobs() { redis-cli -p "$REDIS_PORT" --user jobs --pass "$PW" --no-auth-warning "$@"; }

# The user is restricted (so the rest proves the list is enough), and the default user is not used.
assert_contains "$(as_jobs CONFIG GET maxmemory 2>&1)" "NOPERM"
assert_contains "$(as_jobs FLUSHALL 2>&1)" "NOPERM"
redis_cli ACL LOG RESET >/dev/null
ok "the ACL user of README.md cannot run CONFIG or FLUSHALL"

handler Good <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/good"
EOF2
handler Bad <<'EOF2'
echo "failing on purpose" >&2
exit 1
EOF2

expect_exit 0 "$E" Good
expect_exit 0 "$E" --in 1s Good
expect_exit 0 "$E" -q claims --entry nightly --calendar '*-*-* *:*:00' Good
expect_exit 0 "$E" Bad
# WAIT, and the claim script's write that changes nothing (PTTL, PEXPIRE) when it finds the
# occurrence claimed: no replica here, so both exit 75.
expect_exit 75 "$E" -q waits --entry acl-wait --occurrence 1767225600 --wait-replicas 1 --wait-timeout 200ms Good
assert_contains "$ERR" "only 0 of 1 replicas confirmed it" "WAIT as the ACL user"
expect_exit 75 "$E" -q waits --entry acl-wait --occurrence 1767225600 --wait-replicas 1 --wait-timeout 200ms Good
assert_contains "$ERR" "The claim of entry acl-wait (host " "the claim found and waited for, as the ACL user"
ok "jobs-enqueue as the ACL user: now, later, a schedule entry's claimed occurrence, --wait-replicas"

start_worker w1 -q default -q claims
wait_for "the good jobs to run (the scheduled one moved by the poller)" 60 lines_at_least "$T/good" 3
wait_for "the failed job in the retry set" 30 key_is 1 ZCARD retry
log_has w1 "Connected to Redis at 127.0.0.1:$REDIS_PORT" || fail "worker log: $(cat "$T/w1.log")"
ok "the worker as the ACL user runs jobs, moves scheduled ones, records a failure for retry"

for cmd in status queues processes "retries list" "dead list" "scheduled list" "schedule" metrics; do
        # shellcheck disable=SC2086
        expect_exit 0 "$C" $cmd
        [[ "$OUT$ERR" != *"$PW"* ]] || fail "jobsctl $cmd shows the password"
done
expect_exit 0 "$C" status
assert_contains "$OUT" "redis://jobs:***@127.0.0.1:$REDIS_PORT/0"
jid=$(redis_cli ZRANGE retry 0 0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["jid"])')
expect_exit 0 "$C" retries kill "$jid"
assert_eq "$(redis_cli ZCARD dead)" 1 "job killed into the dead set"
expect_exit 0 "$C" dead retry "$jid"
wait_for "the retried job to fail again" 30 key_is 1 ZCARD retry
expect_exit 0 "$C" quiet --all
wait_log w1 "Quiet"
stop_worker "$WORKER_PID"
ok "jobsctl status, queues, processes, sets, schedule, metrics, kill, retry, quiet as the ACL user"

assert_eq "$(redis_cli ACL LOG)" "" "Redis denied the ACL user something"
! grep -q "$PW" "$T/w1.log" || fail "password in the worker's log"
ok "Redis denied nothing (ACL LOG empty); the password is in no log"

expect_exit 77 "$E" --redis "redis://jobs:wrong@127.0.0.1:$REDIS_PORT/0" Good
assert_contains "$ERR" "WRONGPASS"
[[ "$ERR" != *wrong@* ]] || fail "password in the error: $ERR"
mkdir -p "$T/cred"
printf '%s\n' "$PW" >"$T/cred/redis-password"
expect_exit 0 env CREDENTIALS_DIRECTORY="$T/cred" "$E" --redis "redis://jobs:@127.0.0.1:$REDIS_PORT/0" Good
expect_exit 0 env CREDENTIALS_DIRECTORY="$T/cred" "$C" --redis "redis://jobs:@127.0.0.1:$REDIS_PORT/0" queues
ok "a wrong password exits 77 (WRONGPASS); redis://jobs:@host takes the password from the credential"
