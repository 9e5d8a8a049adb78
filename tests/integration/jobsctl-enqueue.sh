#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl enqueue is jobs-enqueue: same options, same payload, same exit codes; --redis before the
# verb applies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start

jid=$("$C" enqueue --queue critical --retry 3 --args '[1, "two"]' Reports::Nightly)
assert_match "$jid" '^[0-9a-f]{24}$' "jid"
raw=$(redis_cli LINDEX queue:critical 0)
assert_eq "$(jq -c '[.class, .queue, .args, .retry, .jid]' <<<"$raw")" "[\"Reports::Nightly\",\"critical\",[1,\"two\"],3,\"$jid\"]"
assert_eq "$(redis_cli SMEMBERS queues)" critical
# the same keys, in the same order, as jobs-enqueue writes
jid2=$("$BIN/jobs-enqueue" --queue critical --retry 3 --args '[1, "two"]' Reports::Nightly)
raw2=$(redis_cli LINDEX queue:critical 0)
assert_eq "$(jq -r 'keys_unsorted | join(",")' <<<"$raw")" "$(jq -r 'keys_unsorted | join(",")' <<<"$raw2")" "same fields"
assert_eq "$(jq -c 'del(.jid, .created_at, .enqueued_at)' <<<"$raw")" "$(jq -c 'del(.jid, .created_at, .enqueued_at)' <<<"$raw2")"
[ "$jid" != "$jid2" ] || fail "same jid twice"
ok "enqueue writes what jobs-enqueue writes"

# scheduled
"$C" enqueue --in 1h Later >/dev/null
assert_eq "$(redis_cli ZCARD schedule)" 1
ok "enqueue --in"

# --redis before the verb, and after it (jobs-enqueue's own option)
url=$REDIS_URL
unset REDIS_URL
"$C" --redis "$url" enqueue First >/dev/null
"$C" enqueue --redis "$url" Second >/dev/null
assert_eq "$(redis_cli LLEN queue:default)" 2
ok "--redis either side of the verb"

# the same exit codes as jobs-enqueue
for args in "--args notjson X" "" "--queue a\ b X" "--retry maybe X"; do
        rc1=0; rc2=0
        eval "\"$C\" enqueue --redis \"$url\" $args" >/dev/null 2>&1 || rc1=$?
        eval "\"$BIN/jobs-enqueue\" --redis \"$url\" $args" >/dev/null 2>&1 || rc2=$?
        assert_eq "$rc1" "$rc2" "exit code for '$args'"
        [ "$rc1" != 0 ] || fail "'$args' was accepted"
done
rc1=0; "$C" enqueue --redis "unix://$T/nope.sock" X >/dev/null 2>&1 || rc1=$?
assert_eq "$rc1" 69 "Redis unreachable"
expect_exit 0 "$C" enqueue --help
assert_contains "$OUT" "--queue"
ok "errors and exit codes are jobs-enqueue's"
