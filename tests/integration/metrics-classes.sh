#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl metrics per class and per schedule entry: jobs-worker counts each class's runs, failures
# and run times (a histogram) in Redis as they end, and the schedule's entries show their last
# occurrence, its outcome and missed occurrences; promtool accepts the exposition.
. "$(dirname "$0")/worker-lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

command -v promtool >/dev/null || fail "promtool is needed (package prometheus)"
redis_start
handler Quick <<'EOF2'
exit 0
EOF2
handler Boom <<'EOF2'
exit 1
EOF2
start_worker w
# an entry of the schedule, as its timer would enqueue it
"$E" --entry tick --calendar '*:0/5' --quiet Quick
for _ in 1 2; do "$E" --quiet Quick; done
"$E" --quiet --retry false Boom
wait_for "3 Quick jobs processed" 30 key_is 3 HGET jobs:class:Quick processed
wait_for "Boom counted" 30 key_is 1 HGET jobs:class:Boom failed

expect_exit 0 "$C" metrics
promtool check metrics <<<"$OUT" || fail "promtool check metrics refused the output: $OUT"
assert_contains "$OUT" $'\njobs_class_processed_total{class="Quick"} 3\n'
assert_contains "$OUT" $'\njobs_class_failed_total{class="Quick"} 0\n'
assert_contains "$OUT" $'\njobs_class_processed_total{class="Boom"} 1\n'
assert_contains "$OUT" $'\njobs_class_failed_total{class="Boom"} 1\n'
assert_contains "$OUT" $'\njobs_class_duration_seconds_bucket{class="Quick",le="+Inf"} 3\n'
assert_contains "$OUT" $'\njobs_class_duration_seconds_count{class="Quick"} 3'
assert_contains "$OUT" $'# TYPE jobs_class_duration_seconds histogram\n'
# the buckets are cumulative and every run is in the last one
buckets=$(grep '^jobs_class_duration_seconds_bucket{class="Quick"' <<<"$OUT" | awk '{print $2}' | tr '\n' ' ')
sort -n -c <<<"$(tr ' ' '\n' <<<"$buckets" | grep .)" || fail "buckets not cumulative: $buckets"
ok "per class: processed, failed and a run-time histogram recorded by the worker"

wait_for "the entry's outcome" 30 sh -c "'$C' --json schedule | jq -e '.[0].outcome == \"done\"' >/dev/null"
expect_exit 0 "$C" metrics
promtool check metrics <<<"$OUT" || fail "promtool check metrics refused the output: $OUT"
assert_match "$OUT" $'\njobs_schedule_last_occurrence_timestamp_seconds\\{entry="tick"\\} [0-9]+\\.[0-9]{3}\n'
assert_contains "$OUT" $'\njobs_schedule_last_outcome{entry="tick",outcome="done"} 1\n'
assert_contains "$OUT" $'\njobs_schedule_missed{entry="tick"} 0\n'
ok "per schedule entry: last occurrence, its outcome, missed occurrences"
