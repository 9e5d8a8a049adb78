#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test) of jobs-worker against a private local Redis (unix socket), all in one run:
#   - in-process C handler (examples/hello-worker, class Noop): jobs/s for N no-op jobs, with the
#     per-job log lines off (JOBS_LOG_LEVEL=warning) and on (info, to /dev/null);
#   - executable handler /bin/true (jobs-worker, Handler=Noop /bin/true): jobs/s beside a raw
#     fork+exec+wait loop of /bin/true with the same parallelism (bench/fork-exec), and (as root, with
#     a writable cgroup v2) jobs/s with a cgroup per job (JOBS_CGROUP_ROOT) beside without;
#   - redis-benchmark of the commands each job costs (LMOVE to fetch, LREM to ack), pipelined;
#   - an idle worker over 30 s (the poller's random 2.5-7.5 s makes a shorter window a poor
#     estimate of the rate): RSS, wakeups (voluntary context switches), Redis round trips (the
#     worker's write() calls, by strace) and commands (INFO commandstats, Lua's inner calls included).
# Targets: in-process >= 35,000 jobs/s; exec >= 0.8x the raw loop, with a cgroup per job too; idle <= 4 MiB, <= 1 wakeup/s,
# <= 1 round trip/s.   usage: bench/worker.sh [BUILD_DIR] [N_INPROCESS] [N_EXEC]
set -euo pipefail
build=$(realpath "${1:-build}")
n=${2:-100000}
nx=${3:-5000}
. "$(dirname "$0")/lib.sh"

now() { date +%s.%N; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }

echo "== redis-benchmark: the commands of one job (pipelined 64, unix socket)"
R FLUSHALL >/dev/null
lpush=$(redis-benchmark -s "$T/redis.sock" -n "$n" -P 64 -q LPUSH benchq payload-of-about-two-hundred-bytes | grep -o '[0-9.]* requests' | cut -d' ' -f1)
lmove=$(redis-benchmark -s "$T/redis.sock" -n "$n" -P 64 -q LMOVE benchq benchinflight RIGHT LEFT | grep -o '[0-9.]* requests' | cut -d' ' -f1)
lrem=$(redis-benchmark -s "$T/redis.sock" -n "$n" -P 64 -q LREM benchinflight -1 payload-of-about-two-hundred-bytes | grep -o '[0-9.]* requests' | cut -d' ' -f1)
both=$(python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.0f' % (1 / (1 / a + 1 / b)))" "$lmove" "$lrem")
printf '  LMOVE %s/s, LREM %s/s -> at most %s jobs/s for fetch+ack (LPUSH %s/s)\n' "$lmove" "$lrem" "$both" "$lpush"

echo "== in-process C handler (hello-worker, class Noop), $n jobs"
for c in 5 64; do
        for lvl in warning info; do
                R FLUSHALL >/dev/null
                fill "$n"
                s=$(now)
                JOBS_LOG_LEVEL=$lvl "$build/examples/hello-worker" -r "$URL" -c $c --stop-after "$n" 2>/dev/null
                e=$(now)
                printf '  concurrency %-3s per-job log %-4s %8s jobs/s\n' "$c" "$([ $lvl = info ] && echo on || echo off)" "$(rate "$n" "$s" "$e")"
        done
done

echo "== executable handler /bin/true vs raw fork+exec, $nx jobs (median of 5 alternating runs)"
printf '[Worker]\nHandler=Noop /bin/true\n' >"$T/worker.conf"
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
# A cgroup per job needs a delegated cgroup v2 directory: as root, a scratch one given to the worker
# as $JOBS_CGROUP_ROOT (what Delegate=yes gives the service); its controllers are whatever this host's
# cgroup v2 offers (none on a hybrid host, where memory and pids are bound to v1).
CG=
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ "$(id -u)" = 0 ] && [ -n "$cg2" ] && mkdir "$cg2$(sed -n 's/^0:://p' /proc/self/cgroup | sed 's|/$||')/jobs-bench-$$" 2>/dev/null; then
        CG="$cg2$(sed -n 's/^0:://p' /proc/self/cgroup | sed 's|/$||')/jobs-bench-$$"
        trap 'kill $(cat $T/pid) 2>/dev/null; [ -z "${WP:-}" ] || kill $WP 2>/dev/null; rm -rf $T;
              for d in "$CG"/*/; do rmdir "$d" 2>/dev/null; done; rmdir "$CG"' EXIT
        echo "  cgroup per job in $CG (controllers offered: $(cat "$CG/cgroup.controllers" | tr -d '\n' || true))"
fi
# worker_run [ENV...]: jobs/s of jobs-worker over $nx jobs at concurrency $c
worker_run() {
        local s e
        R FLUSHALL >/dev/null
        fill "$nx"
        s=$(now)
        env "$@" JOBS_LOG_LEVEL=warning "$build/src/programs/jobs-worker" -C "$T/worker.conf" -r "$URL" -c $c 2>/dev/null &
        WP=$!
        wait_drained
        e=$(now)
        kill $WP; wait $WP || true; WP=
        rate "$nx" "$s" "$e"
}
for c in 2 4; do
        ws=() cgs=() raws=()
        for _ in 1 2 3 4 5; do
                ws+=("$(worker_run JOBS_CGROUP_ROOT=)")
                [ -z "$CG" ] || cgs+=("$(worker_run JOBS_CGROUP_ROOT="$CG")")
                raws+=("$("$build/bench/fork-exec" "$nx" $c)")
        done
        w=$(median "${ws[@]}") raw=$(median "${raws[@]}")
        printf '  parallel %s: jobs-worker %s jobs/s (%s), raw fork+exec %s/s (%s), ratio %s\n' "$c" "$w" "${ws[*]}" "$raw" \
                "${raws[*]}" "$(ratio "$w" "$raw")"
        if [ -n "$CG" ]; then
                cgw=$(median "${cgs[@]}")
                printf '  parallel %s: jobs-worker with a cgroup per job %s jobs/s (%s): %s of without, %s of raw fork+exec\n' \
                        "$c" "$cgw" "${cgs[*]}" "$(ratio "$cgw" "$w")" "$(ratio "$cgw" "$raw")"
        fi
done
[ -n "$CG" ] || echo "  (a cgroup per job not measured: needs root and a writable cgroup v2 hierarchy)"

echo "== idle jobs-worker over 30 s (watchdog 30 s, one queue)"
R FLUSHALL >/dev/null
WATCHDOG_USEC=30000000 "$build/src/programs/jobs-worker" -r "$URL" 2>/dev/null &
WP=$!
until R EXISTS "jobs:alive:$(hostname):$WP:*" >/dev/null 2>&1 && [ -n "$(R --raw SMEMBERS processes)" ]; do sleep 0.05; done
sleep 2
v1=$(awk '/^voluntary/ {print $2}' /proc/$WP/status)
sleep 30
v2=$(awk '/^voluntary/ {print $2}' /proc/$WP/status)
rss=$(awk '/^VmRSS/ {print $2}' /proc/$WP/status)
R CONFIG RESETSTAT >/dev/null
timeout 30 strace -c -e trace=write,sendmsg -p $WP -o "$T/strace" 2>/dev/null || true
calls=$(R INFO commandstats | grep -v 'config|resetstat\|^#' | grep -o 'calls=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
writes=$(awk '$NF == "write" {print $4}' "$T/strace")
kill $WP; wait $WP || true; WP=
printf '  RSS %s KiB; in 30 s: %s wakeups, %s Redis round trips, %s Redis commands (%s wakeups/s, %s round trips/s)\n' \
        "$rss" "$((v2 - v1))" "${writes:-0}" "$calls" "$(echo "scale=2; $((v2 - v1)) / 30" | bc)" "$(echo "scale=2; ${writes:-0} / 30" | bc)"
