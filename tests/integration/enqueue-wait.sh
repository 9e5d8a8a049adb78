#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-enqueue --wait-replicas: Redis WAIT after the push. Without a replica it exits 75 and says
# the job is on the master; bad values are refused with 64 (78 from $JOBS_WAIT_*, which only runs of
# a schedule entry read). Against a master with one replica an exit 0 means the replica has the
# job; with the replica stopped (SIGSTOP: connected, but confirming nothing) a push, a schedule
# entry's claim and a retry of that run that finds the claim all exit 75, and once it runs again
# the retry exits 0 without a second job. A master that refuses writes without its replicas
# (min-replicas-to-write) is a temporary failure too: 75, nothing written.
. "$(dirname "$0")/lib.sh"

E="$BIN/jobs-enqueue"
jid_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["jid"])' "$1"; }

# --- no replica ----------------------------------------------------------------------------------
redis_start
expect_exit 75 timeout 60 "$E" --wait-replicas=1 --wait-timeout=300ms Alone
assert_contains "$ERR" "The Alone job " "message names the job"
assert_contains "$ERR" "is on the Redis master, but only 0 of 1 replicas confirmed it within 300ms" "message"
assert_eq "$(redis_cli LLEN queue:default)" 1 "the job is on the master all the same"
assert_contains "$ERR" "$(jid_of "$(redis_cli LINDEX queue:default 0)")" "message names the jid"
assert_eq "$OUT" "" "no jid on standard output"
expect_exit 75 timeout 60 "$E" --wait-replicas=1 --wait-timeout=200ms --in 5min Later
assert_eq "$(redis_cli ZCARD schedule)" 1 "a scheduled job waits too"
# $JOBS_WAIT_* are the defaults for runs of a schedule entry (the timers' services) only: a run
# without a claim would push its job again on every retry of its service.
expect_exit 75 env JOBS_WAIT_REPLICAS=1 JOBS_WAIT_TIMEOUT=200ms timeout 60 "$E" --entry env --occurrence 1767225600 FromEnv
assert_contains "$ERR" "only 0 of 1 replicas confirmed it within 200ms" "\$JOBS_WAIT_REPLICAS and \$JOBS_WAIT_TIMEOUT"
expect_exit 0 env JOBS_WAIT_REPLICAS=1 "$E" --entry env --occurrence 1767229200 --wait-replicas=0 NoWait
expect_exit 0 env JOBS_WAIT_REPLICAS=1 JOBS_WAIT_TIMEOUT=200ms "$E" NoEntry
expect_exit 0 "$E" --wait-replicas=0 NoWait
assert_eq "$(redis_cli LLEN queue:default)" 5 "pushed: Alone, FromEnv, NoEntry and the two NoWait"
ok "without a replica --wait-replicas=1 exits 75 within its timeout; the job is on the master"

for v in -1 abc 1x 101 99999999999999999999999 ''; do
        expect_exit 64 "$E" --wait-replicas="$v" Bad
        assert_contains "$ERR" "Invalid --wait-replicas '$v'" "--wait-replicas=$v"
done
for v in 0 500us 11min abc -1s; do
        expect_exit 64 "$E" --wait-replicas=1 --wait-timeout="$v" Bad
        assert_contains "$ERR" "Invalid --wait-timeout '$v'" "--wait-timeout=$v"
done
expect_exit 64 "$E" --wait-timeout=1s Bad
assert_contains "$ERR" "--wait-timeout applies when waiting for replicas" "--wait-timeout alone"
expect_exit 78 env JOBS_WAIT_REPLICAS=two "$E" --entry env --occurrence 1767232800 Bad
assert_contains "$ERR" "Invalid \$JOBS_WAIT_REPLICAS 'two'" "bad \$JOBS_WAIT_REPLICAS"
expect_exit 78 env JOBS_WAIT_REPLICAS=1 JOBS_WAIT_TIMEOUT=forever "$E" --entry env --occurrence 1767232800 Bad
assert_contains "$ERR" "Invalid \$JOBS_WAIT_TIMEOUT 'forever'" "bad \$JOBS_WAIT_TIMEOUT"
assert_eq "$(redis_cli LLEN queue:default)" 5 "nothing pushed by a refused run"
ok "bad --wait-replicas and --wait-timeout exit 64, bad \$JOBS_WAIT_* 78, each naming itself"
redis_stop

# --- a master that refuses writes without a replica (min-replicas-to-write) ----------------------
# As a master cut off from its replicas (and the sentinels) does: a temporary failure, retried by the
# timer's service (75), with nothing pushed or claimed.
redis_start
redis_cli CONFIG SET min-replicas-to-write 1 >/dev/null
expect_exit 75 "$E" Cut
assert_contains "$ERR" "NOREPLICAS" "message gives Redis' reason"
expect_exit 75 "$E" --entry cut --occurrence 1767225600 Cut
assert_eq "$(redis_cli DBSIZE)" 0 "nothing pushed or claimed"
ok "a master without the replicas min-replicas-to-write asks for: exit 75, nothing written"
redis_stop

# --- a master and one replica over TCP -----------------------------------------------------------
redis_start_tcp master
MPORT=$REDIS_PORT
RPORT=$(free_port)
mkdir -p "$T/replica"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$T/replica" --save '' --appendonly no --daemonize no \
        --logfile "$T/replica/redis.log" --replicaof 127.0.0.1 "$MPORT" &
REPLICA_PID=$!
REDIS_PIDS+=("$REPLICA_PID")
on_exit 'kill -CONT "$REPLICA_PID" 2>/dev/null'
rcli() { redis-cli -p "$RPORT" "$@"; }
synced() { rcli INFO replication | grep -q 'master_link_status:up'; }
wait_for "the replica to sync" 60 synced

jid=$("$E" --wait-replicas=1 --wait-timeout=60s Replicated)
assert_contains "$(rcli LRANGE queue:default 0 -1)" "$jid" "the replica has the job when jobs-enqueue exits 0"
expect_exit 75 timeout 60 "$E" --wait-replicas=2 --wait-timeout=300ms Two
assert_contains "$ERR" "only 1 of 2 replicas confirmed it" "one replica of two"
jid=$(JOBS_HOSTNAME=alpha "$E" --wait-replicas=1 --wait-timeout=60s --entry tick --occurrence 1767225600 Tick)
assert_contains "$(rcli LRANGE queue:default 0 -1)" "$jid" "the replica has the entry's job when jobs-enqueue exits 0"
ok "with a replica an exit 0 means the replica has the job (push and claim)"

# The replica stops confirming: the claim of a new occurrence is on the master only.
kill -STOP "$REPLICA_PID"
expect_exit 75 timeout 60 "$E" --wait-replicas=1 --wait-timeout=300ms Stopped
assert_contains "$ERR" "only 0 of 1 replicas confirmed it" "stopped replica"
tick() { JOBS_HOSTNAME="$1" timeout 120 "$E" --entry tick --occurrence "$2" "${@:3}" Tick; }
expect_exit 75 tick alpha 1767229200 --wait-replicas=1 --wait-timeout=300ms
assert_contains "$ERR" "A retry of this run enqueues it again only if the master lost it" "claim, unconfirmed"
claimed=$(redis-cli -p "$MPORT" HGET jobs:entry:tick jid)
# A retry (or another host) finds the claim: it wrote nothing itself, yet it waits for the claim.
expect_exit 75 tick beta 1767229200 --wait-replicas=1 --wait-timeout=300ms
assert_contains "$ERR" "already enqueued by host alpha as job $claimed" "the retry finds the claim"
assert_contains "$ERR" "The claim of entry tick (host alpha, job $claimed) is on the Redis master, but only 0 of 1" "retry, unconfirmed"
# An older occurrence than the last claimed one: the entry's record answers, and is waited for too.
expect_exit 75 tick beta 1767227400 --wait-replicas=1 --wait-timeout=300ms
assert_contains "$ERR" "is not after the last one claimed" "an earlier occurrence"
assert_contains "$ERR" "only 0 of 1 replicas confirmed it" "an earlier occurrence, unconfirmed"
# Without waiting the same retry exits 0 at once: no replica is asked.
expect_exit 0 tick beta 1767229200
kill -CONT "$REPLICA_PID"
expect_exit 0 tick beta 1767229200 --wait-replicas=1 --wait-timeout=60s
assert_contains "$ERR" "already enqueued by host alpha as job $claimed" "the retry once the replica confirms"
assert_eq "$(rcli LRANGE queue:default 0 -1 | grep -c '"jobs_entry":"tick"')" 2 "one job per occurrence on the replica"
assert_contains "$(rcli LRANGE queue:default 0 -1)" "$claimed" "the replica has the claimed job"
ok "a stopped replica: push, claim and a retry finding the claim exit 75; once it confirms the retry exits 0, no second job"
