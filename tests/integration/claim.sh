#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-enqueue --entry: each occurrence of a schedule entry is enqueued once across the hosts sharing
# a Redis, whichever host fires and whenever within the occurrence; manual runs are never held back.
. "$(dirname "$0")/lib.sh"

E="$BIN/jobs-enqueue"
CAL='*:0/5'                    # every 5 minutes
T0=1764600000                  # Mon 2025-12-01 14:40:00 UTC, an occurrence of $CAL
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$@"; }
# run HOST TRIGGER [ARGS...]: one firing of entry "tick" on HOST at TRIGGER (epoch seconds)
run() { local h=$1 t=$2; shift 2; JOBS_HOSTNAME=$h "$E" --entry tick --calendar "$CAL" --trigger-time "$t" "$@" Tick; }

redis_start

# --- two hosts fire the same occurrence: one job; the second names the first -----------------------
expect_exit 0 run alpha "$T0"
jid=$OUT
assert_match "$jid" '^[0-9a-f]{24}$' "jid of the first host"
expect_exit 0 run beta "$T0"
assert_eq "$OUT" "" "the second host prints no jid"
assert_contains "$ERR" "already enqueued by host alpha as job $jid" "the second host's log line"
assert_eq "$(redis_cli LLEN queue:default)" "1" "jobs after two hosts fired"
raw=$(redis_cli LINDEX queue:default 0)
assert_eq "$(json "$raw" 'd["jid"]')" "$jid"
assert_eq "$(json "$raw" 'd["jobs_entry"]')" "tick" "the payload names its entry"
assert_eq "$(redis_cli SMEMBERS queues)" "default" "queue registered"
ok "two hosts, one occurrence: one job; the second exits 0 naming host and jid"

# the log line carries the fields of any enqueue (JOB_JID, JOB_ID for a release) and the holder
expect_exit 0 env JOBS_LOG_FIELDS=1 JOBS_HOSTNAME=gamma "$E" --entry tick --calendar "$CAL" --trigger-time "$T0" Tick
assert_contains "$ERR" "JOB_JID=$jid JOB_ID=$jid"
assert_contains "$ERR" "JOBS_CLAIMED_BY=alpha"

# --- later firings within the same occurrence (random delay, accuracy, a retry) ---------------------
for d in 1 17 59 120 299.9; do
        expect_exit 0 run "host-$d" "$(python3 -c "print($T0 + $d)")"
        assert_contains "$ERR" "already enqueued by host alpha as job $jid"
done
assert_eq "$(redis_cli LLEN queue:default)" "1" "jobs after firings up to 299.9 s late"
ok "firings anywhere within the occurrence map to it: still one job"

# --- the next occurrence is a new job, claimed by whoever comes first -------------------------------
expect_exit 0 run beta $((T0 + 300 + 3))
jid2=$OUT
assert_match "$jid2" '^[0-9a-f]{24}$'
expect_exit 0 run alpha $((T0 + 300))
assert_contains "$ERR" "already enqueued by host beta as job $jid2"
assert_eq "$(redis_cli LLEN queue:default)" "2" "jobs after the next occurrence"
ok "the next occurrence is enqueued once more"

# --- a host that lags (or catches up late, Persistent=) never re-enqueues an older occurrence ---------
expect_exit 0 run lagging "$T0"
assert_contains "$ERR" "already enqueued by host alpha as job $jid"
# once that claim expired, the record still refuses it
redis_cli DEL "jobs:claim:tick:${T0}000000" >/dev/null
expect_exit 0 run lagging "$T0"
assert_contains "$ERR" "is not after the last one claimed"
assert_eq "$(redis_cli LLEN queue:default)" "2" "jobs after a late firing"
ok "an occurrence at or before the last one claimed is never enqueued again"

# --- claims expire: twice the gap between occurrences; the record lives long but not forever ---------
ttl=$(redis_cli TTL "jobs:claim:tick:$(((T0 + 300) * 1000000))")
[ "$ttl" -gt 300 ] && [ "$ttl" -le 600 ] || fail "claim TTL $ttl, expected 2 x 5 min (600 s, less the time since)"
rttl=$(redis_cli TTL jobs:entry:tick)
[ "$rttl" -gt 30000000 ] && [ "$rttl" -le 34560000 ] || fail "record TTL $rttl, expected 400 days"
hourly=$(JOBS_HOSTNAME=a "$E" --entry hourly --calendar hourly --trigger-time "$T0" Hourly)
ttl=$(redis_cli TTL "jobs:claim:hourly:1764597600000000")
[ "$ttl" -gt 3600 ] && [ "$ttl" -le 7200 ] || fail "hourly claim TTL $ttl, expected 2 h (7200 s, less the time since)"
redis_cli RPOP queue:default >/dev/null
[ -n "$hourly" ] || fail "hourly entry not enqueued"
ok "claim keys expire after twice the gap, the entry record after 400 days"

# --- missed occurrences: those between the last claim and this one that no host claimed --------------
assert_eq "$(redis_cli HGET jobs:entry:tick missed)" "0" "missed so far"
expect_exit 0 run alpha $((T0 + 4 * 300 + 10))  # 14:45 claimed; 14:50, 14:55 nobody; 15:00 now
assert_eq "$(redis_cli HGET jobs:entry:tick missed)" "2" "missed after a gap of two occurrences"
expect_exit 0 run alpha $((T0 + 100 * 300))      # far later: at most 16 counted per claim
assert_eq "$(redis_cli HGET jobs:entry:tick missed)" "18" "missed is counted within a bounded window"
ok "missed occurrences are counted (at most 16 per claim)"

# --- the record of the entry ---------------------------------------------------------------------
assert_eq "$(redis_cli HGET jobs:entry:tick last)" "$(((T0 + 100 * 300) * 1000000))" "record: last"
assert_eq "$(redis_cli HGET jobs:entry:tick host)" "alpha" "record: host"
assert_eq "$(redis_cli HGET jobs:entry:tick calendars)" "$CAL" "record: calendars"
assert_eq "$(redis_cli ZSCORE jobs:entries tick | cut -c1-2)" "$(date +%s | cut -c1-2)" "entries set: claim time"

# --- many hosts at once: the Lua step is atomic --------------------------------------------------
redis_cli DEL queue:default >/dev/null
pids=()
for h in $(seq 1 12); do
        JOBS_HOSTNAME=h$h "$E" -Q --entry burst --calendar "$CAL" --trigger-time "$T0" Burst 2>/dev/null & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent firing failed"; done
assert_eq "$(redis_cli LLEN queue:default)" "1" "jobs after 12 concurrent hosts"
ok "12 hosts firing at once: exactly one job"

# --- manual runs and host-local entries are never held back --------------------------------------
redis_cli DEL queue:default >/dev/null
"$E" Tick >/dev/null
"$E" Tick >/dev/null
assert_eq "$(redis_cli LLEN queue:default)" "2" "plain jobs-enqueue twice"
JOBS_HOSTNAME=x "$BIN/jobsctl" enqueue Tick >/dev/null
assert_eq "$(redis_cli LLEN queue:default)" "3" "jobsctl enqueue"
ok "manual runs (no --entry) are never deduplicated"

# --- usage errors ---------------------------------------------------------------------------------
expect_exit 64 "$E" --entry tick Tick
assert_contains "$ERR" "--entry needs the entry's calendars"
expect_exit 64 "$E" --calendar hourly Tick
assert_contains "$ERR" "pass --entry NAME too"
expect_exit 64 "$E" --entry tick --calendar 'not a calendar' Tick
assert_contains "$ERR" "Invalid --calendar 'not a calendar'"
expect_exit 64 "$E" --entry 'a b' --calendar hourly Tick
expect_exit 64 "$E" --entry tick --calendar hourly --in 5min Tick
expect_exit 65 "$E" --entry future --calendar 2099-01-01 Tick
assert_contains "$ERR" "has no occurrence at or before"
ok "usage errors: 64 (65 when the calendar has not elapsed yet)"

# --- jobsctl schedule: the record, where the job is, the next occurrence, the missed ones -------------
C="$BIN/jobsctl"
redis_cli FLUSHALL >/dev/null
expect_exit 0 "$C" status
assert_contains "$OUT" "Schedule:   no fleet entry enqueued yet"
JOBS_HOSTNAME=alpha "$E" -Q --entry shown --calendar "$CAL" --calendar 'Sat 12:00' -q reports --trigger-time "$T0" Shown
JOBS_HOSTNAME=alpha "$E" --entry shown --calendar "$CAL" -q reports --trigger-time $((T0 + 900)) Shown >/dev/null
sjid=$(redis_cli HGET jobs:entry:shown jid)
s() { "$C" schedule --json | jq -r ".[0] | $1"; }
assert_eq "$(s '.entry + " " + .host + " " + .jid + " " + .class + " " + .queue')" "shown alpha $sjid Shown reports"
assert_eq "$(s '.last_occurrence')" "$((T0 + 900))" "last_occurrence"
assert_eq "$(s '.calendars | join("|")')" "$CAL" "calendars"
assert_eq "$(s '.outcome')" "enqueued"
# missed: two between the claims, and every 5 min since (overdue by more than a minute), at most 16 more
assert_eq "$(s '.missed_pending')" "16" "missed_pending (the last claim is a year old)"
assert_eq "$(s '.missed')" "18" "missed"
now=$(date +%s)
assert_eq "$(s "(.next_occurrence > $now and .next_occurrence <= $now + 300)")" "true" "next occurrence within 5 min"
payload=$(redis_cli LPOP queue:reports)
redis_cli ZADD retry 1 "$payload" >/dev/null
assert_eq "$(s '.outcome')" "retrying"
redis_cli DEL retry >/dev/null; redis_cli ZADD dead 1 "$payload" >/dev/null
assert_eq "$(s '.outcome')" "dead"
redis_cli DEL dead >/dev/null
redis_cli SADD processes "h:1:abc" >/dev/null
redis_cli HSET "h:1:abc" info '{"hostname":"h","concurrency":1,"queues":["reports"]}' beat "$now" busy 1 >/dev/null
redis_cli HSET "h:1:abc:work" t1 "$(jq -cn --arg p "$payload" '{queue:"reports",payload:$p,run_at:1}')" >/dev/null
assert_eq "$(s '.outcome')" "running"
redis_cli DEL "h:1:abc:work" >/dev/null
assert_eq "$(s '.outcome')" "unknown" "outcome once the job left Redis unrecorded"
redis_cli HSET jobs:entry:shown outcome done duration_usec 1500000 finished_at "$now.5" >/dev/null
assert_eq "$(s '.outcome + " " + (.duration | tostring)')" "done 1.5"
expect_exit 0 "$C" schedule
assert_match "$OUT" "shown +.* alpha +$sjid +done in 1s"
expect_exit 0 "$C" status
assert_match "$OUT" "Schedule: +1 entry, last claim .* by alpha \\(shown\\), 18 missed"
ok "jobsctl schedule and status show the entry, its job's outcome, next and missed occurrences"

# --- --trigger-time start: the occurrence of the moment the process was forked, not of its exec ---
# A process forked at F sleeps 2 s, then execs jobs-enqueue for an entry due every second: the
# occurrence it claims is F's second (the kernel records the fork in 10 ms ticks, rounded up), where
# "now" would have given one at least 2 s later. No timing assumption: F is bracketed by clock
# readings taken before the fork and inside the forked process.
t_before=$(date +%s.%N)
bash -c 'date +%s.%N > "$1"; sleep 2; exec "$2" -Q --entry forked --calendar "*:*:*" --trigger-time start Forked' \
        _ "$T/t_inside" "$E"
t_inside=$(cat "$T/t_inside")
occ=$(redis_cli HGET jobs:entry:forked last)
assert_eq "$(python3 -c "import math; o = $occ / 1e6; print(math.floor($t_before) <= o <= $t_inside + 0.011)")" "True" \
        "occurrence $occ of a process forked between $t_before and $t_inside"
expect_exit 64 "$E" --entry forked --calendar "*:*:*" --trigger-time soon Forked
assert_contains "$ERR" "--trigger-time also takes 'start'"
ok "--trigger-time start takes the occurrence of the process's fork"
