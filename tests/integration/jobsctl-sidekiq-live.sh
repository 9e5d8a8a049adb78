#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl against a running real Sidekiq server (Debian's ruby-sidekiq): it sees its process, its
# heartbeat and the job it is running, jobs it pushed run there, its failures are shown and acted on,
# and quiet/stop through Redis reach it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

command -v sidekiq >/dev/null || fail "sidekiq is needed (apt-get install ruby-sidekiq)"
redis_start
cat >"$T/app.rb" <<'RUBY'
require "sidekiq"
class Slow
  include Sidekiq::Worker
  def perform(release)
    sleep 0.05 until File.exist?(release)
  end
end
class Failing
  include Sidekiq::Worker
  sidekiq_options retry: 3
  def perform(*) = raise(ArgumentError, "no such account")
end
RUBY
(cd "$T" && exec env REDIS_URL="unix://$REDIS_SOCK" sidekiq -r ./app.rb -c 2 -q default -q critical -g shop \
        >"$T/sidekiq.log" 2>&1) &
sk=$!
on_exit "kill -9 $sk 2>/dev/null; wait $sk 2>/dev/null"

one_process() { [ "$("$C" processes --json | jq length)" = 1 ]; }
wait_for "Sidekiq's heartbeat" 60 one_process
id=$("$C" processes --json | jq -r '.[0].identity')
assert_match "$id" "^$(hostname):" "identity"
expect_exit 0 "$C" processes --json
assert_eq "$(jq -r '.[0] | [.info.tag, .concurrency, .busy, .quiet] | map(tostring) | join(" ")' <<<"$OUT")" "shop 2 0 false"
expect_exit 0 "$C" processes
assert_match "$OUT" "$id +shop +(now|[0-9]+s ago) +0/2 +default,critical .* running"
ok "a real Sidekiq process is listed with its heartbeat"

# a job pushed by jobsctl enqueue runs in Sidekiq; while it runs it shows as busy
jid=$("$C" enqueue --args "[\"$T/release\"]" Slow)
busy_is() { [ "$("$C" status --json | jq -r '.busy | map(.job.jid) | join(" ")')" = "$1" ]; }
wait_for "Sidekiq to run our job" 60 busy_is "$jid"
expect_exit 0 "$C" status
assert_match "$OUT" "$jid +Slow +default +$id +(now|[0-9]+s ago)"
assert_match "$OUT" "Busy: +1 of 2 threads in 1 process"
touch "$T/release"
wait_for "the job to finish" 60 busy_is ""
processed() { [ "$("$C" status --json | jq .processed)" = 1 ]; }
wait_for "stat:processed" 30 processed
ok "a job enqueued by jobsctl runs in Sidekiq and shows as busy meanwhile"

# a failure lands in Sidekiq's retry set, in Sidekiq's format; jobsctl shows it and acts on it
fjid=$("$C" enqueue --retry 3 --args '[42]' Failing)
in_retries() { "$C" retries list --json | jq -e --arg j "$1" 'map(.jid) | index($j)' >/dev/null; }
wait_for "the failure in the retry set" 60 in_retries "$fjid"
expect_exit 0 "$C" retries show "$fjid"
assert_contains "$OUT" "Error: ArgumentError: no such account"
assert_match "$OUT" "Retry count: 0 \(retry: count, at most 3\)"
assert_match "$OUT" "Failed: .*\((now|[0-9]+s ago)\)"
expect_exit 0 "$C" retries kill "$fjid"
expect_exit 0 "$C" dead list --json
assert_eq "$(jq -r '.[0].jid + " " + .[0].job.error_class' <<<"$OUT")" "$fjid ArgumentError"
ok "Sidekiq's failures are shown and moved by jobsctl"

# quiet reaches it through <identity>-signals; its heartbeat then says quiet
expect_exit 0 "$C" quiet "$id"
is_quiet() { [ "$("$C" processes --json | jq -r '.[0].quiet')" = true ]; }
wait_for "Sidekiq to go quiet" 60 is_quiet
expect_exit 0 "$C" processes
assert_match "$OUT" "$id .* quiet"
ok "quiet reaches a real Sidekiq"

expect_exit 0 "$C" stop "$id"
sidekiq_gone() { ! kill -0 "$sk" 2>/dev/null; }
wait_for "Sidekiq to stop" 60 sidekiq_gone
no_process() { [ "$("$C" processes --json | jq length)" = 0 ]; }
wait_for "Sidekiq to unregister" 30 no_process
ok "stop reaches a real Sidekiq"
