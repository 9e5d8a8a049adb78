#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test): how soon an idle worker starts a job pushed into one of its queues, with 1
# and with 5 queues, for jobs-worker (libjobs with an in-process handler, bench/pickup-worker.c)
# and real Sidekiq (Debian's ruby-sidekiq, BRPOP on all its queues), measured in the same run
# against the same private Redis (unix socket).
#
# One job at a time: the pusher waits a random 5-25 ms (the worker is idle again), notes
# CLOCK_MONOTONIC, LPUSHes the job (its only argument is that time) into the next queue in turn; the
# handler notes the clock when it starts and writes the difference to a pipe the pusher reads before
# the next push. Prints p50, p99 and the maximum over N jobs (after 20 not counted), and the worst
# queue's p99. Then an idle jobs-worker with 5 queues over 30 s: RSS, wakeups, Redis round trips.
# Goal: p99 <= 5 ms on every queue; idle <= 4 MiB, <= 1 wakeup/s, <= 1 round trip/s.
#   usage: bench/pickup.sh [BUILD_DIR] [N]
set -euo pipefail
build=$(realpath "${1:-build}")
n=${2:-1000}
. "$(dirname "$0")/lib.sh"
command -v sidekiq >/dev/null || { echo "sidekiq is not installed: apt-get install ruby-sidekiq" >&2; exit 1; }
SP=
trap 'kill $(cat $T/pid) 2>/dev/null; [ -z "${WP:-}" ] || kill $WP 2>/dev/null; [ -z "$SP" ] || kill -9 $SP 2>/dev/null; rm -rf $T' EXIT

mkfifo "$T/fifo"
exec 3<>"$T/fifo" # held open both ways: no open of it ever blocks

cat >"$T/stamp.rb" <<'RUBY'
# Sidekiq's side: the job's argument is when it was pushed (CLOCK_MONOTONIC ns).
require "sidekiq"
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
Sidekiq.logger.level = :warn
PICKUP_OUT = File.open(ENV.fetch("PICKUP_FIFO"), "w")
PICKUP_OUT.sync = true
PICKUP_LOCK = Mutex.new

class Stamp
  include Sidekiq::Worker
  def perform(pushed)
    now = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    PICKUP_LOCK.synchronize { PICKUP_OUT.write("q #{now - pushed}\n") }
  end
end
RUBY

# push NAME QUEUE...: N + 20 jobs, one at a time; prints one result line.
push() {
        python3 - "$T/redis.sock" "$T/fifo" "$n" "$@" <<'PY'
import json, os, random, socket, statistics, sys, time
sock, fifo, n, name, queues = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = os.open(fifo, os.O_RDONLY)
buf = b""
def line():
    global buf
    while b"\n" not in buf:
        buf += os.read(f, 4096)
    l, buf = buf.split(b"\n", 1)
    return l.decode()
def cmd(*a):
    req = "*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x.encode()), x) for x in a)
    s.sendall(req.encode())
    r = s.recv(256)
    assert r.startswith(b":"), r
warm = 20
lat = {q: [] for q in queues}
for i in range(n + warm):
    q = queues[i % len(queues)]
    time.sleep(random.uniform(0.005, 0.025))
    t = time.monotonic_ns()
    j = json.dumps({"class": "Stamp", "args": [t], "retry": False, "queue": q, "jid": "%024x" % i,
                    "created_at": time.time(), "enqueued_at": time.time()}, separators=(",", ":"))
    cmd("LPUSH", "queue:" + q, j)
    ns = int(line().split()[-1])
    if i >= warm:
        lat[q].append(ns / 1e6)
every = sorted(x for v in lat.values() for x in v)
def p(v, k):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(k / 100 * (len(v) - 1))))]
worst = max(queues, key=lambda q: p(lat[q], 99))
print("  %-28s %6d jobs  p50 %7.3f ms  p99 %7.3f ms  max %8.3f ms  worst queue %s p99 %.3f ms"
      % (name, len(every), p(every, 50), p(every, 99), every[-1], worst, p(lat[worst], 99)))
PY
}

Q5=(q1 q2 q3 q4 q5)
echo "== idle -> handler start, one job at a time ($n jobs per line, Redis on a unix socket)"
for queues in "q1" "${Q5[*]}"; do
        read -ra qs <<<"$queues"
        R FLUSHALL >/dev/null
        JOBS_LOG_LEVEL=warning "$build/bench/pickup-worker" "$URL" "${qs[@]}" 2>"$T/worker.log" &
        WP=$!
        until [ -n "$(R --raw SMEMBERS processes)" ]; do sleep 0.05; done
        push "jobs-worker, ${#qs[@]} queue(s)" "${qs[@]}"
        kill $WP; wait $WP || true; WP=

        R FLUSHALL >/dev/null
        qargs=()
        for q in "${qs[@]}"; do qargs+=(-q "$q"); done
        PICKUP_FIFO="$T/fifo" REDIS_URL="$URL" sidekiq -r "$T/stamp.rb" "${qargs[@]}" -c 5 -t 1 >"$T/sidekiq.log" 2>&1 &
        SP=$!
        until [ -n "$(R --raw SMEMBERS processes)" ]; do
                kill -0 $SP 2>/dev/null || { echo "sidekiq died:" >&2; tail "$T/sidekiq.log" >&2; exit 1; }
                sleep 0.05
        done
        push "Sidekiq $(ruby -r sidekiq -e 'print Sidekiq::VERSION'), ${#qs[@]} queue(s)" "${qs[@]}"
        kill -TERM $SP; wait $SP 2>/dev/null || true; SP=
done

echo "== idle jobs-worker over 30 s (watchdog 30 s, 5 queues)"
R FLUSHALL >/dev/null
qargs=()
for q in "${Q5[@]}"; do qargs+=(-q "$q"); done
WATCHDOG_USEC=30000000 "$build/src/programs/jobs-worker" -r "$URL" "${qargs[@]}" 2>/dev/null &
WP=$!
blocked() { [ "$(R CLIENT LIST | grep 'flags=b' | grep -c cmd=blmove)" = 5 ]; }
until [ -n "$(R --raw SMEMBERS processes)" ] && blocked; do sleep 0.05; done
sleep 2
v1=$(awk '/^voluntary/ {print $2}' /proc/$WP/status)
sleep 30
v2=$(awk '/^voluntary/ {print $2}' /proc/$WP/status)
rss=$(awk '/^VmRSS/ {print $2}' /proc/$WP/status)
timeout 30 strace -f -c -e trace=write,sendmsg -p $WP -o "$T/strace" 2>/dev/null || true
writes=$(awk '$NF == "write" {print $4}' "$T/strace")
kill $WP; wait $WP || true; WP=
printf '  RSS %s KiB; in 30 s: %s wakeups, %s Redis round trips (%s wakeups/s, %s round trips/s)\n' \
        "$rss" "$((v2 - v1))" "${writes:-0}" "$(echo "scale=2; $((v2 - v1)) / 30" | bc)" "$(echo "scale=2; ${writes:-0} / 30" | bc)"
