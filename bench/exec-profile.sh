#!/bin/bash
# SPDX-License-Identifier: MIT
# Where an executable handler's time goes (not a test): N jobs of class Noop with the handler
# /bin/true at concurrency P, then the raw fork+exec loop (bench/fork-exec) with the same P, in the
# same run. For the worker: jobs/s, CPU per job of the worker, of its handlers and of Redis
# (/proc/<pid>/stat), the worker's voluntary and involuntary context switches per job, and how often
# Redis wakes per job; for the loop: runs/s, CPU per run of the parent and of the children.
#   usage: bench/exec-profile.sh [BUILD_DIR] [N] [P]
set -euo pipefail
build=$(realpath "${1:-build}")
n=${2:-5000}
p=${3:-2}
. "$(dirname "$0")/lib.sh"
fill "$n"
printf '[Worker]\nHandler=Noop /bin/true\n' >"$T/worker.conf"
rp=$(cat "$T/pid")
ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; }  # own, reaped children
switches() { awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {i = $2} END {print v, i}' "/proc/$1/status"; }
read -r r0 _ < <(ticks "$rp")
read -r rv0 _ < <(switches "$rp")
s=$(date +%s.%N)
JOBS_LOG_LEVEL=warning "$build/src/programs/jobs-worker" -C "$T/worker.conf" -r "$URL" -c "$p" 2>/dev/null &
WP=$!
wait_drained
e=$(date +%s.%N)
read -r w wc < <(ticks "$WP")
read -r wv wi < <(switches "$WP")
read -r r1 _ < <(ticks "$rp")
read -r rv1 _ < <(switches "$rp")
kill "$WP"; wait "$WP" || true; WP=
python3 - "$n" "$s" "$e" "$w" "$wc" "$((r1 - r0))" "$wv" "$wi" "$((rv1 - rv0))" "$(getconf CLK_TCK)" <<'PY'
import sys
n, s, e, w, wc, r, wv, wi, rv, hz = map(float, sys.argv[1:])
us = lambda t: t / hz / n * 1e6
print("jobs-worker: %.0f jobs/s" % (n / (e - s)))
print("  per job: worker %.0f us CPU, handlers %.0f us, Redis %.0f us; worker %.2f voluntary / %.2f involuntary "
      "context switches; Redis woke %.2f times" % (us(w), us(wc), us(r), wv / n, wi / n, rv / n))
PY
echo "raw fork+exec loop: $("$build/bench/fork-exec" "$n" "$p" -v 2>"$T/raw") runs/s"
echo "  $(cat "$T/raw")"
