#!/bin/bash
# SPDX-License-Identifier: MIT
# Payloads at the edges: NUL bytes (raw and "\u0000"), caller-chosen jids, integers beyond 64 bits.
# Every payload that is not a job lands in dead once, whole, with the reason.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Echo <<'EOF2'
cat >"$JOBS_TEST_MARK/.echo.$JOB_ID" && mv "$JOBS_TEST_MARK/.echo.$JOB_ID" "$JOBS_TEST_MARK/echo.$JOB_ID"
EOF2
start_worker w

# raw PAYLOAD (printf format): LPUSH it byte for byte.
raw() { printf "$@" | redis_cli -x LPUSH queue:default >/dev/null; }
dead_has() { [ "$(redis_cli ZCARD dead)" -ge "$1" ]; }
ran() { [ -f "$T/echo.$1" ]; }

# --- "\u0000" is JSON: the handler gets the payload byte for byte ---------------------------------
p='{"class":"Echo","args":["before\u0000after"],"jid":"nul0"}'
raw "%s" "$p"
wait_for "the \\u0000 job to run" 30 ran nul0
assert_eq "$(cat "$T/echo.nul0")" "$p" "payload handed to the handler"
ok "\\u0000 in a string is accepted and handed on intact"

# --- a caller's jid with ':' ----------------------------------------------------------------------
raw '%s' '{"class":"Echo","args":[],"jid":"order:42"}'
wait_for "order:42 to run" 30 ran order:42
ok "jid order:42 runs"

# --- raw NUL bytes: each its own dead entry, with the reason, never a clean job ------------------
raw '\0A'
raw '\0B'
for k in 1 2 3; do raw '{"class":"Good","args":[],"jid":"nul1"}\0junk'"$k"; done
wait_for "5 dead entries" 30 dead_has 5
redis_cli --raw ZRANGE dead 0 -1 >"$T/dead"
python3 - "$T/dead" <<'EOF2' || fail "dead entries"
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(entries) == 5, len(entries)
payloads = sorted(e["payload"] for e in entries)
assert payloads == sorted(["\0A", "\0B"] + ['{"class":"Good","args":[],"jid":"nul1"}\0junk%d' % k for k in (1, 2, 3)]), payloads
for e in entries:
    assert e["class"] == "JobsInvalidPayload" and e["error_class"] == "JobsInvalidPayload", e
    assert e["error_message"] == "payload is not valid JSON", e
    assert e["retry"] is False and e["jid"] != "nul1", e
EOF2
ok "payloads that differ after a NUL are distinct dead entries, each whole and with its reason"

# --- integers beyond 64 bits ----------------------------------------------------------------------
redis_cli DEL dead >/dev/null
p='{"class":"Echo","args":[1,18446744073709551616],"jid":"big"}'
raw '%s' "$p"
wait_for "the big-integer job in dead" 30 dead_has 1
m=$(redis_cli --raw ZRANGE dead 0 0)
assert_eq "$(json "$m" 'd["error_message"]')" "integer out of range at args[1]"
assert_eq "$(json "$m" 'd["payload"]')" "$p" "the payload, kept whole"
ran big && fail "the big-integer job ran"
ok "an integer beyond 64 bits: dead with its place named"

# --- the poller refuses queue names that are not: dead, with the reason --------------------------
redis_cli DEL dead >/dev/null
redis_cli ZADD schedule 0 '{"class":"Echo","args":[],"queue":"a b","jid":"q1"}' >/dev/null
redis_cli ZADD retry 0 '{"class":"Echo","args":[],"queue":"../../x","jid":"q2","error_message":"old","retry_count":1}' >/dev/null
redis_cli ZADD schedule 0 '{"class":"Echo","args":[],"queue":"default","jid":"q3"}' >/dev/null
wait_for "two dead entries from the poller" 60 dead_has 2
wait_for "the good scheduled job to run" 30 ran q3
redis_cli --raw ZRANGE dead 0 -1 >"$T/dead"
python3 - "$T/dead" <<'EOF2' || fail "dead entries from the poller"
import json, sys
entries = {e["jid"]: e for e in (json.loads(l) for l in open(sys.argv[1]) if l.strip())}
assert sorted(entries) == ["q1", "q2"], entries
for e in entries.values():
    assert e["error_class"] == "JobsInvalidPayload", e
    assert e["error_message"].startswith('field "queue" is not a valid queue name'), e
    assert isinstance(e["failed_at"], float), e
assert entries["q2"]["retry_count"] == 1 and entries["q1"]["queue"] == "a b"
EOF2
assert_eq "$(redis_cli EXISTS 'queue:a b' 'queue:../../x')" 0 "keys made from bad queue names"
assert_eq "$(redis_cli SISMEMBER queues 'a b')" 0 "bad queue name in queues"
ok "the poller sends jobs for invalid queue names to dead with the reason"

stop_worker "$WORKER_PID"
