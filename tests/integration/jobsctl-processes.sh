#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl processes, quiet, stop and status, against process data as Sidekiq 7 writes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
now=$(date +%s)
today=$(date -u +%F)

# Two live processes (Sidekiq 7: concurrency in the hash, info JSON, work hash with a payload string)
# and one registered whose heartbeat expired (no hash), which must not be shown.
add_process() { # IDENTITY TAG BUSY QUIET
        local id=$1 pid
        pid=$(cut -d: -f2 <<<"$id")
        redis_cli SADD processes "$id" >/dev/null
        redis_cli HSET "$id" info "{\"hostname\":\"${id%%:*}\",\"started_at\":$((now - 7260)).5,\"pid\":$pid,\"tag\":\"$2\",\"concurrency\":10,\"queues\":[\"critical\",\"default\"],\"weights\":[{\"critical\":0,\"default\":0}],\"labels\":[\"reliable\"],\"identity\":\"$id\",\"version\":\"7.2.4\",\"embedded\":false}" \
                busy "$3" beat "$now.25" quiet "$4" rss 51200 rtt_us 120 concurrency 10 >/dev/null
        redis_cli EXPIRE "$id" 60 >/dev/null
}
add_process "web1:4242:0123456789ab" app 1 false
add_process "web2:77:ba9876543210" app 0 true
id1="web1:4242:0123456789ab" id2="web2:77:ba9876543210"
redis_cli SADD processes "gone:1:ffffffffffff" >/dev/null
payload=$(job_json "$(jid 7)" Billing::Charge critical | sed 's/"/\\"/g')
redis_cli HSET "$id1:work" "t-abc" "{\"queue\":\"critical\",\"payload\":\"$payload\",\"run_at\":$((now - 90))}" >/dev/null
# jobs-worker writes the same job to :workers too (Sidekiq 6.4.1's name): it is one job, not two.
redis_cli HSET "$id1:workers" "t-abc" "{\"queue\":\"critical\",\"payload\":\"$payload\",\"run_at\":$((now - 90))}" >/dev/null
# A Sidekiq 6.4.1 process writes :workers only.
payload2=$(job_json "$(jid 8)" Old::Style default | sed 's/"/\\"/g')
redis_cli HSET "$id2:workers" "t-old" "{\"queue\":\"default\",\"payload\":\"$payload2\",\"run_at\":$((now - 30))}" >/dev/null
redis_cli MSET stat:processed 1234 stat:failed 56 "stat:processed:$today" 78 "stat:failed:$today" 9 >/dev/null
redis_cli ZADD retry 1 "$(failed_json "$(jid 1)" A)" 2 "$(failed_json "$(jid 2)" A)" >/dev/null
redis_cli ZADD dead 1 "$(failed_json "$(jid 3)" A)" >/dev/null
redis_cli ZADD schedule 1 "$(job_json "$(jid 4)" A)" >/dev/null
"$BIN/jobs-enqueue" --queue critical Billing::Charge >/dev/null

# --- processes --------------------------------------------------------------------------------
expect_exit 0 "$C" processes
assert_match "$(sed -n 1p <<<"$OUT")" '^IDENTITY +TAG +STARTED +BUSY +QUEUES +RSS +HEARTBEAT +STATE$'
assert_match "$OUT" "$id1 +app +2h( 1min)? ago +1/10 +critical,default +50.0M +(now|[0-9]+s ago) +running"
assert_match "$OUT" "$id2 +app +2h( 1min)? ago +0/10 .* quiet"
assert_contains "$OUT" "2 processes listed."
[[ "$OUT" != *gone:1* ]] || fail "a process without heartbeat is listed"
expect_exit 0 "$C" processes --json
assert_eq "$(jq -r 'map(.identity) | join(" ")' <<<"$OUT")" "$id1 $id2"
assert_eq "$(jq -r '.[0].info.version + " " + (.[0].busy|tostring) + " " + (.[0].concurrency|tostring) + " " + (.[1].quiet|tostring)' <<<"$OUT")" "7.2.4 1 10 true"
assert_eq "$(jq -r ".[0].beat == $now.25" <<<"$OUT")" true
ok "processes"

# --- quiet / stop: LPUSH <identity>-signals + EXPIRE 60, as Process#quiet!/#stop! ----------------
before=$(dump_except "$id1-signals")
expect_exit 0 "$C" quiet "$id1"
assert_eq "$OUT" "Asked $id1 to quiet (TSTP)."
assert_eq "$(redis_cli LRANGE "$id1-signals" 0 -1)" "TSTP"
ttl=$(redis_cli TTL "$id1-signals"); [ "$ttl" -gt 0 ] && [ "$ttl" -le 60 ] || fail "signals TTL $ttl"
expect_exit 0 "$C" stop "$id1" --json
assert_eq "$(jq -c . <<<"$OUT")" "{\"signal\":\"TERM\",\"processes\":[\"$id1\"]}"
assert_eq "$(redis_cli LRANGE "$id1-signals" 0 -1 | tr '\n' ' ')" "TERM TSTP " "newest first, worker pops from the right"
assert_eq "$(dump_except "$id1-signals")" "$before" "nothing else changed"
expect_exit 66 "$C" quiet gone:1:ffffffffffff
assert_contains "$ERR" "No live process"
assert_eq "$(redis_cli EXISTS gone:1:ffffffffffff-signals)" 0
expect_exit 66 "$C" stop nobody
expect_exit 0 "$C" quiet --all
assert_eq "$(wc -l <<<"$OUT")" 2
assert_eq "$(redis_cli LRANGE "$id2-signals" 0 -1)" "TSTP"
expect_exit 64 "$C" quiet
expect_exit 64 "$C" stop "$id1" --all
ok "quiet and stop"

# --- status -----------------------------------------------------------------------------------
# jobs-worker's in-flight lists: two jobs held by a live worker, one by a worker that stopped beating
redis_cli LPUSH "jobs:inflight:$id1:critical" a b >/dev/null
redis_cli LPUSH "jobs:inflight:gone:1:ffffffffffff:default" c >/dev/null
redis_cli HSET jobs:inflight "jobs:inflight:$id1:critical" "$id1" "jobs:inflight:gone:1:ffffffffffff:default" gone:1:ffffffffffff >/dev/null
redis_cli SET "jobs:alive:$id1" "boot ns 4242" PX 60000 >/dev/null
expect_exit 0 "$C" status
assert_match "$OUT" "Processed: +1234 \(today 78\)"
assert_match "$OUT" "Failed: +56 \(today 9\)"
assert_match "$OUT" "Busy: +1 of 20 threads in 2 processes"
assert_match "$OUT" "Enqueued: +1 in 1 queue"
assert_match "$OUT" "In flight: +3 \(1 held by stopped workers, back in their queues at the next heartbeat\)"
assert_match "$OUT" "Scheduled: +1"$'\n'"Retries: +2"$'\n'"Dead: +1"
assert_match "$OUT" $'\n''critical +1 '
assert_match "$OUT" "$(jid 7) +Billing::Charge +critical +$id1 +[0-9]+min( [0-9]+s)? ago"
assert_contains "$OUT" "Timers"
# no system bus here: a note, not a failure
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus" expect_exit 0 "$C" status
assert_contains "$OUT" "Not available: no system bus"
expect_exit 0 "$C" status --json
assert_eq "$(jq -r '[.processed, .failed, .processed_today, .failed_today, .enqueued, .scheduled, .retries, .dead, .in_flight, .in_flight_orphaned] | map(tostring) | join(" ")' <<<"$OUT")" "1234 56 78 9 1 1 2 1 3 1"
assert_eq "$(jq -r '.queues[0].name + " " + (.queues[0].size|tostring)' <<<"$OUT")" "critical 1"
assert_eq "$(jq -r '.processes | length' <<<"$OUT")" 2
assert_eq "$(jq -r '.busy[0].job.jid + " " + .busy[0].process + " " + .busy[0].thread' <<<"$OUT")" "$(jid 7) $id1 t-abc"
assert_eq "$(jq -r ".busy[0].run_at == $((now - 90))" <<<"$OUT")" true
assert_eq "$(jq -r '.busy | map(.job.jid + "@" + .process) | join(" ")' <<<"$OUT")" "$(jid 7)@$id1 $(jid 8)@$id2" "each busy job once"
assert_match "$(jq -r .redis_version <<<"$OUT")" '^[0-9]+\.[0-9]+'
ok "status"

# --- colour only on a terminal, never with NO_COLOR --------------------------------------------
expect_exit 0 "$C" status
[[ "$OUT" != *$'\e['* ]] || fail "colour without a terminal"
script -qec "$C status" /dev/null >"$T/tty.out" </dev/null
grep -q $'\e\[' "$T/tty.out" || fail "no colour on a terminal"
NO_COLOR=1 script -qec "$C status" /dev/null >"$T/tty.out" </dev/null
! grep -q $'\e\[' "$T/tty.out" || fail "colour despite NO_COLOR"
ok "colour"

expect_exit 64 "$C" status extra
expect_exit 64 "$C" processes extra
expect_exit 69 "$C" --redis "unix://$T/nope.sock" status
ok "errors"
