#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGHUP (systemctl reload) re-reads worker.conf: the new queues and concurrency apply at once, the
# Redis URL waits for a restart (and the log says so), a running handler goes on and its job runs
# once; systemd hears RELOADING=1, then READY=1.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Slow <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/started"
while [ ! -f "$JOBS_TEST_MARK/release" ]; do sleep 0.05; done
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
handler Work <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
notify_listen

cat >"$T/worker.conf" <<EOF2
[Worker]
PassEnvironment=JOBS_TEST_MARK
Queue=a
Concurrency=1
EOF2
NOTIFY_SOCKET="$T/notify.sock" start_worker w -C "$T/worker.conf"
push() { redis_cli LPUSH "queue:$1" "{\"class\":\"$2\",\"args\":[],\"queue\":\"$1\",\"jid\":\"$3\"}" >/dev/null; }
push a Slow slow-1
wait_for "the slow job to start" 30 lines_at_least "$T/started" 1

cat >"$T/worker.conf" <<EOF2
[Worker]
PassEnvironment=JOBS_TEST_MARK
Redis=redis://127.0.0.1:1/0
Queue=b
Concurrency=3
EOF2
kill -HUP "$WORKER_PID"
wait_log w "Reloaded the settings: 1 queue(s), concurrency 3"
log_has w "the Redis URL changed; it takes effect at the next restart" || fail "no word on the Redis URL"
grep -q '^RELOADING=1' "$T/notify.log" || fail "no RELOADING=1"
[ "$(grep -c '^READY=1' "$T/notify.log")" -ge 2 ] || fail "no READY=1 after the reload"
kill -0 "$WORKER_PID" || fail "the worker died of SIGHUP"

# Queue b with concurrency 3 while the slow job still runs (concurrency 1 would allow none).
push b Work b-1; push b Work b-2
wait_for "two jobs of queue b" 30 lines_at_least "$T/done" 2
push a Work a-1
assert_eq "$(redis_cli LLEN queue:a)" 1 "queue a is no longer read"
grep -qx slow-1 "$T/done" && fail "the slow job ended early"
touch "$T/release"
wait_for "the slow job to finish" 30 grep -qx slow-1 "$T/done"
assert_eq "$(sort "$T/done" | uniq -d)" "" "jobs run twice"
assert_eq "$(grep -c 'Starting Slow job slow-1' "$T/w.log")" 1 "slow-1 started"
ok "SIGHUP: new queues and concurrency at once, the Redis URL for the next restart, the running job untouched"

stop_worker "$WORKER_PID"
