#!/bin/bash
# SPDX-License-Identifier: MIT
# Chaos: a worker under load is killed -9 twenty times at random (seeded) moments, Redis is restarted
# twice under a live worker (the pattern that once stranded jobs in a live worker's in-flight list)
# and frozen (SIGSTOP) for 10 s. No job may be lost; a job may run twice only if it was in flight at
# a kill, so duplicates may not exceed the jobs in flight at the kills.
. "$(dirname "$0")/worker-lib.sh"

RANDOM=${JOBS_CHAOS_SEED:-4242}
N=${JOBS_CHAOS_JOBS:-1500}
# Redis keeps every write on disk (fsync always), so its restarts lose nothing of its own.
REDIS_ARGS=(--appendonly yes --appendfsync always)
redis_start store "${REDIS_ARGS[@]}"
handler Work <<'EOF2'
sleep 0.05
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
cat >"$T/worker.conf" <<EOF2
[Worker]
PassEnvironment=JOBS_TEST_MARK
Concurrency=10
ShutdownTimeoutSec=5s
EOF2

python3 -c '
import sys
for i in range(int(sys.argv[1])):
    j = "{\"class\":\"Work\",\"args\":[%d],\"queue\":\"default\",\"jid\":\"chaos-%d\"}" % (i, i)
    sys.stdout.write("*3\r\n$5\r\nLPUSH\r\n$13\r\nqueue:default\r\n$%d\r\n%s\r\n" % (len(j), j))' "$N" >"$T/push.resp"
redis_cli --pipe <"$T/push.resp" >/dev/null
assert_eq "$(redis_cli LLEN queue:default)" "$N" "jobs pushed"

# in_flight [PID]: the jobs in in-flight lists (of the worker with that pid: "jobs:inflight:<host>:<pid>:<hex>:<queue>").
in_flight() { redis_cli EVAL "local n = 0; for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end; return n" 0 "jobs:inflight:${1:+*:$1:*}*"; }
pause() { sleep "0.$((RANDOM % 8 + 2))"; } # 0.2-0.9 s, from the seed: when the next blow lands
restart_redis() {
        redis_stop
        redis_start store "${REDIS_ARGS[@]}"
}

at_kills=0
start_worker w0 -C "$T/worker.conf"
for k in $(seq 1 20); do
        pause
        case $k in
        7|14)   restart_redis; pause ;;  # under the live worker, then it works on
        10)     kill -STOP "$REDIS_PID"; sleep 10; kill -CONT "$REDIS_PID"; pause ;;
        esac
        kill -9 "$WORKER_PID"
        wait "$WORKER_PID" 2>/dev/null || true
        # Counted once it is dead: what it held then stays in its lists until the next worker takes it back.
        at_kills=$((at_kills + $(in_flight "$WORKER_PID")))
        start_worker "w$k" -C "$T/worker.conf"
done

unique() { [ -f "$T/done" ] && sort -u "$T/done" | wc -l || echo 0; }
all_done() { [ "$(unique)" -ge "$N" ] && [ "$(redis_cli LLEN queue:default)" = 0 ] && [ "$(in_flight)" = 0 ]; }
wait_for "every job to run" 240 all_done
stop_worker "$WORKER_PID"
pkill_handlers
lost=$((N - $(unique)))
dups=$(($(wc -l <"$T/done") - $(unique)))
echo "chaos: $N jobs, 20 kills, 2 Redis restarts, 10 s Redis freeze: lost $lost, duplicates $dups, in flight at the kills $at_kills"
assert_eq "$lost" 0 "jobs lost"
[ "$dups" -le "$at_kills" ] || fail "$dups duplicates, more than the $at_kills jobs in flight at the kills"
ok "chaos: nothing lost, $dups duplicate(s) <= $at_kills in flight at the kills"
