#!/bin/bash
# SPDX-License-Identifier: MIT
# The guest half of tests/system/vm.sh. Runs as root inside the booted VM (jobs-vmtest.service) from
# the disk the host made for this run (this script, lib.sh, jobs.deb): installs the package and proves
# what a container on a hybrid host cannot, on cgroup v2 with every controller: MemoryMax= and the
# OOM error class, the limits of a job's own cgroup, and cgroup.kill of what a job leaves behind.
# Prints numbered TAP lines without a plan; the host goes on numbering and prints the plan.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/system/lib.sh
. "$here/lib.sh"

HANDLERS=/etc/jobs/handlers
# The limits the checks expect, as worker.conf(5) gives them and as the kernel files show them.
HOG_MEMORY_MAX=64M HOG_MEMORY_MAX_BYTES=$((64 * 1024 * 1024))
LIM_MEMORY_MAX=96M LIM_MEMORY_MAX_BYTES=$((96 * 1024 * 1024))
LIM_CPU_WEIGHT=42
LIM_CPU_QUOTA=30% LIM_CPU_MAX="30000 100000"
LIM_TASKS_MAX=17

jlines() { journalctl --no-pager -q -o cat -u jobs-worker.service "$@"; }
jcount() { jlines "$@" | grep -c .; }
# The journal fields of the worker's entries matching the matches, one JSON object per line.
jjson() { journalctl --no-pager -q -o json -u jobs-worker.service "$@"; }
jfield() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
status_count() { [ "$(jcount JOB_ID="$1" JOB_STATUS="$2")" -ge "$3" ]; }
job_ended() { status_count "$1" fail 1 || status_count "$1" "done" 1; }
worker_active() { [ "$(systemctl is-active jobs-worker.service)" = active ]; }
main_pid() { systemctl show -P MainPID jobs-worker.service; }
service_cgroup() { echo "/sys/fs/cgroup$(systemctl show -P ControlGroup jobs-worker.service)"; }
# The member of the retry set for a job id.
retry_entry() { redis-cli --raw ZRANGE retry 0 -1 | grep -F "\"jid\":\"$1\""; }

write_handler() { # write_handler CLASS < script
        cat > "$HANDLERS/$1" && chmod 0755 "$HANDLERS/$1"
}

t_cgroup2() {
        local r=0 fs ctl c
        fs=$(stat -fc %T /sys/fs/cgroup)
        ctl=$(cat /sys/fs/cgroup/cgroup.controllers)
        note "kernel $(uname -r), systemd $(systemctl --version | sed -n 1p)"
        note "/sys/fs/cgroup: $fs, controllers: $ctl"
        [ "$fs" = cgroup2fs ] || { fail "/sys/fs/cgroup is $fs, not the unified cgroup v2 hierarchy"; r=1; }
        for c in cpu memory pids; do
                [[ " $ctl " == *" $c "* ]] || { fail "no $c controller in cgroup v2"; r=1; }
        done
        [ -e /sys/fs/cgroup/system.slice/cgroup.kill ] || { fail "the kernel has no cgroup.kill"; r=1; }
        return $r
}

t_install() {
        local r=0 cg svc
        DEBIAN_FRONTEND=noninteractive dpkg -i "$here/jobs.deb" >/tmp/dpkg.log 2>&1 ||
                { tail -20 /tmp/dpkg.log; fail "dpkg -i failed"; return 1; }
        # The retry set is polled every second, so the OOM job's retry runs as soon as it is due.
        cat >>/etc/jobs/worker.conf <<EOF

[Worker]
PollIntervalSec=1s

[Class VmHog]
MemoryMax=$HOG_MEMORY_MAX

[Class VmLimits]
MemoryMax=$LIM_MEMORY_MAX
CPUWeight=$LIM_CPU_WEIGHT
CPUQuota=$LIM_CPU_QUOTA
TasksMax=$LIM_TASKS_MAX
EOF
        # Touches a 200 MB buffer: far past its class's MemoryMax=, and the VM has no swap.
        write_handler VmHog <<'EOF'
#!/bin/sh
dd if=/dev/zero of=/dev/null bs=200M count=1
echo "vm hog survived"
EOF
        # Shows the limits of the cgroup it runs in.
        write_handler VmLimits <<'EOF'
#!/bin/sh
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
echo "vm cgroup $cg"
for f in memory.max cpu.max cpu.weight pids.max; do
        echo "vm $f $(cat "/sys/fs/cgroup$cg/$f")"
done
EOF
        # Leaves a process behind in a session (and process group) of its own, as a careless handler does.
        write_handler VmOrphan <<'EOF'
#!/bin/sh
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo "vm orphan $!"
EOF
        systemctl restart jobs-worker.service || { fail "jobs-worker does not restart"; r=1; }
        wait_until 30 worker_active || { fail "jobs-worker is $(systemctl is-active jobs-worker.service)"; return 1; }
        svc=$(service_cgroup)
        cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$(main_pid)/cgroup")
        note "worker in $cg; controllers for its jobs: $(cat "$svc/cgroup.subtree_control")"
        [ "$cg" = "$svc/worker" ] || { fail "the worker is not in the leaf cgroup $svc/worker"; r=1; }
        for c in cpu memory pids; do
                grep -qw "$c" "$svc/cgroup.subtree_control" || { fail "no $c controller for the jobs"; r=1; }
        done
        return $r
}

# The OOM job's id, for t_retried (each check runs in a subshell of its own).
HOG_JID_FILE=/run/vmtest-hog.jid
t_oom() {
        local r=0 line peak entry HOG_JID
        HOG_JID=$(jobs-enqueue VmHog) || { fail "enqueue failed"; return 1; }
        echo "$HOG_JID" > "$HOG_JID_FILE"
        wait_until 120 job_ended "$HOG_JID" || { jlines JOB_ID="$HOG_JID"; fail "job $HOG_JID did not end"; return 1; }
        status_count "$HOG_JID" fail 1 || { jlines JOB_ID="$HOG_JID"; fail "job $HOG_JID did not fail"; return 1; }
        line=$(jjson JOB_CLASS=VmHog JOB_ID="$HOG_JID" JOB_STATUS=fail | head -1)
        note "$(jfield MESSAGE <<<"$line")"
        [ "$(jfield JOB_ERROR_CLASS <<<"$line")" = HandlerOOMError ] ||
                { fail "error class $(jfield JOB_ERROR_CLASS <<<"$line"), not HandlerOOMError"; r=1; }
        peak=$(jfield JOB_MEMORY_PEAK_BYTES <<<"$line")
        note "JOB_MEMORY_PEAK_BYTES=$peak (MemoryMax=$HOG_MEMORY_MAX: $HOG_MEMORY_MAX_BYTES), JOB_CPU_USEC=$(jfield JOB_CPU_USEC <<<"$line")"
        # The kernel lets a charge past memory.max only for a task it is killing: a few pages.
        if [ -z "$peak" ] || [ "$peak" -lt $((HOG_MEMORY_MAX_BYTES * 3 / 4)) ] ||
                [ "$peak" -gt $((HOG_MEMORY_MAX_BYTES + 4 * 1024 * 1024)) ]; then
                fail "memory peak '$peak' not close to the limit"; r=1
        fi
        jlines JOB_ID="$HOG_JID" | has "vm hog survived" && { fail "the handler went on after the allocation"; r=1; }
        wait_until 10 retry_entry "$HOG_JID" || { fail "job $HOG_JID not in the retry set"; return 1; }
        entry=$(retry_entry "$HOG_JID")
        note "retry set: $entry"
        has -F '"error_class":"HandlerOOMError"' <<<"$entry" || { fail "its retry entry has another error class"; r=1; }
        return $r
}

t_limits() {
        local r=0 jid out cg f want got
        jid=$(jobs-enqueue VmLimits) || { fail "enqueue failed"; return 1; }
        wait_until 120 status_count "$jid" "done" 1 || { jlines JOB_ID="$jid"; fail "job $jid did not finish"; return 1; }
        out=$(jlines JOB_ID="$jid")
        note "$out"
        cg=$(sed -n 's/^vm cgroup //p' <<<"$out")
        [ "$cg" = "$(systemctl show -P ControlGroup jobs-worker.service)/job-VmLimits-$jid" ] ||
                { fail "the handler ran in '$cg', not job-VmLimits-$jid of jobs-worker.service"; r=1; }
        for f in "memory.max $LIM_MEMORY_MAX_BYTES" "cpu.max $LIM_CPU_MAX" "cpu.weight $LIM_CPU_WEIGHT" \
                 "pids.max $LIM_TASKS_MAX"; do
                want=${f#* } f=${f%% *}
                got=$(sed -n "s/^vm $f //p" <<<"$out")
                [ "$got" = "$want" ] || { fail "$f is '$got', worker.conf says '$want'"; r=1; }
        done
        return $r
}

# (not every job-* one: the OOM job's retry may be running)
cgroup_gone() { [ ! -e "$(service_cgroup)/$1" ]; }
no_sleep_1000() { ! pgrep -x -f 'sleep 1000' >/dev/null; }
t_orphan() {
        local r=0 jid pid
        jid=$(jobs-enqueue VmOrphan) || { fail "enqueue failed"; return 1; }
        wait_until 120 status_count "$jid" "done" 1 || { jlines JOB_ID="$jid"; fail "job $jid did not finish"; return 1; }
        pid=$(jlines JOB_ID="$jid" | sed -n 's/^vm orphan \([0-9]*\)$/\1/p')
        [ -n "$pid" ] || { fail "no orphan pid logged"; return 1; }
        wait_until 30 not pid_alive "$pid" || { ps -o pid,pgid,sid,cgroup,args -p "$pid"; fail "setsid sleep $pid survived its job"; r=1; }
        wait_until 30 no_sleep_1000 || { pgrep -a -f 'sleep 1000'; fail "a sleep 1000 is still running"; r=1; }
        wait_until 30 cgroup_gone "job-VmOrphan-$jid" || { fail "the cgroup job-VmOrphan-$jid is left"; r=1; }
        note "setsid sleep $pid of job $jid: gone, and its cgroup too"
        return $r
}

t_retried() {
        local r=0 entry HOG_JID
        HOG_JID=$(cat "$HOG_JID_FILE" 2>/dev/null) || { fail "no OOM job to follow"; return 1; }
        status_count "$HOG_JID" fail 1 || { fail "job $HOG_JID never failed: no retry to wait for"; return 1; }
        # Sidekiq's first retry is due 15 to 24 s after the failure.
        wait_until 120 status_count "$HOG_JID" fail 2 || { jlines JOB_ID="$HOG_JID"; fail "job $HOG_JID was not run again"; return 1; }
        jjson JOB_ID="$HOG_JID" JOB_STATUS=fail | jfield MESSAGE
        [ "$(jcount JOB_ID="$HOG_JID" JOB_STATUS=fail JOB_ERROR_CLASS=HandlerOOMError)" -ge 2 ] ||
                { fail "the retry did not fail with HandlerOOMError too"; r=1; }
        wait_until 10 retry_entry_count "$HOG_JID" 1 || { fail "no retry entry with retry_count 1"; r=1; }
        entry=$(retry_entry "$HOG_JID")
        note "retry set: $entry"
        return $r
}
retry_entry_count() { retry_entry "$1" | has -F "\"retry_count\":$2"; }

echo "# vmtest: started"
check "the VM runs systemd on cgroup v2 with the cpu, memory and pids controllers and cgroup.kill" t_cgroup2
check "the .deb installs; jobs-worker runs in its leaf cgroup with cpu, memory and pids for its jobs" t_install
check "MemoryMax=: the handler is OOM-killed, fails with HandlerOOMError into the retry set, peak memory logged" t_oom
check "the job's own cgroup has the memory.max, cpu.max, cpu.weight and pids.max worker.conf gives its class" t_limits
check "a setsid orphan of a job is killed with its cgroup (cgroup.kill), which is removed" t_orphan
check "the OOM-killed job is retried from the retry set and fails the same way again" t_retried
echo "# vmtest: finished $n $failed"
