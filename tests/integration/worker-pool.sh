#!/bin/bash
# SPDX-License-Identifier: MIT
# [Pool]s of long-lived handler processes (jobs-handler(7)): processes are reused, recycled after
# MaxJobsPerProcess=, a crash fails its job and the process comes back, a job past its timeout kills
# its process, a failure reply carries the error class and message, a handler speaking another
# protocol version is refused, a stop pushes back the job a process did not finish in time, and what
# a process writes on stdout and stderr is logged with the fields of the job it runs.
. "$(dirname "$0")/worker-lib.sh"

redis_start
mkdir -p "$T/ran"
export POOL_T="$T"
export JOBS_TEST_SECRET=worker-only
cat >"$T/h.py" <<'EOS'
#!/usr/bin/python3
import json, os, sys, time
d = os.environ["POOL_T"]
with open(d + "/env.%d" % os.getpid(), "w") as f:
    f.write("".join(k + "\n" for k in sorted(os.environ)))
reply = os.fdopen(3, "w", buffering=1)
print("ready in %s" % os.environ["JOBS_POOL"], file=sys.stderr, flush=True)
reply.write("jobs-handler %s\n" % os.environ.get("POOL_VERSION", "1"))
for line in sys.stdin:
    job = json.loads(line)
    c = job["class"]
    if c == "Crash" and not os.path.exists(d + "/fixed"):
        os._exit(3)
    if c in ("Sleep", "Hold"):
        open(d + "/sleeping", "w").close()
        time.sleep(600)
    if c == "Talk":
        print("talk to stdout " + job["jid"], flush=True)
        print("talk to stderr\r", file=sys.stderr, flush=True)
    if c == "Fail":
        reply.write("failed ArgumentError bad args %s\n" % json.dumps(job["args"]))
        continue
    with open(d + "/ran/" + job["jid"] + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(d + "/ran/" + job["jid"] + ".tmp", d + "/ran/" + job["jid"])
    reply.write("done\n")
EOS
chmod +x "$T/h.py"
cat >"$T/v2.sh" <<'EOS'
#!/bin/sh
POOL_VERSION=2 exec "$POOL_T/h.py"
EOS
chmod +x "$T/v2.sh"
cat >"$T/pool.conf" <<EOF
[Worker]
$WORKER_TEST_SETTINGS
PassEnvironment=POOL_T POOL_VERSION
Environment=POOL_GREETING=hello
ShutdownTimeoutSec=1s
[Pool]
Name=py
Class=Rec Crash Fail Hold Talk
ExecStart=$T/h.py
Size=2
[Pool]
Name=cycle
Class=Cyc*
ExecStart=$T/h.py
MaxJobsPerProcess=3
[Pool]
Name=slow
Class=Sleep Slow2
ExecStart=$T/h.py
TimeoutSec=1s
[Pool]
Name=future
Class=V2
ExecStart=$T/v2.sh
[Pool]
Name=example
Class=Say*
ExecStart=$JOBS_SOURCE_DIR/adapters/example-handler.py
EOF

ran() { [ -e "$T/ran/$1" ]; }
all_ran() { local j; for j in $(cat "$1"); do ran "$j" || return 1; done; }
pids_of() { local j; for j in $(cat "$1"); do cat "$T/ran/$j"; done | sort -u | wc -l; }

start_worker w -C "$T/pool.conf" -c 4
: >"$T/rec"
for i in $(seq 20); do "$E" --args "[$i]" Rec >>"$T/rec"; done
wait_for "20 Rec jobs" 60 all_ran "$T/rec"
n=$(pids_of "$T/rec")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "20 jobs ran in $n processes, expected the pool's 2"
ok "a pool of 2 runs 20 jobs in its 2 long-lived processes"

# What a pool process sees: the handlers' allowlist, [Worker]'s Environment= and PassEnvironment=,
# the protocol's variables; never the worker's REDIS_URL (set for it by the test) or credentials.
env_file=$(ls "$T"/env.* | head -1)
for v in PATH POOL_T POOL_GREETING JOBS_POOL JOBS_HANDLER_PROTOCOL; do
        grep -qx "$v" "$env_file" || fail "$v missing from a pool process's environment"
done
for v in REDIS_URL CREDENTIALS_DIRECTORY NOTIFY_SOCKET JOBS_TEST_SECRET; do
        ! grep -qx "$v" "$env_file" || fail "$v leaked into a pool process's environment"
done
ok "pool processes get the handlers' allowlisted environment, not the worker's"

# Output: what a process wrote before its answer is the job's (read before the job ends), lines
# between jobs carry the pool only.
talk=$("$E" Talk)
wait_log w "Finished Talk job $talk"
log_has w "^jobs-worker: talk to stdout $talk JOB_JID=$talk JOB_ID=$talk JOB_CLASS=Talk JOB_QUEUE=default JOB_RETRY_COUNT=0 JOB_HANDLER_STREAM=stdout JOB_POOL=py\$" ||
        fail "the stdout line of a pool job is not logged with the job's fields: $(grep 'talk to stdout' "$T/w.log")"
log_has w "^jobs-worker: talk to stderr JOB_JID=$talk JOB_ID=$talk JOB_CLASS=Talk .*JOB_HANDLER_STREAM=stderr JOB_POOL=py\$" ||
        fail "the stderr line of a pool job is not logged with the job's fields: $(grep 'talk to stderr' "$T/w.log")"
log_has w "^jobs-worker: ready in py JOB_HANDLER_STREAM=stderr JOB_POOL=py\$" ||
        fail "a pool process's line outside a job: $(grep 'ready in py' "$T/w.log")"
ok "a pool process's stdout and stderr lines carry its job's fields (JOB_CLASS, JOB_ID, JOB_QUEUE) and JOB_POOL"

: >"$T/cyc"
for i in $(seq 9); do "$E" --args "[$i]" Cycle >>"$T/cyc"; done
wait_for "9 Cycle jobs" 60 all_ran "$T/cyc"
assert_eq "$(pids_of "$T/cyc")" 3 "processes of a pool of 1 with MaxJobsPerProcess=3 for 9 jobs"
ok "MaxJobsPerProcess=3 recycles the process every 3 jobs"

fail_jid=$("$E" --args '["x", 1]' Fail)
wait_for "the Fail job in retry" 30 key_is 1 ZCARD retry
m=$(redis_cli ZRANGE retry 0 -1)
assert_eq "$(json "$m" 'd["jid"]')" "$fail_jid" "the failed job"
assert_eq "$(json "$m" 'd["error_class"]')" ArgumentError "error_class of a failed reply"
assert_eq "$(json "$m" 'd["error_message"]')" 'bad args ["x", 1]' "error_message of a failed reply"
ok "\"failed CLASS MESSAGE\" on fd 3 becomes the retry entry's error_class and error_message"

crash_jid=$("$E" Crash)
wait_for "the Crash job in retry" 30 key_is 2 ZCARD retry
m=$(redis_cli ZRANGE retry 0 -1 | grep "$crash_jid")
assert_eq "$(json "$m" 'd["error_class"]')" HandlerExitError "error_class of a crash"
assert_contains "$(json "$m" 'd["error_message"]')" "pool py exited with status 3 while running the job"
after=$("$E" Rec)
wait_for "a Rec job after the crash" 30 ran "$after"
wait_log w "Pool py, process .* exited with status 3; starting it again in"
ok "a crash fails the job (HandlerExitError) and the process is started again"

sleep_jid=$("$E" Sleep)
wait_for "the Sleep job in retry" 30 key_is 3 ZCARD retry
m=$(redis_cli ZRANGE retry 0 -1 | grep "$sleep_jid")
assert_eq "$(json "$m" 'd["error_class"]')" HandlerTimeout "error_class past the timeout"
after=$("$E" Slow2)
wait_for "a job of the pool after the timeout" 30 ran "$after"
ok "a job past the pool's TimeoutSec= kills its process (HandlerTimeout); the pool serves the next job"

# The shipped Python example prints the class and the arguments (an ActiveJob job's too) and
# answers done.
"$E" --args '["world", 1]' SayHello >/dev/null
"$E" --active-job --args '[{"to": "you"}]' SayGoodbye >/dev/null
wait_log w 'SayHello\["world", 1\]'
wait_log w 'SayGoodbye\[{"to": "you", "_aj_symbol_keys": \[\]}\]'
for c in SayHello SayGoodbye; do
        wait_log w "JOB_CLASS=$c.*JOB_STATUS=done\|JOB_STATUS=done.*JOB_CLASS=$c"
done
ok "the Python example handler (adapters/example-handler.py) runs jobs and ActiveJob jobs"

v2_jid=$("$E" V2)
wait_log w "Pool future, process 0 (pid [0-9]*): it speaks version 2 of the protocol, this worker speaks 1; killing it."
! ran "$v2_jid" || fail "a handler speaking another protocol version got a job"
ok "a handler answering the handshake with another version is refused"

# Stop: the V2 job never had a process, the Hold job's process (a pool without a job timeout) does not
# finish within the shutdown timeout of 1s: both go back to their queue.
rm -f "$T/sleeping"
redis_cli DEL retry >/dev/null
s2=$("$E" Hold)
wait_for "the Hold job to start" 30 test -e "$T/sleeping"
stop_worker "$WORKER_PID"
q=$(redis_cli LRANGE queue:default 0 -1)
assert_contains "$q" "$s2" "queue after the stop"
assert_contains "$q" "$v2_jid" "queue after the stop"
log_has w "killed 1 handler(s); their jobs go back to their queues" || fail "no kill at the shutdown timeout in the log"
ok "a stop pushes back the job its process did not finish in time, and the one waiting for a process"
