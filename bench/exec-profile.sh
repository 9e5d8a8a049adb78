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
T=$(mktemp -d)
trap 'kill $(cat $T/pid) 2>/dev/null; [ -z "${WP:-}" ] || kill $WP 2>/dev/null; rm -rf $T' EXIT
redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly no --daemonize yes \
        --pidfile "$T/pid" --logfile "$T/log" --dir "$T"
until redis-cli -s "$T/redis.sock" PING >/dev/null 2>&1; do sleep 0.05; done
python3 - "$n" <<'PY' | redis-cli -s "$T/redis.sock" --pipe >/dev/null
import json, sys
for i in range(int(sys.argv[1])):
    j = json.dumps({"class": "Noop", "args": [i], "retry": True, "queue": "default", "jid": "%024x" % i,
                    "created_at": 1764240000.5, "enqueued_at": 1764240000.5}, separators=(",", ":"))
    sys.stdout.write("*3\r\n$5\r\nLPUSH\r\n$13\r\nqueue:default\r\n$%d\r\n%s\r\n" % (len(j), j))
PY
printf '[Worker]\nHandler=Noop /bin/true\n' >"$T/worker.conf"
rp=$(cat "$T/pid")
ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; }  # own, reaped children
switches() { awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {i = $2} END {print v, i}' "/proc/$1/status"; }
read -r r0 _ < <(ticks "$rp")
read -r rv0 _ < <(switches "$rp")
s=$(date +%s.%N)
JOBS_LOG_LEVEL=warning "$build/src/programs/jobs-worker" -C "$T/worker.conf" -r "unix://$T/redis.sock" -c "$p" 2>/dev/null &
WP=$!
# Until the queue and the in-flight lists are empty: one connection, a check every 10 ms.
python3 - "$T/redis.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
script = ("local n = redis.call('LLEN', 'queue:default') "
          "for _, k in ipairs(redis.call('KEYS', 'jobs:inflight:*')) do n = n + redis.call('LLEN', k) end return n")
req = "*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
while True:
    s.sendall(req.encode())
    if s.recv(64).startswith(b":0\r\n"):
        break
    time.sleep(0.01)
PY
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
