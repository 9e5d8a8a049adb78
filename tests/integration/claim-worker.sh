#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-worker records done or failed and the run time on the entry of a fleet entry's last job,
# and jobsctl schedule shows it; a job that is no longer the entry's last leaves the record alone.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Good <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
handler Bad <<'EOF2'
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
exit 3
EOF2
CAL='*:0/5'
T0=1764600000
C="$BIN/jobsctl"
s() { "$C" schedule --json | jq -r ".[] | select(.entry == \"$1\") | $2"; }

start_worker w1
good=$(JOBS_HOSTNAME=alpha "$E" --entry good --calendar "$CAL" --trigger-time "$T0" --retry false Good)
bad=$(JOBS_HOSTNAME=alpha "$E" --entry bad --calendar "$CAL" --trigger-time "$T0" --retry 2 Bad)
wait_log w1 "Finished Good job $good"
wait_log w1 "Bad job $bad failed"
recorded() { [ -n "$(redis_cli HGET "jobs:entry:$1" outcome)" ]; }
wait_for "the outcome of good" 30 recorded good
wait_for "the outcome of bad" 30 recorded bad
assert_eq "$(s good '.outcome + " " + .jid')" "done $good"
assert_eq "$(s good '.duration > 0 and .finished_at > 0')" "true" "duration and finish time of good"
# the failed job waits in the retry set: that is what is shown; the record says failed
assert_eq "$(s bad '.outcome')" "retrying"
assert_eq "$(redis_cli HGET jobs:entry:bad outcome)" "failed"
ok "the worker records done and failed with the run time; jobsctl schedule shows them"

# a job that is not the entry's last one (a newer occurrence was claimed) records nothing
stop_worker "$WORKER_PID"
old=$(JOBS_HOSTNAME=alpha "$E" --entry good --calendar "$CAL" --trigger-time $((T0 + 300)) Good)
redis_cli HSET jobs:entry:good jid 000000000000000000000000 >/dev/null
start_worker w2
wait_log w2 "Finished Good job $old"
stop_worker "$WORKER_PID"
assert_eq "$(redis_cli HGET jobs:entry:good outcome)" "" "outcome of an entry whose last job is another"
ok "only the entry's last job is recorded"
