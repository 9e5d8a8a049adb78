#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion for jobsctl: verbs, actions, options, queue names from Redis, worker identities.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

redis_start
"$BIN/jobs-enqueue" --queue mail X >/dev/null
"$BIN/jobs-enqueue" --queue reports X >/dev/null
redis_cli SADD processes host:1:aaaaaaaaaaaa >/dev/null
redis_cli HSET host:1:aaaaaaaaaaaa info '{"hostname":"host","pid":1}' beat "$(date +%s).5" >/dev/null

. "$JOBS_SOURCE_DIR/completion/jobsctl"
# complete WORDS...: COMPREPLY for the last word, as bash would compute it, space-separated and sorted.
complete_line() {
        COMP_WORDS=("$C" "$@")
        COMP_CWORD=$#
        COMPREPLY=()
        _jobsctl
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

assert_eq "$(complete_line "")" "check dead enqueue generate processes queue queues quiet retries run-now schedule scheduled status stop"
assert_eq "$(complete_line "re")" "retries"
assert_eq "$(complete_line --json=short "q")" "queue queues quiet"
assert_eq "$(complete_line "--no")" "--no-legend"
assert_eq "$(complete_line retries "")" "delete kill list retry show"
assert_eq "$(complete_line retries list "--c")" "--class"
assert_eq "$(complete_line queue "")" "clear"
assert_eq "$(complete_line queue clear "")" "mail reports"
assert_eq "$(complete_line queue clear "r")" "reports"
assert_eq "$(complete_line enqueue --queue "m")" "mail"
assert_eq "$(complete_line quiet "")" "host:1:aaaaaaaaaaaa"
# --redis on the line is used for the lookups
url=$REDIS_URL
REDIS_URL="unix://$T/nope.sock"
assert_eq "$(complete_line queue clear "")" ""
assert_eq "$(complete_line --redis "$url" queue clear "")" "mail reports"
# job ids of the set named on the line (dead kill: of the sets it takes jobs from)
redis_cli ZADD retry 1 "$(failed_json "$(jid 11)" A)" 2 "$(failed_json "$(jid 12)" A)" >/dev/null
redis_cli ZADD schedule 1 "$(job_json "$(jid 13)" A)" >/dev/null
assert_eq "$(complete_line --redis "$url" retries show "")" "$(jid 11) $(jid 12)"
assert_eq "$(complete_line --redis "$url" scheduled retry "")" "$(jid 13)"
assert_eq "$(complete_line --redis "$url" dead kill "")" "$(jid 11) $(jid 12) $(jid 13)"
assert_eq "$(complete_line --redis "$url" dead show "")" ""
ok "completion of verbs, actions, options, queues, identities and job ids"

# schedule entry names come from the installed jobs-*.timer units
mkdir -p "$T/units1" "$T/units2"
touch "$T/units1/jobs-nightly-report.timer" "$T/units1/jobs-nightly-report.service" "$T/units2/jobs-hourly.timer" \
        "$T/units2/other.timer" "$T/units2/jobs-hourly.timer"
export SYSTEMD_UNIT_PATH="$T/units1:$T/units2"
assert_contains "$(complete_line run-now "")" "hourly nightly-report"
assert_contains "$(complete_line run-now "n")" "nightly-report"
[[ "$(complete_line run-now "")" != *other* ]] || fail "a unit that is not ours is offered"
ok "run-now completes schedule entry names"
