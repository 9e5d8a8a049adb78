#!/bin/bash
# SPDX-License-Identifier: MIT
# A job far above MaxPayload (Redis takes up to 512 MB) costs the worker no more memory than a small
# one and does not hold up the jobs behind it: Redis moves it aside itself, whole, into a key of its
# own named by a dead entry with the reason, and the bytes never travel to the worker.
# JOBS_TEST_OVERSIZED_MB sets the size (200 MB by default).
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Echo <<'EOF2'
touch "$JOBS_TEST_MARK/ran.$JOB_ID"
EOF2

# Built inside Redis: sending 200 MB through redis-cli would cost the test more than the worker.
mb=${JOBS_TEST_OVERSIZED_MB:-200}
redis_cli EVAL "return redis.call('LPUSH', KEYS[1], '{\"class\":\"Echo\",\"jid\":\"big\",\"args\":[\"' .. string.rep(string.rep('A', 1048576), ARGV[1]) .. '\"]}')" 1 queue:default "$mb" >/dev/null
size=$((mb * 1048576 + 40))
for i in 1 2 3; do redis_cli LPUSH queue:default "{\"class\":\"Echo\",\"args\":[],\"jid\":\"small$i\"}" >/dev/null; done

start_worker w
ran() { [ -f "$T/ran.$1" ]; }
# Redis reads the payload once to measure it (a second or so on a loaded machine); the worker
# meanwhile only waits.
for i in 1 2 3; do wait_for "small job $i behind the big one" 420 ran "small$i"; done
ok "the jobs behind a $size-byte payload ran"

# The dead entry: the reason, the payload's size and start, and the key that holds the payload
# whole and untouched (read inside Redis, not through redis-cli).
wait_for "the big payload in dead" 30 key_is 1 ZCARD dead
entry=$(redis_cli --raw ZRANGE dead 0 0)
assert_contains "$entry" "\"error_class\":\"JobsInvalidPayload\""
assert_contains "$entry" "payload of $size bytes is larger than MaxPayload= (1048576 bytes)"
assert_contains "$entry" "\"payload_bytes\":$size,"
assert_contains "$entry" "\"payload_head\":\"{\\\"class\\\":\\\"Echo\\\",\\\"jid\\\":\\\"big\\\",\\\"args\\\":[\\\"AAAA"
assert_match "$entry" '"failed_at":[0-9]+\.[0-9]+\}$'
key=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["payload_key"])' "$entry")
assert_match "$key" '^jobs:oversized:oversized-[0-9a-f]{14}$'
assert_eq "$(redis_cli EVAL "local m = redis.call('LINDEX', KEYS[1], 0); return {redis.call('LLEN', KEYS[1]), #m, string.sub(m, 1, 41), string.sub(m, -5)}" 1 "$key" | tr '\n' ' ')" \
        "1 $size {\"class\":\"Echo\",\"jid\":\"big\",\"args\":[\"AAAA AA\"]} " "the payload kept whole"
ttl=$(redis_cli TTL "$key")
[ "$ttl" -gt 0 ] || fail "the payload's key has no expiry (TTL $ttl)"
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue"
assert_eq "$(redis_cli EVAL "local n = 0; for _, k in ipairs(redis.call('KEYS', 'jobs:inflight:*')) do n = n + redis.call('LLEN', k) end; return n" 0)" 0 "jobs in flight"
# (The worker logs the move when the fetch reply reaches it; while Redis copies for long, the
# worker may have given up on that connection: the move is done all the same.)
ok "moved aside inside Redis, whole, and recorded in dead with the reason"

# Bounded memory: the worker never held it (peak RSS far below the payload's size).
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$WORKER_PID/status")
[ "$hwm" -lt $((size / 1024 / 2)) ] || fail "worker peak RSS ${hwm} KiB for a ${size}-byte payload"
ok "worker peak RSS ${hwm} KiB"

start=$SECONDS
stop_worker "$WORKER_PID"
ok "stopped in $((SECONDS - start)) s"
