#!/bin/bash
# SPDX-License-Identifier: MIT
# A job far above MaxPayload (Redis takes up to 512 MB) costs the worker no more memory than a small
# one and does not hold up the jobs behind it for good: Redis moves it to dead itself, with the
# reason, and the bytes never travel to the worker. JOBS_TEST_OVERSIZED_MB sets the size (48 MB by
# default; 200 MB makes Redis's script copy it for minutes on a loaded machine).
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Echo <<'EOF2'
touch "$JOBS_TEST_MARK/ran.$JOB_ID"
EOF2

python3 -c '
import sys
sys.stdout.write("{\"class\":\"Echo\",\"jid\":\"big\",\"args\":[\"")
chunk = "A" * (1 << 20)
for _ in range(int(sys.argv[1])):
    sys.stdout.write(chunk)
sys.stdout.write("\"]}")' "${JOBS_TEST_OVERSIZED_MB:-48}" >"$T/big.json"
size=$(stat -c %s "$T/big.json")
redis_cli -x LPUSH queue:default <"$T/big.json" >/dev/null
rm -f "$T/big.json"
for i in 1 2 3; do redis_cli LPUSH queue:default "{\"class\":\"Echo\",\"args\":[],\"jid\":\"small$i\"}" >/dev/null; done

start_worker w
ran() { [ -f "$T/ran.$1" ]; }
# Redis itself copies the payload a few times (in the script): seconds on an idle machine, minutes
# on a loaded one; the worker meanwhile only waits.
for i in 1 2 3; do wait_for "small job $i behind the big one" 420 ran "small$i"; done
ok "the jobs behind a $size-byte payload ran"

# The dead entry: the whole payload with the reason, read inside Redis (not through redis-cli).
wait_for "the big payload in dead" 30 key_is 1 ZCARD dead
info=$(redis_cli --raw EVAL "local m = redis.call('ZRANGE', 'dead', 0, 0)[1]; return #m .. ' ' .. string.sub(m, #m - 300)" 0)
assert_contains "$info" "\"error_class\":\"JobsInvalidPayload\""
assert_contains "$info" "payload of $size bytes is larger than MaxPayload= (1048576 bytes)"
assert_match "$info" '"failed_at":[0-9]+\.[0-9]+\}$'
assert_eq "$(redis_cli LLEN queue:default)" 0 "queue"
assert_eq "$(redis_cli EVAL "local n = 0; for _, k in ipairs(redis.call('KEYS', 'jobs:inflight:*')) do n = n + redis.call('LLEN', k) end; return n" 0)" 0 "jobs in flight"
# (The worker logs the move when the fetch reply reaches it; while Redis copies for long, the
# worker may have given up on that connection: the move is done all the same.)
ok "moved to dead inside Redis with the reason"

# Bounded memory: the worker never held it (peak RSS far below the payload's size).
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$WORKER_PID/status")
[ "$hwm" -lt $((size / 1024 / 2)) ] || fail "worker peak RSS ${hwm} KiB for a ${size}-byte payload"
ok "worker peak RSS ${hwm} KiB"

start=$SECONDS
stop_worker "$WORKER_PID"
ok "stopped in $((SECONDS - start)) s"
