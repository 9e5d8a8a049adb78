#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl status with Redis down (the local side still shown, exit 69), the worker units' state and
# STATUS= text over sd-bus, and status --check (Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
now=$(date +%s)
id="web1:4242:0123456789ab"
add_process() {
        redis_cli SADD processes "$id" >/dev/null
        redis_cli HSET "$id" info "{\"hostname\":\"web1\",\"pid\":4242,\"concurrency\":5,\"queues\":[\"default\"],\"identity\":\"$id\"}" \
                busy 0 beat "$(date +%s).5" quiet false concurrency 5 >/dev/null
}
# job_at N QUEUE EPOCH: a job enqueued at EPOCH.
job_at() { job_json "$(jid "$1")" A "$2" | sed "s/1700000000.2/$3.5/"; }

# --- --check without a system bus: only Redis is judged -----------------------------------------
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"
add_process
redis_cli LPUSH queue:default "$(job_at 1 default "$(date +%s)")" >/dev/null
redis_cli SADD queues default >/dev/null
expect_exit 0 "$C" status --check
assert_match "$OUT" '^JOBS OK - 1 worker process, 1 enqueued, latency [0-9]+s?, 0 dead \| processes=1 enqueued=1 latency=[0-9]+s;300 retries=0 dead=0$'
ok "--check OK"

redis_cli LPUSH queue:old "$(job_at 2 old $((now - 3600)))" >/dev/null
redis_cli SADD queues old >/dev/null
expect_exit 1 "$C" status --check
assert_match "$OUT" '^JOBS WARNING - queue old latency [0-9a-z ]+ > 5min \|'
expect_exit 0 "$C" status --check --max-latency 2h
expect_exit 64 "$C" status --max-latency soon
redis_cli DEL queue:old >/dev/null
redis_cli SREM queues old >/dev/null
ok "--check: queue latency over --max-latency warns"

redis_cli ZADD dead "$((now - 120))" "$(failed_json "$(jid 3)" A)" >/dev/null
expect_exit 1 "$C" status --check
assert_match "$OUT" '^JOBS WARNING - 1 job died in the last 1h \(1 dead\) \|'
expect_exit 0 "$C" status --check --dead-within 1min
ok "--check: a job that died within --dead-within warns"

redis_cli DEL "$id" >/dev/null
expect_exit 2 "$C" status --check
assert_match "$OUT" '^JOBS CRITICAL - no worker process beats \(1 job waiting\); 1 job died'
expect_exit 0 "$C" status
assert_contains "$OUT" "Not available: no system bus"
add_process
ok "--check: no worker beating is critical"

# --- the local side over a stand-in systemd -----------------------------------------------------
private_system_bus
now_us=$(($(date +%s) * 1000000))
cat >"$T/systemd.json" <<CONF
{"timers": {"jobs-nightly.timer": [$((now_us + 3600 * 1000000)), $((now_us - 600 * 1000000))]},
 "services": {},
 "units": {"jobs-worker.service": ["active", "running", "Running 0 of 5 jobs; 1 queue"]}}
CONF
fake_systemd_start "$T/systemd.json"
expect_exit 0 "$C" status
assert_match "$OUT" 'UNIT +ACTIVE +SUB +STATUS'
assert_match "$OUT" 'jobs-worker.service +active +running +Running 0 of 5 jobs; 1 queue'
expect_exit 0 "$C" status --json
assert_eq "$(jq -r '.worker_units[0].unit + " " + .worker_units[0].status_text' <<<"$OUT")" "jobs-worker.service Running 0 of 5 jobs; 1 queue"
expect_exit 0 "$C" status --check --dead-within 1s
ok "status shows the worker unit's state and STATUS= text"

# --- Redis down: the local side, then 69 ---------------------------------------------------------
redis_stop
expect_exit 69 "$C" status
assert_contains "$OUT" "Redis:      unix://$REDIS_SOCK (from \$REDIS_URL): unreachable"
assert_match "$OUT" 'jobs-worker.service +active +running +Running 0 of 5 jobs'
assert_match "$OUT" 'jobs-nightly.timer +jobs-nightly.service'
assert_contains "$ERR" "Cannot reach Redis"
expect_exit 69 "$C" status --json
assert_eq "$(jq -r '.timers[0].unit + " " + .worker_units[0].sub' <<<"$OUT")" "jobs-nightly.timer running"
assert_contains "$(jq -r .redis_error <<<"$OUT")" "$REDIS_SOCK"
expect_exit 2 "$C" status --check
assert_match "$OUT" "^JOBS CRITICAL - Redis unix://$REDIS_SOCK \\(from \\\$REDIS_URL\\) unreachable"
ok "Redis down: status shows the local side and exits 69; --check is critical"

# --- a missed occurrence: a failed enqueue service, a timer that did not fire --------------------
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true
cat >"$T/systemd.json" <<CONF
{"timers": {"jobs-nightly.timer": [$((now_us - 3600 * 1000000)), $((now_us - 90000 * 1000000))]},
 "services": {},
 "units": {"jobs-worker.service": ["active", "running", ""], "jobs-nightly.service": ["failed", "failed", ""]}}
CONF
fake_systemd_start "$T/systemd.json"
expect_exit 2 "$C" status --check
assert_contains "$OUT" "jobs-nightly.service failed (an occurrence was not enqueued)"
assert_contains "$OUT" "jobs-nightly.timer missed its occurrence"
ok "--check: missed occurrences are critical"
