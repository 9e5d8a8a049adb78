#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-enqueue writes exactly Sidekiq's layout, and fails with the documented exit codes.
. "$(dirname "$0")/lib.sh"

E="$BIN/jobs-enqueue"
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$@"; }

redis_start

# --- enqueue now: SADD queues + LPUSH queue:<q>, Sidekiq's fields -----------------------------------
before=$(date +%s.%N)
jid=$("$E" SayHello)
after=$(date +%s.%N)
assert_match "$jid" '^[0-9a-f]{24}$' "jid"
assert_eq "$(redis_cli SMEMBERS queues)" "default" "queues set"
assert_eq "$(redis_cli LLEN queue:default)" "1" "queue length"
raw=$(redis_cli LINDEX queue:default 0)
assert_eq "$(json "$raw" 'd["class"]')" "SayHello"
assert_eq "$(json "$raw" 'd["args"]')" "[]"
assert_eq "$(json "$raw" 'd["retry"]')" "True"
assert_eq "$(json "$raw" 'd["queue"]')" "default"
assert_eq "$(json "$raw" 'd["jid"]')" "$jid"
assert_eq "$(json "$raw" 'd["created_at"] == d["enqueued_at"]')" "True" "created_at == enqueued_at"
assert_eq "$(json "$raw" "$before <= d['created_at'] <= $after")" "True" "created_at within the run"
# floats with a decimal point, never integers (Sidekiq 8 reads integers as milliseconds)
assert_match "$raw" '"created_at":[0-9]+\.[0-9]+' "created_at is a float"
assert_match "$raw" '"enqueued_at":[0-9]+\.[0-9]+' "enqueued_at is a float"
assert_eq "$(json "$raw" 'sorted(d.keys())')" "['args', 'class', 'created_at', 'enqueued_at', 'jid', 'queue', 'retry']"
ok "enqueue now writes the Sidekiq payload"

# queue, retry, args; FIFO: consumers take from the right
jid2=$("$E" --queue critical --retry 3 --args '[1, "two", {"three": null}, 4.5]' Reports::Nightly)
jid3=$("$E" -q critical --retry false Reports::Nightly)
assert_eq "$(redis_cli SMEMBERS queues | sort | tr '\n' ' ')" "critical default " "queues set"
first=$(redis_cli RPOP queue:critical)
second=$(redis_cli RPOP queue:critical)
assert_eq "$(json "$first" 'd["jid"]')" "$jid2" "FIFO order"
assert_eq "$(json "$second" 'd["jid"]')" "$jid3" "FIFO order"
assert_eq "$(json "$first" 'd["args"]')" "[1, 'two', {'three': None}, 4.5]"
assert_eq "$(json "$first" 'd["retry"]')" "3"
assert_eq "$(json "$first" 'd["queue"]')" "critical"
assert_eq "$(json "$second" 'd["retry"]')" "False"
ok "queue, retry and args are written as given, FIFO order"

# --- enqueue later: ZADD schedule <epoch float>, no enqueued_at ------------------------------------
before=$(date +%s.%N)
jid=$("$E" --in 5min Later)
after=$(date +%s.%N)
assert_eq "$(redis_cli ZCARD schedule)" "1"
raw=$(redis_cli ZRANGE schedule 0 0)
score=$(redis_cli ZSCORE schedule "$raw")
assert_eq "$(json "$raw" 'd["jid"]')" "$jid"
assert_eq "$(json "$raw" '"enqueued_at" in d or "at" in d')" "False" "scheduled payload has no enqueued_at/at"
assert_eq "$(python3 -c "print($before + 300 <= $score <= $after + 300)")" "True" "schedule score = now + 5min"
assert_eq "$(redis_cli LLEN queue:default)" "1" "scheduled job not pushed to its queue"
"$E" --at 4102444800.25 Far >/dev/null
assert_eq "$(redis_cli ZCOUNT schedule 4102444800.25 4102444800.25)" "1" "--at score is exact"
"$E" --at 1000 Past >/dev/null
assert_eq "$(redis_cli LLEN queue:default)" "2" "--at in the past enqueues now"
assert_eq "$(redis_cli ZCARD schedule)" "2"
"$E" --at '2099-12-24T18:00:00Z' Iso >/dev/null
assert_eq "$(redis_cli ZCOUNT schedule 4101818400 4101818400)" "1" "--at ISO 8601 in UTC"
"$E" --at '2099-12-24 19:00:30.5 +01:00' Offset >/dev/null
assert_eq "$(redis_cli ZCOUNT schedule 4101818430.5 4101818430.5)" "1" "--at with a zone offset"
TZ=America/New_York "$E" --at 'Thu 2099-12-24 13:00' Local >/dev/null
assert_eq "$(redis_cli ZCOUNT schedule 4101818400 4101818400)" "2" "--at in local time, weekday checked"
"$E" --at @4101818401 At >/dev/null
assert_eq "$(redis_cli ZCOUNT schedule 4101818401 4101818401)" "1" "--at @EPOCH"
assert_eq "$(redis_cli ZCARD schedule)" "6"
ok "scheduled jobs go to the schedule set with the right score"

# --- bad input: exit 64/65, nothing written ------------------------------------------------------------
snapshot() { echo "$(redis_cli LLEN queue:default) $(redis_cli ZCARD schedule) $(redis_cli SCARD queues)"; }
s0=$(snapshot)
expect_exit 65 "$E" --args 'not json' X;     assert_contains "$ERR" "Invalid --args"
expect_exit 65 "$E" --args '{"a":1}' X;      assert_contains "$ERR" "JSON array"
expect_exit 65 "$E" --args '[1,' X;          assert_contains "$ERR" "Invalid --args"
big=$(python3 -c 'print("[\"" + "x"*200 + "\"]")')
expect_exit 65 "$E" --max-payload 100 --args "$big" X; assert_contains "$ERR" "maximum"
big=$(python3 -c 'print("[\"" + "x"*(100*1024) + "\"]")')
expect_exit 65 "$E" --max-payload 65536 --args "$big" X; assert_contains "$ERR" "maximum"
expect_exit 65 "$E" ../../etc/passwd;        assert_contains "$ERR" "class"
expect_exit 65 "$E" -- -rf;                  assert_contains "$ERR" "class"
expect_exit 65 "$E" --queue 'a b' X;         assert_contains "$ERR" "queue"
expect_exit 64 "$E";                         assert_contains "$ERR" "exactly one job class"
expect_exit 64 "$E" A B;                     assert_contains "$ERR" "exactly one job class"
expect_exit 64 "$E" --retry maybe X;         assert_contains "$ERR" "--retry"
expect_exit 64 "$E" --in soon X;             assert_contains "$ERR" "--in"
expect_exit 64 "$E" --at someday X;          assert_contains "$ERR" "--at"
expect_exit 64 "$E" --in 500000y X;          assert_contains "$ERR" "at most 100 years"
expect_exit 64 "$E" --in 99999999999999999999y X; assert_contains "$ERR" "at most 100 years"
expect_exit 64 "$E" --at 0x10 X;             assert_contains "$ERR" "2026-12-24T18:00:00Z"
expect_exit 64 "$E" --at 1e9 X;              assert_contains "$ERR" "Invalid --at"
expect_exit 64 "$E" --at -5 X;               assert_contains "$ERR" "Invalid --at"
expect_exit 64 "$E" --at 'Fri 2099-12-24' X; assert_contains "$ERR" "Invalid --at"
expect_exit 64 "$E" --at '2026-02-30' X;     assert_contains "$ERR" "Invalid --at"
expect_exit 64 "$E" --at 999999999999 X;     assert_contains "$ERR" "9999-12-31"
expect_exit 64 "$E" --bogus X
expect_exit 64 "$E" --redis http://x X;      assert_contains "$ERR" "redis://"
REDIS_URL=redis://h:99999 expect_exit 78 "$E" X; assert_contains "$ERR" "REDIS_URL"
assert_eq "$(snapshot)" "$s0" "nothing written by failed calls"
ok "bad input exits 64/65 with a clear message and writes nothing"

# --- Redis unavailable: 69; timeout: 75 ------------------------------------------------------------
expect_exit 69 "$E" --redis "unix://$T/nope.sock" X
assert_contains "$ERR" "$T/nope.sock"
port=$(free_port)
expect_exit 69 "$E" --redis "redis://127.0.0.1:$port/0" X
assert_contains "$ERR" "127.0.0.1:$port"
assert_contains "$ERR" "refused"
kill -STOP "$REDIS_PID"
on_exit "kill -CONT $REDIS_PID"
expect_exit 75 "$E" --timeout 300ms X
assert_contains "$ERR" "did not answer in time"
kill -CONT "$REDIS_PID"
ok "unreachable Redis exits 69, a Redis that does not answer exits 75"

# --- database number, password, systemd credential -------------------------------------------------
REDIS_AUTH='s3cr:et@pw' redis_start_tcp auth --requirepass 's3cr:et@pw'
pw_enc='s3cr%3Aet%40pw'
expect_exit 77 "$E" --redis "redis://127.0.0.1:$REDIS_PORT/0" X
assert_contains "$ERR" "NOAUTH"
expect_exit 77 "$E" --redis "redis://:wrong-password@127.0.0.1:$REDIS_PORT/0" X
[[ "$ERR" != *wrong-password* ]] || fail "password appears in the error: $ERR"
# a database the server does not have is a configuration error: 78, which the units do not restart on
expect_exit 78 "$E" --redis "redis://:$pw_enc@127.0.0.1:$REDIS_PORT/999" X
assert_contains "$ERR" "DB index"
jid=$("$E" --redis "redis://:$pw_enc@127.0.0.1:$REDIS_PORT/3" InDb3)
assert_eq "$(REDIS_AUTH='s3cr:et@pw' redis_cli -n 3 LLEN queue:default)" "1" "job in db 3"
assert_eq "$(REDIS_AUTH='s3cr:et@pw' redis_cli -n 0 LLEN queue:default)" "0" "nothing in db 0"
mkdir -p "$T/creds"; printf 's3cr:et@pw\n' > "$T/creds/redis-password"
CREDENTIALS_DIRECTORY="$T/creds" "$E" --redis "redis://127.0.0.1:$REDIS_PORT/0" FromCredential >/dev/null
assert_eq "$(REDIS_AUTH='s3cr:et@pw' redis_cli -n 0 LLEN queue:default)" "1" "credential password used"
ok "database number, URL password and the redis-password credential work; passwords are not logged"

# --- valgrind-clean (on a build without ASan, where valgrind can run) --------------------------------
if command -v valgrind >/dev/null && [[ "$(ldd "$E")" != *libasan* ]]; then
        vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
        "${vg[@]}" "$E" --redis "redis://:$pw_enc@127.0.0.1:$REDIS_PORT/0" --args '[1,{"a":[2]}]' Valgrind >/dev/null \
                || fail "valgrind found errors in a successful push"
        "${vg[@]}" "$E" --in 1h --redis "redis://:$pw_enc@127.0.0.1:$REDIS_PORT/0" Valgrind >/dev/null \
                || fail "valgrind found errors in a scheduled push"
        expect_exit 65 "${vg[@]}" "$E" --args '[1,' Valgrind
        expect_exit 69 "${vg[@]}" "$E" --redis "unix://$T/nope.sock" Valgrind
        expect_exit 77 "${vg[@]}" "$E" --redis "redis://:bad@127.0.0.1:$REDIS_PORT/0" Valgrind
        ok "jobs-enqueue is valgrind-clean on success and error paths"
else
        echo "# valgrind check skipped: ASan build or no valgrind"
fi

# Under systemd (stdout and stderr the journal stream named by JOURNAL_STREAM): one line per job,
# the log line naming the jid, no bare jid line after it.
REDIS_AUTH= redis_start oneline
: >"$T/journal"
stream=$(stat -c '%d:%i' "$T/journal")
JOURNAL_STREAM=$stream "$BIN/jobs-enqueue" --redis "$REDIS_URL" OneLine >>"$T/journal" 2>&1
assert_eq "$(wc -l <"$T/journal")" 1 "lines written to the journal stream"
assert_match "$(cat "$T/journal")" '^<6>Enqueued OneLine job [0-9a-f]{24} on queue default\.$'
"$BIN/jobs-enqueue" --redis "$REDIS_URL" OneLine >"$T/jid" 2>/dev/null
assert_match "$(cat "$T/jid")" '^[0-9a-f]{24}$' "the jid is still printed elsewhere"
ok "one journal line per job under systemd"
