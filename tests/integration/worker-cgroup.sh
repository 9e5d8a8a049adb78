#!/bin/bash
# SPDX-License-Identifier: MIT
# A cgroup per job, in a cgroup v2 directory given as the worker's delegated one ($JOBS_CGROUP_ROOT,
# as a test may; under systemd it is the service's own with Delegate=yes): the worker moves into its
# leaf, each job gets job-<class>-<jid>, and nothing a handler started (setsid, double fork) survives
# the job's end or its timeout; cgroups a dead worker left are killed at start. Each process of a
# [Pool] runs in pool-<name>-<n>, killed whole when the process is recycled, killed for a timeout, or
# the worker stops. Needs root and a
# writable cgroup v2 hierarchy, else skipped. The booted system test covers the systemd side.
. "$(dirname "$0")/worker-lib.sh"

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
CG="$cg2${own%/}/jobs-test-$$"
if [ "$(id -u)" != 0 ] || [ -z "$cg2" ] || ! mkdir "$CG" 2>/dev/null; then
        echo "ok # SKIP needs root and a writable cgroup v2 hierarchy"
        exit 0
fi
cg_cleanup() {
        local d
        for d in "$CG"/*/; do
                [ -d "$d" ] || continue
                echo 1 >"$d/cgroup.kill" 2>/dev/null || true
                # the test's shell may be in the worker's leaf no more: it only started the worker
                for _ in $(seq 100); do rmdir "$d" 2>/dev/null && break; sleep 0.05; done
        done
        rmdir "$CG" 2>/dev/null || true
}
on_exit cg_cleanup

redis_start
handler Orphan <<'EOF2'
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo $! >"$JOBS_TEST_MARK/orphan-$JOB_ID"
( sleep 1000 & ) </dev/null >/dev/null 2>&1
echo started
EOF2
handler Hang <<'EOF2'
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo $! >"$JOBS_TEST_MARK/orphan-$JOB_ID"
echo "$(cat /proc/self/cgroup)" >"$JOBS_TEST_MARK/cgroup-$JOB_ID"
sleep 1000
EOF2
# A pool handler: for each job, a setsid child that would outlive it (its pid in orphan-<jid>) and
# its cgroup in cgroup-<jid>; "PoolHang" jobs never answer.
cat >"$T/pool.sh" <<'EOF2'
#!/bin/bash
echo "jobs-handler 1" >&3
while read -r line; do
        [[ "$line" =~ \"jid\":\ *\"([0-9a-f]+)\" ]] || exit 2
        jid=${BASH_REMATCH[1]}
        setsid sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
        echo $! >"$JOBS_TEST_MARK/orphan-$jid"
        sed -n 's/^0:://p' /proc/self/cgroup >"$JOBS_TEST_MARK/cgroup-$jid"
        [[ "$line" != *'"PoolHang"'* ]] || sleep 1000
        echo done >&3
done
EOF2
chmod +x "$T/pool.sh"
cat >"$T/worker.conf" <<EOF2
[Worker]
$WORKER_TEST_SETTINGS
PassEnvironment=JOBS_TEST_MARK
Timeout=Hang 1s
[Pool]
Name=recycled
Class=PoolOnce
ExecStart=$T/pool.sh
MaxJobsPerProcess=1
[Pool]
Name=hang
Class=PoolHang
ExecStart=$T/pool.sh
TimeoutSec=1s
[Pool]
Name=long
Class=PoolStay
ExecStart=$T/pool.sh
EOF2

# What a dead worker left: a job cgroup with a process in it.
mkdir "$CG/job-Old-leftover"
sleep 1000 &
LEFT=$!
echo "$LEFT" >"$CG/job-Old-leftover/cgroup.procs"

JOBS_CGROUP_ROOT="$CG" start_worker w -C "$T/worker.conf"
wait_log w "Running each job in a cgroup of its own under $CG"
grep -qx "$WORKER_PID" "$CG/worker/cgroup.procs" || fail "the worker is not in its leaf: $(cat "$CG/worker/cgroup.procs")"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for "the leftover's process to be killed" 30 gone "$LEFT"
wait "$LEFT" 2>/dev/null || true
wait_for "the leftover cgroup to be removed" 30 test ! -d "$CG/job-Old-leftover"
ok "the worker moved into its leaf cgroup and killed and removed a dead worker's job cgroup"

no_job_cgroups() { ! ls -d "$CG"/job-* >/dev/null 2>&1; }
jid=$("$E" Orphan)
wait_log w "Finished Orphan job $jid in .*JOB_CPU_USEC=[0-9]"
orphan=$(cat "$T/orphan-$jid")
wait_for "the handler's setsid child to be killed" 30 gone "$orphan"
wait_for "the job's cgroup to be removed" 30 no_job_cgroups
ok "a handler's setsid and double-forked children die with its job; JOB_CPU_USEC on the finish line"

jid=$("$E" Hang)
wait_log w "Hang job $jid failed: HandlerTimeout"
grep -q "^0::.*/jobs-test-$$/job-Hang-$jid\$" "$T/cgroup-$jid" || fail "not in its job cgroup: $(cat "$T/cgroup-$jid")"
wait_for "the timed-out handler's setsid child to be killed" 30 gone "$(cat "$T/orphan-$jid")"
wait_for "the job's cgroup to be removed" 30 no_job_cgroups
ok "a timeout kills the whole job cgroup job-<class>-<jid>"

# Pools: each process in pool-<name>-<n>, where systemd-cgls shows it.
in_pool_cgroup() { grep -qx ".*/jobs-test-$$/pool-$2-0" "$T/cgroup-$1" || fail "not in pool-$2-0: $(cat "$T/cgroup-$1")"; }
alive() { kill -0 "$1" 2>/dev/null; }
jid=$("$E" PoolOnce)
wait_log w "Finished PoolOnce job $jid in"
in_pool_cgroup "$jid" recycled
wait_for "the recycled process's setsid child to be killed" 30 gone "$(cat "$T/orphan-$jid")"
# (named pool-recycled-0-2 while the old one is still being removed)
fresh_process() { cat "$CG"/pool-recycled-0*/cgroup.procs 2>/dev/null | grep -q .; }
wait_for "a fresh process of the recycled pool in its cgroup" 30 fresh_process
ok "a pool process runs in pool-<name>-<n>; what it started dies when it is recycled (MaxJobsPerProcess=)"

jid=$("$E" PoolHang)
wait_log w "PoolHang job $jid failed: HandlerTimeout"
in_pool_cgroup "$jid" hang
wait_for "the timed-out pool process's setsid child to be killed" 30 gone "$(cat "$T/orphan-$jid")"
ok "a pool process killed for a job's timeout takes what it started with it"

jid=$("$E" PoolStay)
wait_log w "Finished PoolStay job $jid in"
in_pool_cgroup "$jid" long
stay=$(cat "$T/orphan-$jid")
alive "$stay" || fail "the long-lived pool process's child is gone while the process still runs"
stop_worker "$WORKER_PID"
wait_for "a pool process's setsid child to be killed at the worker's stop" 30 gone "$stay"
no_pool_cgroups() { ! ls -d "$CG"/pool-* >/dev/null 2>&1; }
no_pool_cgroups || fail "pool cgroups left after the worker's stop: $(ls -d "$CG"/pool-*)"
ok "the worker's stop kills what its pool processes started and removes their cgroups"
