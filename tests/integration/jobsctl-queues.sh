#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl queues and queue clear: size, latency (age of the oldest job), clear exactly one queue.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
E="$BIN/jobs-enqueue"

expect_exit 0 "$C" queues
assert_contains "$OUT" "0 queues listed, 0 jobs waiting."
expect_exit 0 "$C" queues --json
assert_eq "$OUT" "[]"

for i in 1 2 3; do "$E" --queue mail Mailer >/dev/null; done
"$E" --queue default Other >/dev/null
# the oldest job of "reports" was enqueued an hour ago (Sidekiq 7 float seconds) ...
old=$(($(date +%s) - 3600))
redis_cli LPUSH queue:reports "$(job_json "$(jid 1)" Reports reports "\"x\":1" | sed "s/\"enqueued_at\":1700000000.2/\"enqueued_at\":$old.5/")" >/dev/null
redis_cli SADD queues reports >/dev/null
# ... and "ms8" holds a Sidekiq 8 job: integer milliseconds
redis_cli LPUSH queue:ms8 "{\"class\":\"X\",\"args\":[],\"jid\":\"$(jid 2)\",\"queue\":\"ms8\",\"created_at\":$((old - 60))000,\"enqueued_at\":$((old - 60))000}" >/dev/null
redis_cli SADD queues ms8 >/dev/null

expect_exit 0 "$C" queues
assert_match "$(sed -n 1p <<<"$OUT")" '^QUEUE +SIZE +LATENCY +OLDEST$'
assert_match "$OUT" $'\n''default +1 ' "default row"
assert_match "$OUT" $'\n''mail +3 ' "mail row"
assert_match "$OUT" $'\n''reports +1 +(59min [0-9]+s|1h( [0-9]+min)?) ' "latency of an hour-old job"
assert_match "$OUT" $'\n''ms8 +1 +1h( [0-9]+min)? ' "Sidekiq 8 milliseconds"
assert_contains "$OUT" "4 queues listed, 6 jobs waiting."
expect_exit 0 "$C" queues --names
assert_eq "$OUT" "$(printf 'default\nmail\nms8\nreports')"
expect_exit 0 "$C" queues --json
assert_eq "$(jq -r 'map(.name + "=" + (.size|tostring)) | join(" ")' <<<"$OUT")" "default=1 mail=3 ms8=1 reports=1"
assert_eq "$(jq -r '.[] | select(.name == "reports") | (.latency > 3590 and .latency < 3700)' <<<"$OUT")" true
assert_eq "$(jq -r '.[] | select(.name == "ms8") | (.latency > 3650 and .latency < 3760)' <<<"$OUT")" true
assert_eq "$(jq -r '.[] | select(.name == "reports") | .oldest_enqueued_at' <<<"$OUT")" "$old.5"
ok "queues: sizes, latency (Sidekiq 7 and 8 times), --names, --json"

# queue clear: UNLINK queue:<q> + SREM queues <q>; nothing else changes
before=$(dump_except queue:mail queues)
expect_exit 0 "$C" queue clear mail
assert_eq "$OUT" "Deleted 3 jobs from queue mail."
assert_eq "$(redis_cli EXISTS queue:mail)" 0
assert_eq "$(redis_cli SMEMBERS queues | sort | tr '\n' ' ')" "default ms8 reports " "queues set"
assert_eq "$(dump_except queue:mail queues)" "$before" "nothing else changed"
expect_exit 66 "$C" queue clear mail
assert_contains "$ERR" "No queue 'mail'"
# an empty queue still listed in "queues" is cleared from the set
redis_cli SADD queues empty >/dev/null
expect_exit 0 "$C" queue clear empty --json
assert_eq "$(jq -c . <<<"$OUT")" '{"queue":"empty","deleted":0}'
assert_eq "$(redis_cli SISMEMBER queues empty)" 0
ok "queue clear removes exactly one queue"

expect_exit 64 "$C" queue clear 'bad name'
expect_exit 64 "$C" queue clear
expect_exit 64 "$C" queue drop default
expect_exit 64 "$C" queues extra
expect_exit 64 "$C" queues --limit 3
expect_exit 69 "$C" --redis "unix://$T/nope.sock" queues
expect_exit 64 "$C" --redis "http://x" queues
assert_contains "$ERR" "Invalid Redis URL in --redis"
REDIS_URL=bogus expect_exit 78 "$C" queues
assert_contains "$ERR" "REDIS_URL"
ok "errors"

# a Redis with a password: refused without it (77), fine with it in the URL or the credential
redis_stop
REDIS_AUTH=s3cret redis_start auth --requirepass s3cret
expect_exit 77 "$C" queues
assert_contains "$ERR" "password"
[[ "$ERR" != *s3cret* ]] || fail "the password appears in a message"
expect_exit 0 "$C" --redis "unix://$REDIS_SOCK?password=s3cret" queues --names
mkdir -p "$T/creds" && printf 's3cret\n' >"$T/creds/redis-password"
CREDENTIALS_DIRECTORY="$T/creds" expect_exit 0 "$C" queues --names
ok "passwords"
