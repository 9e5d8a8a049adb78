#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet system test: the same package and the same schedule on several booted hosts (systemd-nspawn
# containers sharing one image) with one Redis, and every occurrence of every entry enqueued exactly
# once fleet-wide while hosts are powered off, timers are stopped and restarted, and a host dies
# holding jobs. TAP output, one line per check; the counts per occurrence are printed at the end.
#   tests/system/fleet.sh                 builds the .deb with packaging/build-deb.sh first
#   JOBS_DEB=path.deb tests/system/fleet.sh
#   tests/system/fleet.sh --meson         exit 0 when the TAP lines carry the verdict (meson's TAP reader)
#   JOBS_FLEET_LOGS=DIR                   keep the records, the claims and each host's journal in DIR
# Needs root. Every wait is a poll with a deadline on state read from Redis, systemd or the clock;
# the containers and Redis are always torn down.
#
# The hosts share the machine's network namespace (no --private-network), so they all reach one
# redis-server on the machine's loopback at a free port; each has its own hostname and machine id.
# Each job's handler appends "EVENT HOST TIME PAYLOAD" to the Redis list fleet:runs, EVENT being
# start or done; the occurrence a job stands for is read from its payload by fleet-count.py.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/system/lib.sh
. "$here/lib.sh"

# TAP line for one step of the scenario: step "description" function [args...]. Unlike lib.sh's check,
# the step runs in this shell (steps change the fleet's state) and its status is returned.
step() {
        local desc=$1; shift
        local rc t0
        t0=$(now_ms)
        "$@" > "$RUN/step.out" 2>&1
        rc=$?
        tap_line $rc "$desc" "$t0" < "$RUN/step.out"
        return $rc
}
now_s() { date +%s.%N | cut -c1-14; }

# The fleet ----------------------------------------------------------------------------------------

HOSTS=(fleet-h1 fleet-h2 fleet-h3 fleet-h4)
LOAD_SECS=6     # how long a load job runs
ALIVE=("${HOSTS[@]}")

# The schedule every host gets, and what fleet-count.py needs to know of each entry:
# NAME PERIOD_S RANDOMIZED_DELAY_S PERSISTENT
ENTRIES=(
        "fleet-2s 2 0 no"
        "fleet-3s 3 0 no"
        "fleet-4s 4 1 no"
        "fleet-5s 5 2 no"
        "fleet-persist 5 0 yes"
)
write_schedule() {
        cat <<'EOF'
# The fleet test's schedule: the same file on every host.
[Job]
Name=fleet-2s
Class=FleetRecord
Args=["fleet-2s"]
Every=2s

[Job]
Name=fleet-3s
Class=FleetRecord
Args=["fleet-3s"]
Every=3s

[Job]
Name=fleet-4s
Class=FleetRecord
Args=["fleet-4s"]
OnCalendar=*-*-* *:*:00/4
RandomizedDelaySec=1s

[Job]
Name=fleet-5s
Class=FleetRecord
Args=["fleet-5s"]
Every=5s
RandomizedDelaySec=2s

[Job]
Name=fleet-persist
Class=FleetRecord
Args=["fleet-persist"]
Every=5s
Persistent=yes
EOF
}
TIMERS=(jobs-fleet-2s.timer jobs-fleet-3s.timer jobs-fleet-4s.timer jobs-fleet-5s.timer jobs-fleet-persist.timer)

# Records each job in the test's Redis with as few processes as it can (a loaded machine runs
# hundreds of them): one redis-cli, the time from Redis. A schedule job records "run"; a load job
# (args ["load-N"]) records "start", runs LOAD_SECS, then records "done".
write_handler() {
        cat <<EOF
#!/bin/sh
IFS= read -r p
read -r h < /etc/hostname
rec() {
        redis-cli -h 127.0.0.1 -p $REDIS_PORT EVAL "local t = redis.call('TIME')
redis.call('RPUSH', 'fleet:runs', ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. t[1] .. '.' .. string.format('%06d', t[2]) .. ' ' .. ARGV[3])" \\
                0 "\$1" "\$h" "\$p" >/dev/null
}
case \$p in
*'"args":["load-'*) rec start && sleep $LOAD_SECS && rec done ;;
*) rec run ;;
esac
EOF
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# The claims in Redis, "KEY HOST JID" per line, added to claims.txt. A claim key expires (after at
# least a minute), so a background loop takes a snapshot every CLAIMS_EVERY seconds.
CLAIMS_EVERY=10
claims_snapshot() {
        rcli EVAL "local r = {}
for _, k in ipairs(redis.call('KEYS', 'jobs:claim:*')) do
  local v = redis.call('GET', k)
  if v then r[#r + 1] = k .. ' ' .. (string.gsub(v, '\\n', ' ')) end
end
return r" 0 >> "$RUN/claims.txt"
}
claims_loop() {
        while :; do
                claims_snapshot
                sleep "$CLAIMS_EVERY"
        done
}

redis_start() {
        REDIS_DIR=$(ct_run_dir)
        CT_CLEANUP+=("$REDIS_DIR")
        REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save '' --appendonly no \
                --daemonize no --logfile "$REDIS_DIR/redis.log" </dev/null &
        REDIS_PID=$!
        echo "$REDIS_PID" > "$REDIS_DIR/redis.pid"
        CT_KILL_PIDS+=("$REDIS_PID")
        wait_until 20 rcli PING || ct_die "redis-server on port $REDIS_PORT did not answer within 20 s"
}

# One image for every host: the cached root with the .deb installed (maintainer scripts run, units
# enabled, nothing started), the schedule, the handler, the Redis address. Sets IMAGE (a layer).
build_image() {
        local d; d=$(ct_run_dir)
        CT_CLEANUP+=("$d")
        mkdir -p "$d"/{upper,work,root}
        mount -t overlay overlay -o "lowerdir=$CT_LOWER,upperdir=$d/upper,workdir=$d/work" "$d/root" ||
                ct_die "cannot mount an overlay on $CT_LOWER (fleet.sh needs overlayfs)"
        local r="$d/root"
        # No man-db index rebuild on install: it is the slowest trigger and nothing here reads it.
        rm -f "$r/var/lib/man-db/auto-update"
        install -m 0644 "$DEB" "$r/var/tmp/jobs.deb"
        # Installed by dpkg in a container that is not booted: units are enabled, not started.
        if ! systemd-nspawn -q -D "$r" --register=no --keep-unit --private-network \
                env DEBIAN_FRONTEND=noninteractive dpkg -i /var/tmp/jobs.deb > "$d/dpkg.log" 2>&1; then
                tail -20 "$d/dpkg.log" >&2
                umount "$r"
                ct_die "installing $(basename "$DEB") in the image failed"
        fi
        rm -f "$r/var/tmp/jobs.deb"
        echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" > "$r/etc/default/jobs"
        # One Redis for the fleet, the test's: no host starts its own (it would bind the machine's 6379).
        ln -sf /dev/null "$r/etc/systemd/system/redis-server.service"
        # Only the test's schedule runs, whatever the package ships.
        local t
        for t in "$r"/lib/systemd/system/jobs-*.timer; do
                [ -e "$t" ] && ln -sf /dev/null "$r/etc/systemd/system/$(basename "$t")"
        done
        # A persistent journal, so a host's journal outlives it (JOBS_FLEET_LOGS).
        mkdir -p "$r/etc/jobs/handlers" "$r/var/log/journal"
        write_schedule > "$r/etc/jobs/fleet.schedule"
        write_handler > "$r/etc/jobs/handlers/FleetRecord"
        chmod 0755 "$r/etc/jobs/handlers/FleetRecord"
        umount "$r" || ct_die "cannot unmount the image $r"
        IMAGE="$d/upper"
}

boot_fleet() {
        local h
        for h in "${HOSTS[@]}"; do
                ct_prepare "$h" "$IMAGE" "$CT_LOWER"
                echo "$h" > "${CTS_ROOT[$h]}/etc/hostname"
                systemd-id128 new > "${CTS_ROOT[$h]}/etc/machine-id"
                ct_spawn "$h" --machine="$h-$$"
        done
        for h in "${HOSTS[@]}"; do
                ct_wait_booted "$h"
        done
}

# Observable state ---------------------------------------------------------------------------------

runs() { rcli LRANGE fleet:runs 0 -1; }
# Jobs of ENTRY started after time T (epoch seconds).
started_since() {
        local entry=$1 t=$2
        runs | awk -v e="\"args\":[\"$entry\"" -v t="$t" '($1 == "start" || $1 == "run") && $3 >= t && index($0, e) { c++ } END { print c + 0 }'
}
# Waits until COUNT jobs of ENTRY have started after time T.
wait_jobs() {
        local entry=$1 count=$2 t=$3 secs=${4:-60}
        wait_until "$secs" jobs_started "$entry" "$count" "$t" ||
                { fail "fewer than $count $entry jobs started within $secs s after $t"; return 1; }
}
jobs_started() { [ "$(started_since "$1" "$3")" -ge "$2" ]; }

timers_active() { # HOST: every timer of the schedule is active there
        [ "$(ctn "$1" systemctl is-active "${TIMERS[@]}" | grep -c '^active$')" -eq ${#TIMERS[@]} ]
}
on_hosts() { # on_hosts "HOST..." COMMAND...: runs COMMAND in each host side by side; fails if one fails
        local hosts=$1; shift
        local h pids=() r=0 p
        for h in $hosts; do
                ctn "$h" "$@" & pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || r=1; done
        return $r
}

set_alive() { # drops a host from ALIVE
        local h keep=()
        for h in "${ALIVE[@]}"; do [ "$h" = "$1" ] || keep+=("$h"); done
        ALIVE=("${keep[@]}")
}

# Scenario -----------------------------------------------------------------------------------------

s_flowing() {
        local h r=0
        for h in "${HOSTS[@]}"; do
                wait_until 30 timers_active "$h" || { ctn "$h" systemctl list-timers --no-pager; fail "$h: timers not active"; r=1; }
        done
        [ $r -eq 0 ] || return 1
        for h in "${HOSTS[@]}"; do
                note "$h: timers active, jobs-worker $(ctn "$h" systemctl is-active jobs-worker.service)"
        done
        # Counted from the next whole second: every host's timers are active by then.
        W0=$(( $(date +%s) + 1 ))
        echo "$W0" > "$RUN/w0"
        wait_jobs fleet-5s 2 "$W0" || r=1
        # Every host fires the schedule and runs jobs from the shared Redis.
        for h in "${HOSTS[@]}"; do
                wait_until 30 host_ran "$h" || { fail "$h ran no job within 30 s"; r=1; }
                wait_until 30 host_fired "$h" || { fail "$h: jobs-fleet-2s.service never ran"; r=1; }
        done
        note "runs per host so far: $(runs | awk '($1 == "done" || $1 == "run") { c[$2]++ } END { for (h in c) printf "%s=%d ", h, c[h] }')"
        return $r
}
host_ran() { runs | awk -v h="$1" '($1 == "done" || $1 == "run") && $2 == h { f = 1 } END { exit !f }'; }
host_fired() { [ "$(ctn "$1" journalctl -q --no-pager -u jobs-fleet-2s.service -o cat | grep -c .)" -ge 1 ]; }

s_poweroff() { # HOST
        local h=$1 t
        ct_poweroff "$h" 60 || { fail "$h did not power off cleanly"; return 1; }
        set_alive "$h"
        t=$(now_s)
        note "$h powered off at $t; alive: ${ALIVE[*]}"
        wait_jobs fleet-5s 2 "$t" && wait_jobs fleet-2s 3 "$t"
}

# Stops every timer of the schedule on every live host, lets one occurrence of the Persistent=yes
# entry pass, then starts the timers on two hosts: that occurrence is caught up exactly once.
s_timers_gap() {
        local t last
        # right after an occurrence of fleet-persist ran, so the stop is well inside one period
        t=$(now_s)
        wait_jobs fleet-persist 1 "$t" 30 || return 1
        GAP_STOP0=$(now_s)
        on_hosts "${ALIVE[*]}" systemctl stop "${TIMERS[@]}" || { fail "stopping the timers failed"; return 1; }
        GAP_STOP1=$(now_s)
        # the first fleet-persist occurrence no timer can fire any more
        GAP_MISSED=$(awk -v t="$GAP_STOP1" 'BEGIN { printf "%d\n", (int(t / 5) + 1) * 5 }')
        note "timers stopped on ${ALIVE[*]} at $GAP_STOP0..$GAP_STOP1; fleet-persist occurrence $GAP_MISSED passes with no timer"
        wait_until 30 clock_past "$GAP_MISSED" || { fail "the clock did not pass $GAP_MISSED"; return 1; }
        GAP_HOSTS="${ALIVE[0]} ${ALIVE[1]}"
        GAP_START0=$(now_s)
        on_hosts "$GAP_HOSTS" systemctl start "${TIMERS[@]}" || { fail "starting the timers failed"; return 1; }
        GAP_START1=$(now_s)
        note "timers started again on $GAP_HOSTS at $GAP_START0..$GAP_START1"
        printf '%s\n' "$GAP_STOP0" "$GAP_STOP1" "$GAP_START0" "$GAP_START1" > "$RUN/gap"
        wait_jobs fleet-persist 1 "$GAP_START0" 30 || return 1
        last=$(awk -v t="$GAP_START0" 'BEGIN { printf "%d\n", int(t / 5) * 5 }')
        note "catch-up occurrence: $last ($( [ "$last" = "$GAP_MISSED" ] && echo 'the missed one' || echo 'a later one: the restart came late'))"
        # What each host's enqueue said about it: one enqueued, the other found it claimed.
        local h
        for h in $GAP_HOSTS; do
                ctn "$h" journalctl -q --no-pager -u jobs-fleet-persist.service --since "@${GAP_START0%.*}" -o cat |
                        grep -i 'occurrence' | head -2 | sed "s/^/$h: /"
        done
        wait_jobs fleet-5s 2 "$GAP_START1"
}
clock_past() { awk -v t="$1" -v now="$(date +%s.%N)" 'BEGIN { exit !(now >= t + 0.5) }'; }

# Loads every worker with long jobs, kills the host whose worker holds some (as a power cut): the
# jobs it held are run by another host once its heartbeat expires; no load job is lost.
LOAD_JOBS=15
s_kill_holder() {
        local victim=$1 i jid r=0
        : > "$RUN/load.jids"
        for i in $(seq 1 $LOAD_JOBS); do
                jid=$(ctn "${ALIVE[0]}" env "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" jobs-enqueue --args "[\"load-$i\"]" FleetRecord) ||
                        { fail "enqueue of load job $i failed"; return 1; }
                echo "$jid" >> "$RUN/load.jids"
        done
        wait_until 30 holds "$victim" 2 || { fail "$victim's worker never held 2 load jobs"; return 1; }
        KILL_AT=$(now_s)
        ct_kill "$victim"
        set_alive "$victim"
        # What it held, frozen until its heartbeat expires and another worker recovers the lists.
        rcli --scan --pattern "jobs:inflight:$victim:*" | while read -r k; do rcli LRANGE "$k" 0 -1; done |
                sed -n 's/.*"jid":"\([0-9a-f]*\)".*/\1/p' | sort -u > "$RUN/held.jids"
        note "killed $victim at $KILL_AT holding $(wc -l < "$RUN/held.jids") jobs: $(tr '\n' ' ' < "$RUN/held.jids")"
        [ -s "$RUN/held.jids" ] || { fail "no in-flight jobs of $victim found in Redis"; return 1; }
        local deadline=$((20 + 5 + LOAD_SECS + 60))
        if ! wait_until "$deadline" held_run_elsewhere "$victim"; then
                fail "jobs held by $victim not run to the end by another host within $deadline s"; r=1
        fi
        local last
        last=$(while read -r jid; do runs | awk -v j="\"jid\":\"$jid\"" -v v="$victim" '($1 == "start" || $1 == "run") && $2 != v && index($0, j) { print $3 }'; done < "$RUN/held.jids" | sort -n | tail -1)
        note "the last held job started on another host $(awk -v a="$KILL_AT" -v b="${last:-0}" 'BEGIN { printf "%.1f", b - a }') s after the kill (worker alive TTL 20 s, heartbeat 5 s)"
        wait_until 60 all_done "$RUN/load.jids" || { fail "not every load job ran to the end"; r=1; }
        return $r
}
holds() { [ "$(rcli --scan --pattern "jobs:inflight:$1:*" | while read -r k; do rcli LLEN "$k"; done | awk '{ s += $1 } END { print s + 0 }')" -ge "$2" ]; }
held_run_elsewhere() { # every held jid has a done record from another host
        local jid all; all=$(runs)
        while read -r jid; do
                awk -v j="\"jid\":\"$jid\"" -v v="$1" '($1 == "done" || $1 == "run") && $2 != v && index($0, j) { f = 1 } END { exit !f }' <<<"$all" || return 1
        done < "$RUN/held.jids"
}
all_done() {
        local jid all; all=$(runs)
        while read -r jid; do
                awk -v j="\"jid\":\"$jid\"" '$1 == "done" && index($0, j) { f = 1 } END { exit !f }' <<<"$all" || return 1
        done < "$1"
}

# Runs until the counted window is long enough, then stops the last timers and waits until every
# job enqueued has run.
s_finish() {
        local min=$1
        wait_until $((min + 60)) clock_past $((W0 + min)) || { fail "clock"; return 1; }
        W1=$(now_s)
        # A loaded host fires its timers late: the last occurrences counted must have fired before the stop.
        python3 "$here/fleet-count.py" --entries "$RUN/entries.txt" --last "$W1" > "$RUN/last.txt"
        wait_until 60 timers_fired "$RUN/last.txt" || { fail "timers not fired 60 s after the window's end"; cat "$RUN/last.txt"; return 1; }
        on_hosts "${ALIVE[*]}" systemctl stop "${TIMERS[@]}" || { fail "stopping the timers failed"; return 1; }
        echo "$W1" > "$RUN/w1"
        # A service a timer started before the stop may still be claiming and pushing its job.
        wait_until 60 enqueues_done || { fail "schedule services still running 60 s after the timers stopped"; return 1; }
        wait_until 60 quiet || { fail "jobs still queued or running 60 s after the timers stopped"; rcli LLEN queue:default; return 1; }
        note "counted window: $W0 .. $W1 ($(awk -v a="$W0" -v b="$W1" 'BEGIN { printf "%.0f", b - a }') s)"
}
timers_fired() { # timers_fired FILE: for each "NAME LAST DELAY", some live host's timer of NAME is past LAST
        local name last delay h next fired
        while read -r name last delay; do
                fired=0
                for h in "${ALIVE[@]}"; do
                        # (in seconds: systemctl show prints it for people; empty when the timer is stopped)
                        next=$(ctn "$h" systemctl show -P NextElapseUSecRealtime "jobs-$name.timer" </dev/null)
                        [ -n "$next" ] && next=$(date -d "$next" +%s 2>/dev/null) || continue
                        # the next elapse (with or without its random delay) is the occurrence after LAST once LAST fired
                        awk -v n="$next" -v l="$last" -v d="$delay" 'BEGIN { exit !(n > l + d) }' &&
                                { fired=1; break; }
                done
                [ "$fired" = 1 ] || return 1
        done < "$1"
}
enqueues_done() { # no entry's service is starting, running or waiting to restart on any live host
        local h st
        for h in "${ALIVE[@]}"; do
                st=$(ctn "$h" systemctl is-active "${TIMERS[@]/%.timer/.service}") # (not 0 when some are inactive)
                ! grep -qE '^(activating|active|deactivating|reloading)$' <<<"$st" || return 1
        done
}
quiet() { # nothing queued, and every job that started has finished (on some host)
        [ "$(rcli LLEN queue:default)" = 0 ] || return 1
        runs | awk '{ match($0, /"jid":"[0-9a-f]*"/); j = substr($0, RSTART, RLENGTH) }
                $1 == "start" { s[j] = 1 } $1 == "done" || $1 == "run" { d[j] = 1 }
                END { for (j in s) if (!(j in d)) exit 1 }'
}

s_count() {
        runs > "$RUN/runs.txt"
        claims_snapshot
        python3 "$here/fleet-count.py" --entries "$RUN/entries.txt" --runs "$RUN/runs.txt" \
                --window "$W0" "$W1" --gap "$(tr '\n' ' ' < "$RUN/gap")" \
                --load "$RUN/load.jids" --claims "$RUN/claims.txt"
}

# The evidence, kept when JOBS_FLEET_LOGS names a directory: records, claims, the journal of every
# host (read from its root, so also of the hosts that were powered off or killed).
keep_logs() {
        local dir=${JOBS_FLEET_LOGS:-} h
        [ -n "$dir" ] || return 0
        mkdir -p "$dir" && cp "$RUN"/*.txt "$RUN"/*.jids "$dir/" 2>/dev/null
        for h in "${HOSTS[@]}"; do
                [ -n "${CTS_ROOT[$h]:-}" ] || continue
                journalctl --no-pager -q -D "${CTS_ROOT[$h]}/var/log/journal/$(cat "${CTS_ROOT[$h]}/etc/machine-id")" \
                        -o short-unix > "$dir/$h.journal" 2>&1
        done
        echo "# evidence kept in $dir"
}

# Main ---------------------------------------------------------------------------------------------

ct_setup
RUN=$(ct_run_dir)
CT_CLEANUP+=("$RUN")
ct_deb "$RUN"
printf '%s\n' "${ENTRIES[@]}" > "$RUN/entries.txt" # NAME PERIOD DELAY PERSISTENT, for fleet-count.py

t0=$(now_ms)
redis_start
claims_loop &
CT_KILL_PIDS=("$!" "${CT_KILL_PIDS[@]}")   # before Redis
build_image
echo "# image with $(basename "$DEB") and Redis on 127.0.0.1:$REDIS_PORT ready in $(( $(now_ms) - t0 )) ms"
t0=$(now_ms)
boot_fleet
echo "# ${#HOSTS[@]} hosts booted in $(( $(now_ms) - t0 )) ms"

W0=0 W1=0
step "${#HOSTS[@]} hosts run the schedule and the worker against one Redis" s_flowing || { echo "Bail out! the fleet does not run"; exit 1; }
W0=$(cat "$RUN/w0")
step "power off ${HOSTS[3]}: the others go on" s_poweroff "${HOSTS[3]}"
step "stop every timer across an occurrence, start them on two hosts: the Persistent=yes entry catches up" s_timers_gap
[ -f "$RUN/gap" ] || echo "0 0 0 0" > "$RUN/gap"
step "kill ${HOSTS[2]} while its worker holds jobs: another host runs them, none lost" s_kill_holder "${HOSTS[2]}"
step "power off ${HOSTS[1]}: ${HOSTS[0]} alone goes on" s_poweroff "${HOSTS[1]}"
step "the schedule ran for 120 s; every job enqueued has run" s_finish 120
W1=$(cat "$RUN/w1" 2>/dev/null || now_s)
step "exactly one job per occurrence of every entry, none missing" s_count
keep_logs

echo "1..$n"
echo "# fleet test: $n checks, $failed failed, $(( $(now_ms) - T_START )) ms"
[ "${1:-}" = --meson ] || [ "$failed" -eq 0 ]
