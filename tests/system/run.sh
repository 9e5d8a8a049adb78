#!/bin/bash
# SPDX-License-Identifier: MIT
# System test: installs the .deb in a booted systemd (systemd-nspawn) with a local Redis and proves the
# package's promises against the real init system. TAP output, one line per check.
#   tests/system/run.sh                 builds the .deb with packaging/build-deb.sh first
#   JOBS_DEB=path.deb tests/system/run.sh
#   tests/system/run.sh --meson         exit 0 when the TAP lines carry the verdict (meson's TAP reader)
# Needs root. Every wait is a poll with a deadline; the container is always torn down.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=tests/system/lib.sh
. "$here/lib.sh"

# Fails at once (instead of at a deadline) when a unit the check needs is not there.
need_unit() {
        local u
        for u in "$@"; do
                [ "$(ct systemctl show -P LoadState "$u")" = loaded ] || { fail "$u is not loaded"; return 1; }
        done
}

# Journal lines of a unit matching FIELD=value matches, one message per line.
jlines() {
        local unit=$1; shift
        ct journalctl --no-pager -q -o cat -u "$unit" "$@"
}
jcount() { jlines "$@" | grep -c . ; }

main_pid() { ct systemctl show -P MainPID jobs-worker.service; }
worker_restarts() { ct systemctl show -P NRestarts jobs-worker.service; }

# Runs jobs-enqueue inside; prints the jid.
enqueue() { ct jobs-enqueue "$@"; }

job_done() { [ "$(jcount jobs-worker.service JOB_ID="$1" JOB_STATUS=done)" -ge 1 ]; }
job_started() { [ "$(jcount jobs-worker.service JOB_ID="$1" JOB_STATUS=start)" -ge 1 ]; }

# The test's own handlers and schedule -------------------------------------------------------------

HANDLERS=/etc/jobs/handlers
SCHEDULE=/etc/jobs/systest.schedule

write_in() { # write_in PATH MODE < content   (path inside the container)
        local path=$1 mode=$2
        mkdir -p "$(dirname "$CT_ROOT$path")"
        cat > "$CT_ROOT$path" && chmod "$mode" "$CT_ROOT$path"
}

install_handlers() {
        # Leaves a process behind in a session of its own, as a careless handler does.
        write_in "$HANDLERS/SystestOrphan" 0755 <<'EOF'
#!/bin/sh
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo "systest orphan $!"
EOF
        # Takes far more memory than its class's MemoryMax= allows.
        write_in "$HANDLERS/SystestHog" 0755 <<'EOF'
#!/bin/sh
v=$(head -c 200000000 /dev/zero | tr '\0' a)
echo "systest hog survived ${#v}"
EOF
        # Prints a line on stdout (logged with the job's fields) and sleeps as long as args[0] says.
        write_in "$HANDLERS/SystestSleep" 0755 <<'EOF'
#!/bin/sh
secs=$(sed -n 's/.*"args":\[\([0-9.]*\).*/\1/p')
echo "systest sleeping ${secs:-0}s for $JOB_ID"
sleep "${secs:-0}"
echo "systest slept for $JOB_ID"
EOF
        write_in "$HANDLERS/SystestTick" 0755 <<'EOF'
#!/bin/sh
echo "systest tick $JOB_ID"
EOF
        write_in "$HANDLERS/SystestOutage" 0755 <<'EOF'
#!/bin/sh
echo "systest outage job $JOB_ID"
EOF
        # Holds until the test opens the gate (at most 2 minutes), so a kill lands mid-batch however
        # loaded the machine is.
        write_in "$HANDLERS/SystestCount" 0755 <<'EOF'
#!/bin/sh
i=0
while [ ! -e /etc/jobs/systest-gate ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
echo "systest counted $JOB_ID"
EOF
}

write_schedule() { # write_schedule ENTRY...   entries: tick added outage
        local e
        {
                echo "# System test schedule"
                for e in "$@"; do
                        case $e in
                        tick) printf '\n[Job]\nName=systest-tick\nClass=SystestTick\nEvery=5s\n' ;;
                        added) printf '\n[Job]\nName=systest-added\nClass=SystestTick\nOnCalendar=*-*-* 03:00 Europe/London\n' ;;
                        outage) printf '\n[Job]\nName=systest-outage\nClass=SystestOutage\nOnCalendar=2099-01-01\nScope=host\n' ;;
                        esac
                done
        } | write_in "$SCHEDULE" 0644
}

# The flow an administrator follows for a host-local schedule: edit, daemon-reload (runs the
# generator). jobs-reload.path starts the new timers and stops the removed ones; the checks wait for it.
reload_schedule() {
        ct systemctl daemon-reload
}

timers() { ct systemctl list-timers --no-pager --no-legend; }
# Listed with a next elapse: a timer whose entry was removed may linger as "not-found" with NEXT "-"
# until reset-failed or reboot, but it never fires again.
timer_listed() { timers | awk -v u="$1" '$1 != "-" { for (i = 1; i <= NF; i++) if ($i == u) f = 1 } END { exit !f }'; }

# Checks -------------------------------------------------------------------------------------------

t_installed() {
        local r=0 s
        s=$(ct systemctl is-active jobs-worker.service); note "jobs-worker.service: $s"
        [ "$s" = active ] || { fail "jobs-worker is $s"; r=1; }
        s=$(ct systemctl is-enabled jobs-worker.service); note "jobs-worker enabled: $s"
        [ "$s" = enabled ] || { fail "jobs-worker is $s, not enabled"; r=1; }
        s=$(ct systemctl is-active jobs.target); note "jobs.target: $s"
        [ "$s" = active ] || { fail "jobs.target is $s"; r=1; }
        # One place for the Redis address: the worker and every enqueue service read /etc/default/jobs.
        ct test -f /etc/default/jobs || { fail "/etc/default/jobs not installed"; r=1; }
        local u envs
        # (a template is asked about through an instance of it)
        s=$(ct systemctl is-active jobs-reload.path); note "jobs-reload.path: $s"
        [ "$s" = active ] || { fail "jobs-reload.path is $s"; r=1; }
        # (jobs-reload.service talks to systemd only, not to Redis)
        for u in jobs-worker.service $(ct sh -c 'cd /lib/systemd/system && ls jobs-*.service' |
                                       grep -v -e '^jobs-worker.service$' -e '^jobs-reload.service$' |
                                       sed 's/@\.service$/@0.service/'); do
                envs=$(ct systemctl show -P EnvironmentFiles "$u")
                [[ "$envs" == */etc/default/jobs\ * ]] || { fail "$u does not read /etc/default/jobs (EnvironmentFiles=$envs)"; r=1; }
        done
        local conffiles
        conffiles=$(ct dpkg-query -W -f "\${Conffiles}\n" jobs | awk 'NF { print $1 }' | tr '\n' ' ')
        note "conffiles: $conffiles"
        for u in /etc/default/jobs /etc/jobs/worker.conf; do
                [[ " $conffiles" == *" $u "* ]] || { fail "$u is not a conffile"; r=1; }
        done
        # The package schedules nothing by itself: no timer, no entry (the example is only a file).
        local pkg_timers
        pkg_timers=$(ct sh -c 'cd /lib/systemd/system && ls jobs-*.timer jobs.target.wants 2>/dev/null' || true)
        [ -z "$pkg_timers" ] || { fail "the package installs timers: $pkg_timers"; r=1; }
        timers | sed 's/^/list-timers: /'
        ! timers | has ' jobs-' || { fail "jobs timers scheduled right after install"; r=1; }
        ct test -f /usr/share/jobs/examples/jobs.schedule || { fail "example schedule not installed"; r=1; }
        return $r
}

t_timer_fires() {
        write_schedule tick outage
        need_unit jobs-worker.service jobs.target || return 1
        reload_schedule || return 1
        wait_until 20 timer_listed jobs-systest-tick.timer || { timers; fail "jobs-systest-tick.timer not listed"; return 1; }
        # The timer fires every 5 s: wait for a job run end to end.
        if ! wait_until 60 tick_done; then
                jlines jobs-systest-tick.service | tail -5
                jlines jobs-worker.service | tail -10
                fail "no SystestTick job done within 60 s"
                return 1
        fi
        local r=0 jid
        jid=$(ct journalctl --no-pager -q -u jobs-worker.service JOB_CLASS=SystestTick JOB_STATUS=done \
                -o verbose | sed -n 's/^ *JOB_ID=//p' | head -1)
        note "job $jid:"
        ct journalctl --no-pager -q -u jobs-worker.service JOB_ID="$jid" -o verbose |
                grep -E '^ *(MESSAGE|JOB_[A-Z_]+|JOBS_SERVICE)=' | sed 's/^ */  /'
        job_started "$jid" || { fail "no JOB_STATUS=start for $jid"; r=1; }
        [ "$(jcount jobs-worker.service JOB_ID="$jid" JOB_STATUS=done JOB_CLASS=SystestTick JOB_QUEUE=default)" -ge 1 ] ||
                { fail "done entry lacks JOB_CLASS/JOB_QUEUE"; r=1; }
        jlines jobs-worker.service JOB_ID="$jid" | has "systest tick $jid" ||
                { fail "handler output not logged with the job's fields"; r=1; }
        local tagged
        tagged=$(ct journalctl --no-pager -q -u jobs-systest-tick.service JOBS_SERVICE=enqueue -o cat | grep -c .)
        note "jobs-systest-tick.service journal lines tagged JOBS_SERVICE=enqueue: $tagged"
        [ "$tagged" -ge 1 ] || { fail "enqueue service log not tagged JOBS_SERVICE=enqueue"; r=1; }
        [ "$(jcount jobs-systest-tick.service JOB_CLASS=SystestTick)" -ge 1 ] ||
                { fail "enqueue service log has no JOB_CLASS=SystestTick"; r=1; }
        return $r
}
tick_done() { [ "$(jcount jobs-worker.service JOB_CLASS=SystestTick JOB_STATUS=done)" -ge 1 ]; }

t_schedule_edit() {
        local r=0
        need_unit jobs.target || return 1
        timer_listed jobs-systest-added.timer && { fail "jobs-systest-added.timer listed before the edit"; r=1; }
        # Drop the 5-second tick, add a nightly entry.
        write_schedule added outage
        reload_schedule || return 1
        wait_until 20 timer_listed jobs-systest-added.timer || { fail "jobs-systest-added.timer not listed after the edit"; r=1; }
        wait_until 20 not timer_listed jobs-systest-tick.timer ||
                { fail "jobs-systest-tick.timer still listed after removing it"; r=1; }
        timers | grep systest | sed 's/^/list-timers: /'
        return $r
}

t_watchdog() {
        local r=0 pid newpid jid wd
        need_unit jobs-worker.service || return 1
        wd=$(ct systemctl show -P WatchdogUSec jobs-worker.service); note "WatchdogUSec=$wd"
        case "$wd" in
        ""|0|infinity) fail "jobs-worker.service has no watchdog"; return 1 ;;
        esac
        jid=$(enqueue --args '[4]' SystestSleep) || { fail "enqueue failed"; return 1; }
        wait_until 30 job_started "$jid" || { fail "job $jid did not start"; return 1; }
        pid=$(main_pid); note "MainPID $pid stopped with SIGSTOP while running $jid"
        local since; since=$(ct date '+%Y-%m-%d %H:%M:%S')
        ct kill -STOP "$pid" || { fail "cannot SIGSTOP $pid"; return 1; }
        if ! wait_until 120 journal_has_since jobs-worker.service "$since" 'watchdog timeout'; then
                fail "no watchdog timeout in the journal within 120 s"; r=1
        fi
        ct journalctl --no-pager -q -u jobs-worker.service --since "$since" -o cat | grep -i watchdog | head -3
        wait_until 60 worker_active_new "$pid" || { fail "worker not restarted with a new MainPID"; r=1; }
        newpid=$(main_pid); note "new MainPID $newpid"
        wait_until 120 job_done "$jid" || { fail "job $jid running at the hang never completed"; r=1; }
        return $r
}
journal_has_since() { # UNIT SINCE PATTERN
        ct journalctl --no-pager -q -u "$1" --since "$2" | grep -qi -- "$3"
}
worker_active_new() {
        local p
        [ "$(ct systemctl is-active jobs-worker.service)" = active ] && p=$(main_pid) &&
                [ "$p" != 0 ] && [ "$p" != "$1" ]
}

t_kill9() {
        local r=0 i jids=() pid N=40
        need_unit jobs-worker.service || return 1
        rm -f "$CT_ROOT/etc/jobs/systest-gate"
        for i in $(seq 1 $N); do
                jids+=("$(enqueue SystestCount)") || { fail "enqueue $i failed"; return 1; }
        done
        wait_until 60 class_status_at_least SystestCount start 3 ||
                { fail "batch did not start"; return 1; }
        pid=$(main_pid)
        local restarts; restarts=$(worker_restarts)
        ct kill -KILL "$pid" || { fail "cannot kill -9 $pid"; return 1; }
        local done_before
        done_before=$(count_done "${jids[@]}"); note "killed MainPID $pid with $done_before/$N done"
        [ "$done_before" -lt "$N" ] || { fail "the batch was over before the kill: nothing proven"; r=1; }
        wait_until 60 worker_active_new "$pid" || { fail "worker not restarted after kill -9"; r=1; }
        touch "$CT_ROOT/etc/jobs/systest-gate"
        note "NRestarts $restarts -> $(worker_restarts), new MainPID $(main_pid)"
        wait_until 180 all_done "$N" "${jids[@]}"
        local got; got=$(count_done "${jids[@]}")
        note "jobs done: $got of $N (each done once or more)"
        [ "$got" -eq "$N" ] || { fail "lost $((N - got)) jobs"; r=1; }
        return $r
}
count_done() {
        ct journalctl --no-pager -q -u jobs-worker.service JOB_CLASS=SystestCount JOB_STATUS=done -o verbose |
                sed -n 's/^ *JOB_ID=//p' | sort -u | grep -c -x -F -f <(printf '%s\n' "$@")
}
all_done() { local n=$1; shift; [ "$(count_done "$@")" -eq "$n" ]; }
class_status_at_least() { [ "$(jcount jobs-worker.service JOB_CLASS="$1" JOB_STATUS="$2")" -ge "$3" ]; }
unit_prop_is() { [ "$(ct systemctl show -P "$2" "$1")" = "$3" ]; }
unit_restarted() { [ "$(ct systemctl show -P NRestarts "$1")" -ge 1 ]; }

t_redis_outage() {
        local r=0 before
        need_unit jobs-worker.service jobs-systest-outage.service || return 1
        ct systemctl stop redis-server.service || { fail "cannot stop redis-server"; return 1; }
        before=$(jcount jobs-worker.service JOB_CLASS=SystestOutage JOB_STATUS=done)
        ct systemctl start --no-block jobs-systest-outage.service
        wait_until 60 unit_restarted jobs-systest-outage.service ||
                { fail "jobs-systest-outage.service did not fail and restart while Redis was down"; r=1; }
        jlines jobs-systest-outage.service | tail -4
        note "NRestarts while Redis down: $(ct systemctl show -P NRestarts jobs-systest-outage.service)"
        ct systemctl start redis-server.service || { fail "cannot start redis-server"; return 1; }
        wait_until 90 outage_unit_succeeded ||
                { fail "jobs-systest-outage.service did not succeed once Redis was back"; r=1; }
        wait_until 60 class_status_at_least SystestOutage 'done' $((before + 1)) ||
                { fail "the job enqueued after the outage never ran"; r=1; }
        local after; after=$(jcount jobs-worker.service JOB_CLASS=SystestOutage JOB_STATUS=done)
        note "SystestOutage jobs run: $((after - before))"
        [ $((after - before)) -eq 1 ] || { fail "expected exactly one SystestOutage job, got $((after - before))"; r=1; }
        return $r
}

outage_unit_succeeded() {
        unit_prop_is jobs-systest-outage.service Result success &&
                unit_prop_is jobs-systest-outage.service ActiveState inactive
}

t_graceful_stop() {
        local r=0 jid pid
        need_unit jobs-worker.service || return 1
        jid=$(enqueue --args '[3]' SystestSleep) || { fail "enqueue failed"; return 1; }
        wait_until 30 job_started "$jid" || { fail "job $jid did not start"; return 1; }
        pid=$(main_pid)
        ct systemctl stop jobs-worker.service
        local result status
        result=$(ct systemctl show -P Result jobs-worker.service)
        status=$(ct systemctl show -P ExecMainStatus jobs-worker.service)
        note "after stop: Result=$result ExecMainStatus=$status (MainPID was $pid)"
        [ "$result" = success ] || { fail "stop Result=$result"; r=1; }
        [ "$status" = 0 ] || { fail "worker exited with $status"; r=1; }
        job_done "$jid" || { fail "job $jid did not finish during the drain"; r=1; }
        [ "$(jcount jobs-worker.service JOB_ID="$jid" JOB_STATUS=fail)" -eq 0 ] || { fail "job $jid failed"; r=1; }
        jlines jobs-worker.service JOB_ID="$jid" | tail -2
        ct systemctl start jobs-worker.service || { fail "worker does not start again"; r=1; }
        return $r
}

# A cgroup per job (Delegate=yes): named after the job, killed whole at its end, accounted, limited.
worker_cgroup() { echo "/sys/fs/cgroup$(ct sed -n 's/^0:://p' "/proc/$(main_pid)/cgroup")"; }
pid_gone() { ! ct kill -0 "$1" 2>/dev/null; }
cgls_shows() { ct systemd-cgls --no-pager -u jobs-worker.service | has "$1"; }
no_job_cgroups() { [ -z "$(ct sh -c "ls -d $1/job-* 2>/dev/null")" ]; }
t_cgroups() {
        local r=0 jid cg svc orphan line
        need_unit jobs-worker.service || return 1
        note "cgroup file system in the container: $(ct stat -fc %T /sys/fs/cgroup)"
        cg=$(worker_cgroup); svc=${cg%/worker}
        note "worker in $cg; controllers for the jobs: $(ct cat "$svc/cgroup.subtree_control")"
        [ "${cg##*/}" = worker ] || { fail "the worker is not in its leaf cgroup: $cg"; jlines jobs-worker.service | tail -5; return 1; }
        jlines jobs-worker.service | has "Running each job in a cgroup of its own" || { fail "no line about job cgroups"; r=1; }

        jid=$(enqueue --args '[5]' SystestSleep) || { fail "enqueue failed"; return 1; }
        wait_until 30 cgls_shows "job-SystestSleep-$jid" || { fail "systemd-cgls -u jobs-worker does not show job-SystestSleep-$jid"; r=1; }
        ct systemd-cgls --no-pager -u jobs-worker.service | head -8
        wait_until 30 job_done "$jid" || { fail "job $jid did not finish"; r=1; }

        jid=$(enqueue SystestOrphan) || { fail "enqueue failed"; return 1; }
        wait_until 30 job_done "$jid" || { fail "job $jid did not finish"; return 1; }
        orphan=$(jlines jobs-worker.service JOB_ID="$jid" | sed -n 's/^systest orphan \([0-9]*\)$/\1/p')
        [ -n "$orphan" ] || { fail "no orphan pid logged"; return 1; }
        wait_until 30 pid_gone "$orphan" || { fail "the handler's setsid sleep $orphan survived its job"; r=1; }
        note "setsid sleep $orphan of job $jid: gone"
        line=$(ct journalctl --no-pager -q -o verbose -u jobs-worker.service JOB_ID="$jid" JOB_STATUS=done)
        grep -q "JOB_CPU_USEC=[0-9]" <<<"$line" || { fail "no JOB_CPU_USEC on the finish line"; r=1; }
        note "finish line: $(grep -o 'JOB_[A-Z_]*\(USEC\|BYTES\)=[0-9]*' <<<"$line" | tr '\n' ' ')"
        wait_until 30 no_job_cgroups "$svc" || { fail "job cgroups left: $(ct sh -c "ls -d $svc/job-*")"; r=1; }

        if ! ct grep -qw memory "$svc/cgroup.subtree_control"; then
                note "SKIP memory limit: no memory controller for the container's cgroup v2 (the host binds it elsewhere); the VM test (vm.sh) proves it"
                return $r
        fi
        grep -q "JOB_MEMORY_PEAK_BYTES=[0-9]" <<<"$line" || { fail "no JOB_MEMORY_PEAK_BYTES on the finish line"; r=1; }
        ct sh -c 'printf "\n[Class SystestHog]\nMemoryMax=16M\n" >>/etc/jobs/worker.conf' && ct systemctl reload jobs-worker.service
        jid=$(enqueue SystestHog) || { fail "enqueue failed"; return 1; }
        wait_until 60 class_status_at_least SystestHog fail 1 || { fail "the memory hog did not fail"; return 1; }
        line=$(jlines jobs-worker.service JOB_ID="$jid" JOB_STATUS=fail)
        note "$line"
        [ "$(jcount jobs-worker.service JOB_ID="$jid" JOB_STATUS=fail JOB_ERROR_CLASS=HandlerOOMError)" -ge 1 ] ||
                { fail "not a HandlerOOMError: $line"; r=1; }
        [ "$(jcount jobs-worker.service JOB_ID="$jid" JOB_STATUS=retry)" -ge 1 ] || { fail "the OOM failure is not retried"; r=1; }
        ct sed -i '/^\[Class SystestHog\]$/,$d' /etc/jobs/worker.conf && ct systemctl reload jobs-worker.service
        return $r
}

t_security() {
        local r=0 u score
        score=$(exposure jobs-worker.service)
        note "systemd-analyze security jobs-worker.service: ${score:-?}"
        le "${score:-99}" 2.0 || { fail "jobs-worker.service exposure ${score:-?} > 2.0"; r=1; }
        local units
        units=$(ct sh -c 'cd /lib/systemd/system && ls jobs-*.service' | grep -v '^jobs-worker.service$')
        units="$units jobs-systest-outage.service"
        for u in $units; do
                score=$(exposure "$u")
                note "systemd-analyze security $u: ${score:-?}"
                le "${score:-99}" 1.5 || { fail "$u exposure ${score:-?} > 1.5"; r=1; }
        done
        return $r
}
exposure() {
        ct systemd-analyze security --no-pager "$1" 2>/dev/null |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

timer_active() { [ "$(ct systemctl is-active "$1")" = active ]; }
no_failed_jobs_units() { [ -z "$(ct systemctl list-units --failed --plain --no-legend 'jobs-*')" ]; }
system_running() { [ "$(ct systemctl is-system-running)" = running ]; }

t_schedule_files() {
        local r=0 before
        need_unit jobs.target jobs-reload.path || return 1
        before=$(ct systemctl is-system-running)
        note "system state before: $before"
        printf '[Job]\nName=systest-extra\nClass=SystestTick\nEvery=1h\n' | write_in /etc/jobs/systest-extra.schedule 0644
        reload_schedule || { fail "daemon-reload failed"; return 1; }
        wait_until 30 timer_active jobs-systest-extra.timer ||
                { fail "the timer of a new schedule file is $(ct systemctl is-active jobs-systest-extra.timer)"; r=1; }
        timer_listed jobs-systest-added.timer || { fail "the other schedule's timer is gone"; r=1; }
        rm -f "$CT_ROOT/etc/jobs/systest-extra.schedule"
        reload_schedule || { fail "daemon-reload failed"; return 1; }
        wait_until 30 not timer_listed jobs-systest-extra.timer ||
                { fail "the timer of a removed schedule file is still listed"; r=1; }
        if ! wait_until 30 no_failed_jobs_units; then
                ct systemctl list-units --failed --no-pager --plain --no-legend
                fail "failed units after removing a schedule file"; r=1
        fi
        if [ "$before" = running ] && ! wait_until 30 system_running; then
                fail "the system is $(ct systemctl is-system-running) after removing a schedule file"; r=1
        fi
        note "jobs-reload.service: $(ct systemctl show -P Result jobs-reload.service)"
        jlines jobs-reload.service | tail -3
        [ "$(ct systemctl show -P Result jobs-reload.service)" = success ] || { fail "jobs-reload.service failed"; r=1; }
        return $r
}

t_bad_schedule() {
        local r=0 since
        need_unit jobs.target || return 1
        since=$(ct date '+%Y-%m-%d %H:%M:%S')
        write_in /etc/jobs/broken.schedule 0644 <<'EOF'
[Job]
Name=systest-broken
Class=SystestTick
OnCalendar=not a calendar
Colour=blue

[Job]
Name=systest-sibling
Class=SystestTick
OnCalendar=*-*-* 04:00
EOF
        reload_schedule || { fail "daemon-reload/start failed"; r=1; }
        local msgs
        msgs=$(ct journalctl --no-pager -q -b --since "$since" -o cat | grep -F broken.schedule)
        printf '%s\n' "$msgs" | head -5
        if [ -z "$msgs" ]; then
                fail "no journal message naming /etc/jobs/broken.schedule"; r=1
                # systemd-nspawn gives containers no /dev/kmsg; show what the generator says by hand.
                note "the generator run by hand says:"
                ct /lib/systemd/system-generators/jobs-generator /var/tmp/g /var/tmp/g.early /var/tmp/g.late 2>&1 | head -3
                note "(/dev/kmsg in the container: $(ct sh -c 'test -e /dev/kmsg && echo present || echo absent'))"
        fi
        timer_listed jobs-systest-broken.timer && { fail "the broken entry was generated"; r=1; }
        wait_until 20 timer_listed jobs-systest-sibling.timer || { fail "the good entry beside the broken one was lost"; r=1; }
        timer_listed jobs-systest-added.timer || { fail "the good schedule was lost"; r=1; }
        [ "$(ct systemctl is-active jobs.target)" = active ] || { fail "jobs.target not active"; r=1; }
        local pkg; pkg=$(ct sh -c 'cd /lib/systemd/system && ls jobs-*.timer 2>/dev/null' | head -1 || true)
        [ -z "$pkg" ] || timer_listed "$pkg" || { fail "packaged timer $pkg lost"; r=1; }
        ct rm -f /etc/jobs/broken.schedule
        return $r
}

t_docs() {
        local r=0 p out
        for p in jobs-worker.8 jobs-enqueue.1 jobsctl.1 jobs-generator.8 jobs-schedule.5 worker.conf.5; do
                if ! ct man -w "${p%.*}" >/dev/null 2>&1; then
                        fail "man page ${p} not installed"; r=1; continue
                fi
                out=$(ct env MANWIDTH=80 man "${p##*.}" "${p%.*}" 2>&1 >/dev/null)
                [ -z "$out" ] || { fail "man ${p} warns: $out"; r=1; }
        done
        note "man pages: $(ct sh -c 'dpkg -L jobs | grep /man/ | grep -c "\.gz$"')"
        # _completion_loader returns 124 ("retry") once it has loaded a completion
        out=$(ct bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader jobsctl; complete -p jobsctl' 2>&1)
        note "completion: $out"
        [[ "$out" == complete* ]] || { fail "no bash completion for jobsctl"; r=1; }
        # What "jobsctl st<TAB>" offers (expanded inside the container).
        # shellcheck disable=SC2016
        out=$(ct bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader jobsctl
                f=$(complete -p jobsctl | sed -n "s/.*-F \([^ ]*\).*/\1/p")
                COMP_LINE="jobsctl st"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(jobsctl st); COMP_CWORD=1
                "$f" jobsctl st jobsctl; printf "%s\n" "${COMPREPLY[@]}"' 2>&1 | tr '\n' ' ')
        note "jobsctl st<TAB>: $out"
        [[ " $out " == *" status "* ]] || { fail "completion does not offer status for 'jobsctl st'"; r=1; }
        return $r
}

t_jobsctl_status() {
        local r=0 out pid
        need_unit jobs-worker.service || return 1
        out=$(ct jobsctl status) || { printf '%s\n' "$out"; fail "jobsctl status failed"; return 1; }
        printf '%s\n' "$out" | sed -n '/^Processes/,$p'
        pid=$(main_pid)
        printf '%s\n' "$out" | has ":$pid:" || { fail "worker MainPID $pid not among the processes"; r=1; }
        local t
        for t in $(timers | grep -o 'jobs-[^ ]*\.timer' | sort -u); do
                printf '%s\n' "$out" | has " $t " || { fail "timer $t not shown"; r=1; }
        done
        return $r
}

t_catalog() {
        local r=0 st id line
        for st in start 'done'; do
                id=$(ct journalctl --no-pager -q -u jobs-worker.service JOB_STATUS=$st -o verbose -n 1 |
                        sed -n 's/^ *MESSAGE_ID=//p')
                if [ -z "$id" ]; then
                        fail "JOB_STATUS=$st entries carry no MESSAGE_ID"; r=1; continue
                fi
                line=$(ct journalctl --list-catalog --no-pager "$id" 2>/dev/null)
                if [ -n "$line" ]; then
                        note "$st: $line"
                else
                        fail "MESSAGE_ID $id ($st) has no catalog entry"; r=1
                fi
        done
        ct journalctl --no-pager -q -x -u jobs-worker.service JOB_STATUS=done -n 1 | head -4
        return $r
}

t_upgrade() {
        local r=0 pid jid
        need_unit jobs-worker.service || return 1
        # Static: nothing stops the worker before the new files are unpacked (compat 13's
        # restart-after-upgrade); only postinst restarts it, and prerm stops only on remove.
        local ctrl; ctrl=$(mktemp -d "$CT_RUN_DIR/control.XXXXXX")
        dpkg-deb -e "$DEB" "$ctrl"
        if [ -e "$ctrl/preinst" ] && grep -q 'stop' "$ctrl/preinst"; then fail "preinst stops units"; r=1; fi
        # shellcheck disable=SC2016 # a literal $1 in the maintainer script
        if grep -B2 'deb-systemd-invoke stop' "$ctrl/prerm" | has '"$1" = upgrade'; then fail "prerm stops on upgrade"; r=1; fi
        grep -q "_dh_action=restart" "$ctrl/postinst" || { fail "postinst does not restart the worker"; r=1; }
        rm -rf "$ctrl"
        # Dynamic: a real upgrade (the same package with a higher version) while a job runs.
        local up; up=$(make_upgrade_deb) || { fail "cannot build the upgrade package"; return 1; }
        jid=$(enqueue --args '[3]' SystestSleep) || { fail "enqueue failed"; return 1; }
        wait_until 30 job_started "$jid" || { fail "job $jid did not start"; return 1; }
        pid=$(main_pid)
        # Unpack and configure as two steps, to see that the old worker survives the unpack.
        ct env DEBIAN_FRONTEND=noninteractive dpkg --unpack "$(ct_put "$up" jobs-upgrade.deb)" >/dev/null ||
                { fail "unpacking the upgrade failed"; return 1; }
        if [ "$(main_pid)" = "$pid" ] && [ "$(ct systemctl is-active jobs-worker.service)" = active ]; then
                note "after unpack: MainPID $pid still running"
        else
                fail "the worker was stopped before configure (MainPID $pid -> $(main_pid))"; r=1
        fi
        ct env DEBIAN_FRONTEND=noninteractive dpkg --configure jobs >/dev/null ||
                { fail "configuring the upgrade failed"; return 1; }
        note "upgraded to $(ct dpkg-query -W -f "\${Version}" jobs)"
        wait_until 30 worker_active_new "$pid" || { fail "worker not restarted by the upgrade"; r=1; }
        note "MainPID $pid -> $(main_pid)"
        job_done "$jid" || { fail "job $jid running during the upgrade did not finish"; r=1; }
        [ "$(jcount jobs-worker.service JOB_ID="$jid" JOB_STATUS=fail)" -eq 0 ] || { fail "job $jid failed"; r=1; }
        [ "$(ct systemctl show -P Result jobs-worker.service)" = success ] || { fail "worker Result not success"; r=1; }
        [ "$(ct systemctl is-active jobs.target)" = active ] || { fail "jobs.target not active after upgrade"; r=1; }
        return $r
}
# The package under test with its version raised, so dpkg runs the upgrade paths.
make_upgrade_deb() {
        # Inside the run directory, which teardown removes (checks run in subshells).
        local d; d=$(mktemp -d "$CT_RUN_DIR/upgrade.XXXXXX")
        dpkg-deb -R "$DEB" "$d/pkg" &&
                sed -i 's/^Version: .*/&+systest1/' "$d/pkg/DEBIAN/control" &&
                dpkg-deb -b -Zgzip "$d/pkg" "$d/jobs-upgrade.deb" >/dev/null && echo "$d/jobs-upgrade.deb"
}

t_remove() {
        local r=0
        # Remove must have something to stop, or this check proves nothing.
        [ "$(ct systemctl is-active jobs-worker.service)" = active ] || { fail "worker not active before remove"; return 1; }
        [ "$(ct systemctl is-active jobs.target)" = active ] || { fail "jobs.target not active before remove"; return 1; }
        ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jobs >/dev/null || { fail "remove failed"; return 1; }
        local s; s=$(ct systemctl is-active jobs-worker.service)
        [ "$s" != active ] || { fail "worker still active after remove"; r=1; }
        [ "$(ct systemctl is-active jobs.target)" != active ] || { fail "jobs.target still active"; r=1; }
        local left; left=$(timers | awk '$1 != "-"' | grep -c ' jobs-' || true)
        note "scheduled jobs timers after remove: $left"
        [ "$left" -eq 0 ] || { timers | grep ' jobs-'; fail "jobs timers still scheduled"; r=1; }
        local active
        active=$(ct systemctl list-units --no-legend --plain --state=active,activating,reloading 'jobs*' | awk '{ print $1 }')
        [ -z "$active" ] || { fail "still running after remove: $active"; r=1; }
        ct test -e /etc/default/jobs || { fail "conffile removed by remove (must stay until purge)"; r=1; }
        return $r
}

t_purge() {
        local r=0 f
        ct test -e /etc/default/jobs || { fail "/etc/default/jobs missing before purge"; return 1; }
        ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q jobs >/dev/null || { fail "purge failed"; return 1; }
        for f in /etc/default/jobs /etc/jobs /var/lib/jobs; do
                ct test -e "$f" && { fail "$f left after purge"; r=1; }
        done
        return $r
}

# The library packages built beside jobs_<version>_<arch>.deb.
library_debs() {
        local d=${DEB%/*} rest=${DEB##*/jobs_}
        for p in libjobs0 libjobs-dev; do [ -f "$d/${p}_$rest" ] && echo "$d/${p}_$rest"; done
}

t_library() {
        local debs=() f inside=() r=0 out
        mapfile -t debs < <(library_debs)
        [ "${#debs[@]}" = 2 ] || { fail "libjobs0/libjobs-dev not built beside $DEB"; return 1; }
        for f in "${debs[@]}"; do inside+=("$(ct_put "$f")") || return 1; done
        ct env DEBIAN_FRONTEND=noninteractive dpkg -i "${inside[@]}" >/dev/null || { fail "dpkg -i libjobs0 libjobs-dev"; return 1; }
        f=$(ct sh -c 'ls /usr/lib/*/libjobs.so.0') || { fail "no libjobs.so.0 installed"; return 1; }
        out=$(ct ldd "$f") || { fail "ldd $f failed"; r=1; }
        grep -q 'not found' <<<"$out" && { fail "libjobs.so.0 has unresolved dependencies: $out"; r=1; }
        # shellcheck disable=SC2016 # ${libdir} is the .pc file's own variable
        ct sh -c 'grep -q "^Libs: -L\${libdir} -ljobs" /usr/lib/*/pkgconfig/libjobs.pc' || { fail "libjobs.pc"; r=1; }
        ct grep -q 'jobs_worker_register' /usr/include/jobs/jobs.h || { fail "jobs/jobs.h"; r=1; }
        note "installed $f"
        return $r
}

t_lintian() {
        command -v lintian >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q lintian >/dev/null
        local libs=(); mapfile -t libs < <(library_debs)
        local out; out=$(lintian --allow-root --fail-on error,warning "$DEB" "${libs[@]}" 2>&1); local rc=$?
        printf '%s\n' "$out" | grep -v '^$'
        return $rc
}

# Main -----------------------------------------------------------------------------------------------

DEB=${JOBS_DEB:-}
if [ -z "$DEB" ]; then
        outdir=$(mktemp -d /var/tmp/jobs-systest-deb.XXXXXX)
        CT_CLEANUP+=("$outdir")
        trap 'rm -rf "$outdir"' EXIT   # until ct_boot installs its own teardown
        t0=$(now_ms)
        DEB=$("$src/packaging/build-deb.sh" "$outdir" 2>"$outdir/build.log" | tail -1) ||
                { tail -20 "$outdir/build.log" | sed 's/^/# /'; echo "Bail out! building the .deb failed"; exit 1; }
        echo "# built $DEB in $(( $(now_ms) - t0 )) ms"
fi
[ -f "$DEB" ] || { echo "Bail out! no .deb at $DEB"; exit 1; }

ct_boot
echo "# container booted in $CT_BOOT_MS ms"
t0=$(now_ms)
install_handlers
if ! out=$(ct_install_deb "$DEB" 2>&1); then
        printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
        echo "Bail out! installing the .deb failed"
        exit 1
fi
echo "# installed $(basename "$DEB") in $(( $(now_ms) - t0 )) ms"

check "installed: worker enabled and active, jobs.target active, no timer scheduled by the package" t_installed
check "a timer of the test's schedule fires; the worker runs the job (start/done with fields); enqueue log tagged" t_timer_fires
check "editing the schedule and daemon-reload changes list-timers" t_schedule_edit
check "a schedule file added + daemon-reload starts its timer; removed, it stops cleanly (nothing failed)" t_schedule_files
check "watchdog: SIGSTOPped worker killed and restarted, running job completes" t_watchdog
check "kill -9 during a batch: worker restarted, no job lost" t_kill9
check "fire while Redis is down: enqueue unit fails, retries, job enqueued once Redis is back" t_redis_outage
check "systemctl stop during a long job drains gracefully" t_graceful_stop
check "a cgroup per job: named in systemd-cgls, orphans killed, CPU/memory accounting, MemoryMax= OOM is HandlerOOMError" t_cgroups
check "systemd-analyze security: worker <= 2.0, enqueue services <= 1.5" t_security
check "bad schedule file in /etc/jobs is skipped with a journal message, the rest keeps working" t_bad_schedule
check "man pages render without warnings, bash completion for jobsctl is installed" t_docs
check "jobsctl status shows the running worker and the timers (Redis + sd-bus)" t_jobsctl_status
check "journal catalog explains the worker's start/done messages (journalctl -x)" t_catalog
check "libjobs0 and libjobs-dev install; the library's dependencies resolve" t_library
check "upgrade: worker restarted once after unpack, the running job finishes" t_upgrade
check "remove stops the worker and the timers, keeps conffiles" t_remove
check "purge removes configuration and state" t_purge
check "lintian: no errors, no warnings" t_lintian

echo "1..$n"
echo "# system test: $n checks, $failed failed, $(( $(now_ms) - T_START )) ms"
[ "${1:-}" = --meson ] || [ "$failed" -eq 0 ]
