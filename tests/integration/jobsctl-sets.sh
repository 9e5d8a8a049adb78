#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl retries|dead|scheduled: list, show, retry, delete, kill change exactly what Sidekiq's API
# changes for the same action, and nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
now=$(date +%s)

# retry set: 3 jobs of two classes; schedule: 2; dead: 2 (one not even JSON, as Sidekiq allows)
redis_cli ZADD retry $((now + 60)).5 "$(failed_json "$(jid 1)" Billing::Charge default 2)" >/dev/null
redis_cli ZADD retry $((now + 120)).5 "$(failed_json "$(jid 2)" Mailer critical 0)" >/dev/null
redis_cli ZADD retry $((now + 180)).5 "$(failed_json "$(jid 3)" Billing::Charge default 5)" >/dev/null
redis_cli ZADD schedule $((now + 3600)).25 "$(job_json "$(jid 4)" Reports::Nightly reports)" >/dev/null
redis_cli ZADD schedule $((now + 7200)).25 "$(job_json "$(jid 5)" Mailer)" >/dev/null
redis_cli ZADD dead $((now - 3600)).75 "$(failed_json "$(jid 6)" Billing::Charge default 25)" >/dev/null
redis_cli ZADD dead $((now - 7200)).75 'this is not json' >/dev/null
redis_cli SET unrelated keep >/dev/null
redis_cli LPUSH queue:other "$(job_json "$(jid 99)" Other other)" >/dev/null
redis_cli SADD queues other >/dev/null

# --- list -------------------------------------------------------------------------------------
expect_exit 0 "$C" retries list
assert_match "$(sed -n 1p <<<"$OUT")" '^NEXT RETRY +LEFT +JID +CLASS +QUEUE +RETRIES +ERROR$' "header"
assert_eq "$(grep -c '^[A-Z][a-z][a-z] 20' <<<"$OUT")" 3 "three rows"
# soonest first
assert_eq "$(grep -o '0000000000000000000000[0-9]\{2\}' <<<"$OUT" | tr '\n' ' ')" "$(jid 1) $(jid 2) $(jid 3) " "order"
assert_contains "$OUT" "NoMethodError: undefined method for nil"
assert_contains "$OUT" "3 jobs listed."
expect_exit 0 "$C" retries list --class Billing::Charge --no-legend
assert_eq "$(wc -l <<<"$OUT")" 2 "--class rows"
assert_contains "$OUT" "$(jid 3)"
expect_exit 0 "$C" retries list --limit 1
assert_contains "$OUT" "1 of 3 jobs shown"
expect_exit 0 "$C" dead list
assert_contains "$OUT" "invalid JSON"
# latest first
assert_match "$(sed -n 2p <<<"$OUT")" "$(jid 6)" "dead: latest first"
expect_exit 0 "$C" scheduled list
assert_contains "$OUT" '[1,"two"]'
ok "list: tables, order, --class, --limit"

# --json parsed back
expect_exit 0 "$C" retries list --json
assert_eq "$(jq -r 'length' <<<"$OUT")" 3 "json length"
assert_eq "$(jq -r '.[0].jid' <<<"$OUT")" "$(jid 1)"
assert_eq "$(jq -r '.[0].class' <<<"$OUT")" "Billing::Charge"
assert_eq "$(jq -r '.[1].queue' <<<"$OUT")" "critical"
assert_eq "$(jq -r '.[0].job.retry_count' <<<"$OUT")" 2
assert_eq "$(jq -r '.[0].at | floor' <<<"$OUT")" "$((now + 60))"
expect_exit 0 "$C" --json=short dead list --class Billing::Charge
assert_eq "$(jq -r 'map(.jid) | join(",")' <<<"$OUT")" "$(jid 6)"
expect_exit 0 "$C" dead list --json
assert_eq "$(jq -r '.[1].job' <<<"$OUT")" "this is not json" "invalid member shown as a string"
ok "list --json parses back"

# --- show -------------------------------------------------------------------------------------
expect_exit 0 "$C" retries show "$(jid 1)"
assert_contains "$OUT" "Billing::Charge"
assert_match "$OUT" 'Next retry: [A-Z][a-z][a-z] 20[0-9-]+ [0-9:]+ [A-Z]+ \(([0-9]+s|1min) left\)'
assert_match "$OUT" 'Failed: .*2023-11-14.*ago\)'
assert_contains "$OUT" 'Args: [1,"two"]'
assert_contains "$OUT" "Error: NoMethodError: undefined method for nil"
expect_exit 0 "$C" retries show "$(jid 1)" --json
assert_eq "$(jq -r .job.error_class <<<"$OUT")" NoMethodError
expect_exit 66 "$C" retries show "$(jid 4)"
assert_contains "$ERR" "No job $(jid 4) in the retry set"
expect_exit 66 "$C" retries show 'bad*jid'   # any text is a jid; a glob character matches itself only
expect_exit 64 "$C" retries show "$(printf 'x%.0s' $(seq 65))"   # longer than a jid can be
expect_exit 64 "$C" retries show
expect_exit 64 "$C" retries frobnicate
# data from Redis cannot drive the terminal: escape sequences and newlines are replaced
redis_cli ZADD retry $((now + 9000)).5 "$(job_json "$(jid 80)" Evil default '"error_class":"X","error_message":"a\u001b]0;pwned\u0007b\nc"')" >/dev/null
expect_exit 0 "$C" retries list
[[ "$OUT" != *$'\e'* && "$OUT" != *$'\a'* ]] || fail "control characters reached the terminal"
assert_contains "$OUT" "X: a?]0;pwned?b c"
expect_exit 0 "$C" retries show "$(jid 80)"
[[ "$OUT" != *$'\e'* ]] || fail "control characters reached the terminal"
expect_exit 0 "$C" retries delete "$(jid 80)"
ok "show, and its errors"

# --- retry one: ZREM from retry + LPUSH to its queue with a fresh enqueued_at, retry_count - 1 --
before_other=$(dump_except retry queue:critical queues)
member=$(redis_cli ZRANGEBYSCORE retry $((now + 120)) $((now + 121)))
t0=$(date +%s.%N)
expect_exit 0 "$C" retries retry "$(jid 2)"
t1=$(date +%s.%N)
assert_contains "$OUT" "Moved job $(jid 2) (Mailer) to queue critical."
assert_eq "$(zcard retry)" 2 "retry set size"
assert_eq "$(redis_cli ZSCORE retry "$member")" "" "member gone"
assert_eq "$(llen critical)" 1 "queue:critical"
assert_eq "$(redis_cli SISMEMBER queues critical)" 1 "queues set"
pushed=$(redis_cli LINDEX queue:critical 0)
assert_eq "$(jq -r .jid <<<"$pushed")" "$(jid 2)"
assert_eq "$(jq -r .retry_count <<<"$pushed")" "-1" "retry_count decremented as Sidekiq's SortedEntry#retry"
assert_eq "$(jq -r "(.enqueued_at >= $t0 - 0.001) and (.enqueued_at <= $t1 + 0.001)" <<<"$pushed")" true "fresh enqueued_at"
assert_match "$pushed" '"enqueued_at":[0-9]+\.[0-9]+' "enqueued_at stays a float"
# everything else in the job is kept as it was
assert_eq "$(jq -c 'del(.enqueued_at, .retry_count)' <<<"$pushed")" "$(jq -c 'del(.enqueued_at, .retry_count)' <<<"$member")"
assert_eq "$(dump_except retry queue:critical queues)" "$before_other" "nothing else changed"
expect_exit 66 "$C" retries retry "$(jid 2)"
ok "retry JID moves exactly that job"

# --- delete one --------------------------------------------------------------------------------
before_other=$(dump_except retry)
expect_exit 0 "$C" retries delete "$(jid 3)" --json
assert_eq "$(jq -r '.action + " " + .set + " " + (.count|tostring) + " " + .jids[0]' <<<"$OUT")" "delete retry 1 $(jid 3)"
assert_eq "$(zcard retry)" 1
assert_eq "$(redis_cli ZRANGE retry 0 -1 | jq -r .jid)" "$(jid 1)" "the other one stays"
assert_eq "$(dump_except retry)" "$before_other" "nothing else changed"
ok "delete JID removes exactly that job"

# --- kill: retries kill moves it to dead (unchanged payload, score now) -----------------------
member=$(redis_cli ZRANGE retry 0 0)
before_other=$(dump_except retry dead)
t0=$(date +%s)
expect_exit 0 "$C" retries kill "$(jid 1)"
t1=$(date +%s)
assert_contains "$OUT" "to the dead set"
assert_eq "$(zcard retry)" 0
assert_eq "$(zcard dead)" 3
score=$(redis_cli ZSCORE dead "$member")
assert_eq "$(jq -n "$score >= $t0 - 1 and $score <= $t1 + 1")" true "dead score $score is the time of the kill [$t0, $t1]"
assert_eq "$(dump_except retry dead)" "$before_other" "nothing else changed"
# dead kill JID finds it in the schedule
expect_exit 0 "$C" dead kill "$(jid 5)"
assert_eq "$(zcard schedule)" 1
assert_eq "$(zcard dead)" 4
expect_exit 66 "$C" dead kill "$(jid 5)"
assert_contains "$ERR" "No job $(jid 5) in the retry set or the schedule"
ok "kill moves to dead"

# --- scheduled retry = add to queue now: no retry_count change ---------------------------------
expect_exit 0 "$C" scheduled retry "$(jid 4)"
assert_eq "$(zcard schedule)" 0
pushed=$(redis_cli LINDEX queue:reports 0)
assert_eq "$(jq -r '.jid + " " + (has("retry_count")|tostring)' <<<"$pushed")" "$(jid 4) false"
assert_eq "$(redis_cli SISMEMBER queues reports)" 1
ok "scheduled retry enqueues now"

# --- dead retry: back to its queue; the invalid member cannot be retried and stays -------------
redis_cli DEL queue:default >/dev/null
before_other=$(dump_except dead queue:default queues)
expect_exit 0 "$C" dead retry --all --json
assert_eq "$(jq -r .count <<<"$OUT")" 3 "three retried"
assert_eq "$(jq -r .skipped <<<"$OUT")" 1 "one skipped"
assert_eq "$(zcard dead)" 1 "the invalid member stays"
assert_eq "$(redis_cli ZRANGE dead 0 -1)" "this is not json"
assert_eq "$(llen default)" 3
assert_eq "$(redis_cli LRANGE queue:default 0 -1 | jq -r .retry_count | sort -n | tr '\n' ' ')" "null 1 24 " "each decremented once (the killed scheduled job had none)"
assert_eq "$(dump_except dead queue:default queues)" "$before_other" "nothing else changed"
ok "dead retry --all"

# --- --all with --class, on a bigger set (more than one batch) ---------------------------------
redis_cli DEL queue:default >/dev/null
# No process per entry (a fork costs tens of ms on a loaded machine): the jid as jid() makes it,
# the payload in single quotes, which redis-cli takes as they are (it has none)
for i in $(seq 100 349); do
        c=A; [ $((i % 2)) = 0 ] && c=B
        printf -v j '%024x' "$i"
        printf "ZADD retry %s.5 '" "$((now + i))"; failed_json "$j" "$c" default 1; echo "'"
done | redis_cli >/dev/null
assert_eq "$(zcard retry)" 250
expect_exit 0 "$C" retries retry --all --class B
assert_contains "$OUT" "Moved 125 jobs from the retry set to their queues."
assert_eq "$(zcard retry)" 125
assert_eq "$(llen default)" 125
assert_eq "$(redis_cli LRANGE queue:default 0 -1 | jq -r .class | sort -u)" B
assert_eq "$(redis_cli ZRANGE retry 0 -1 | jq -r .class | sort -u)" A
expect_exit 0 "$C" retries kill --all --class A --json
assert_eq "$(jq -r .count <<<"$OUT")" 125
assert_eq "$(zcard retry)" 0
assert_eq "$(zcard dead)" 126
expect_exit 0 "$C" dead delete --all --class A
assert_contains "$OUT" "Deleted 125 jobs from the dead set."
assert_eq "$(zcard dead)" 1
before_other=$(dump_except dead)
expect_exit 0 "$C" dead delete --all
assert_contains "$OUT" "Deleted 1 job from the dead set."
assert_eq "$(redis_cli EXISTS dead)" 0
assert_eq "$(dump_except dead)" "$before_other" "nothing else changed"
assert_eq "$(redis_cli GET unrelated)" keep
ok "--all, --class, batches"

# --- usage errors -----------------------------------------------------------------------------
expect_exit 64 "$C" retries retry
expect_exit 64 "$C" retries retry "$(jid 1)" --all
expect_exit 64 "$C" retries delete "$(jid 1)" --class A
expect_exit 64 "$C" retries list --limit 0
expect_exit 64 "$C" retries list --limit many
expect_exit 64 "$C" dead kill --all
expect_exit 64 "$C" retries list --names
expect_exit 69 "$C" --redis "unix://$T/nope.sock" retries list
assert_contains "$ERR" "Cannot reach Redis"
ok "usage errors"

# --- a unique jid prefix ------------------------------------------------------------------------
redis_cli ZADD retry $((now + 60)).5 "$(failed_json abc111aaaaaaaaaaaaaaaaaa Prefix default 1)" >/dev/null
redis_cli ZADD retry $((now + 61)).5 "$(failed_json abc222aaaaaaaaaaaaaaaaaa Prefix default 1)" >/dev/null
expect_exit 0 "$C" retries show abc1
assert_contains "$OUT" "abc111aaaaaaaaaaaaaaaaaa Prefix"
expect_exit 65 "$C" retries show abc
assert_contains "$ERR" "'abc' is the start of several job ids in the retry set: "
assert_contains "$ERR" "abc111aaaaaaaaaaaaaaaaaa"
assert_contains "$ERR" "abc222aaaaaaaaaaaaaaaaaa"
expect_exit 65 "$C" retries delete abc
assert_eq "$(zcard retry)" 2 "nothing deleted by an ambiguous prefix"
expect_exit 0 "$C" retries delete abc2 --json
assert_eq "$(jq -r '.jids[0]' <<<"$OUT")" abc222aaaaaaaaaaaaaaaaaa "the whole jid reported"
expect_exit 0 "$C" retries retry abc1
assert_contains "$OUT" "Moved job abc111aaaaaaaaaaaaaaaaaa (Prefix) to queue default."
expect_exit 66 "$C" retries show abc
ok "show/retry/delete take a unique jid prefix; an ambiguous one names the candidates, exit 65"

# --- destructive --all on a terminal asks first ---------------------------------------------------
redis_cli ZADD dead $((now - 5)).5 "$(failed_json abc333aaaaaaaaaaaaaaaaaa Confirm default 25)" >/dev/null
# script(1) gives jobsctl a terminal on stdin; the answer is typed into it
out=$(printf 'n\n' | script -qec "'$C' dead delete --all; echo rc=\$?" /dev/null)
assert_contains "$out" "Delete every job in the dead set? [y/N]"
assert_contains "$out" "Nothing changed."
assert_contains "$out" "rc=1"
assert_eq "$(zcard dead)" 1 "no is no"
out=$(printf 'y\n' | script -qec "'$C' dead delete --all --class Confirm; echo rc=\$?" /dev/null)
assert_contains "$out" "Delete every job of class Confirm in the dead set? [y/N]"
assert_contains "$out" "rc=0"
assert_eq "$(zcard dead)" 0 "yes deletes"
redis_cli ZADD dead $((now - 5)).5 "$(failed_json abc333aaaaaaaaaaaaaaaaaa Confirm default 25)" >/dev/null
out=$(script -qec "'$C' dead delete --all --yes; echo rc=\$?" /dev/null </dev/null)
[[ "$out" != *"[y/N]"* ]] || fail "--yes still asked: $out"
assert_contains "$out" "rc=0"
assert_eq "$(zcard dead)" 0 "--yes deletes without asking"
ok "delete/kill --all ask on a terminal; --yes skips; no terminal, no question (the tests above)"
