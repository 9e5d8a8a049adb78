#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test): real Sidekiq 6 throughput on this machine, the baseline jobs-worker is
# compared with. N no-op jobs are pre-pushed with Sidekiq::Client.push_bulk into a private Redis,
# then one `sidekiq -c 10` process runs them. Prints the figures, then one machine-readable last line
#   sidekiq_jobs_per_sec=NNNN
# (first job started → N-th job done, Sidekiq's boot excluded; the median of RUNS runs; the
# boot-inclusive figure is printed too).
#   usage: bench/sidekiq-baseline.sh [N] [CONCURRENCY] [RUNS]
#   env:   SIDEKIQ_BENCH_TCP=1     talk to Redis over loopback TCP instead of a unix socket
#          SIDEKIQ_BENCH_LOG=LEVEL Sidekiq's log level (default info, as Sidekiq ships: 2 lines per job)
set -euo pipefail
n=${1:-20000}
concurrency=${2:-10}
runs=${3:-3}
command -v sidekiq >/dev/null || { echo "sidekiq is not installed: apt-get install ruby-sidekiq" >&2; exit 1; }

T=$(mktemp -d)
redis_pid= sidekiq_pid=
cleanup() {
        [ -z "$sidekiq_pid" ] || kill -KILL "$sidekiq_pid" 2>/dev/null || true
        [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

if [ "${SIDEKIQ_BENCH_TCP:-0}" = 1 ]; then
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" --logfile "$T/redis.log" &
        redis_pid=$!
        export REDIS_URL="redis://127.0.0.1:$port/0"
        cli=(redis-cli -p "$port")
else
        redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly no --dir "$T" --logfile "$T/redis.log" &
        redis_pid=$!
        export REDIS_URL="unix://$T/redis.sock"
        cli=(redis-cli -s "$T/redis.sock")
fi
deadline=$((SECONDS + 20))
until "${cli[@]}" PING >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || { echo "redis-server did not start" >&2; exit 1; }
        sleep 0.05
done

cat > "$T/noop.rb" <<'RUBY'
# A no-op job that notes when the first job started and the N-th one finished (monotonic clock).
require "sidekiq"
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
Sidekiq.logger.level = ENV.fetch("SIDEKIQ_BENCH_LOG", "info").to_sym

BENCH_N = Integer(ENV.fetch("SIDEKIQ_BENCH_N"))
BENCH_LOCK = Mutex.new
$bench_done = 0

class Noop
  include Sidekiq::Worker
  def perform
    now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    BENCH_LOCK.synchronize do
      File.write(ENV.fetch("SIDEKIQ_BENCH_FIRST"), now.to_s) if $bench_done == 0
      $bench_done += 1
      File.write(ENV.fetch("SIDEKIQ_BENCH_LAST"), now.to_s) if $bench_done == BENCH_N
    end
  end
end
RUBY

# One run: pre-push the jobs (1,000 per push_bulk call, as Sidekiq's own client does it), start
# Sidekiq, wait for the N-th job, stop it. Appends "spawn first last" (monotonic seconds) to $T/runs.
run_once() {
        "${cli[@]}" FLUSHALL >/dev/null
        rm -f "$T/first" "$T/last"
        ruby -r sidekiq -e '
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
n = Integer(ARGV[0])
n.fdiv(1000).ceil.times do |i|
  k = [1000, n - i * 1000].min
  Sidekiq::Client.push_bulk("class" => "Noop", "args" => Array.new(k) { [] }, "retry" => false)
end
' "$n"
        [ "$("${cli[@]}" LLEN queue:default)" = "$n" ] || { echo "push_bulk did not push $n jobs" >&2; exit 1; }

        local t_spawn deadline left processed
        t_spawn=$(python3 -c 'import time; print(time.clock_gettime(time.CLOCK_MONOTONIC))')
        SIDEKIQ_BENCH_N=$n SIDEKIQ_BENCH_FIRST="$T/first" SIDEKIQ_BENCH_LAST="$T/last" \
                sidekiq -r "$T/noop.rb" -q default -c "$concurrency" -t 5 >"$T/sidekiq.log" 2>&1 &
        sidekiq_pid=$!
        deadline=$((SECONDS + 600))
        until [ -s "$T/last" ]; do
                kill -0 "$sidekiq_pid" 2>/dev/null || { echo "sidekiq died:" >&2; tail "$T/sidekiq.log" >&2; exit 1; }
                [ "$SECONDS" -lt "$deadline" ] || { echo "sidekiq did not finish $n jobs in 600 s" >&2; exit 1; }
                sleep 0.02
        done
        left=$("${cli[@]}" LLEN queue:default)
        # Stop it; Sidekiq flushes its processed counter at exit, which must then read N.
        kill -TERM "$sidekiq_pid"
        wait "$sidekiq_pid" 2>/dev/null || true
        sidekiq_pid=
        processed=$("${cli[@]}" GET stat:processed)
        [ "$left" = 0 ] || { echo "queue:default still holds $left jobs" >&2; exit 1; }
        [ "$processed" = "$n" ] || { echo "stat:processed is $processed, expected $n" >&2; exit 1; }
        echo "$t_spawn $(cat "$T/first") $(cat "$T/last")" >>"$T/runs"
}

for _ in $(seq "$runs"); do
        run_once
done

version=$(ruby -r sidekiq -e 'print Sidekiq::VERSION')
python3 - "$n" "$concurrency" "$version" "$REDIS_URL" "$T/runs" <<'PY'
import statistics, sys
n, c = int(sys.argv[1]), int(sys.argv[2])
version, url = sys.argv[3], sys.argv[4]
runs = [tuple(map(float, line.split())) for line in open(sys.argv[5])]
transport = "tcp" if url.startswith("redis://") else "unix socket"
print("Sidekiq %s, 1 process, concurrency %d, %d no-op jobs, Redis over %s, %d runs"
      % (version, c, n, transport, len(runs)))
print("  %-4s %10s %10s %14s %18s" % ("run", "boot s", "run s", "jobs/s", "jobs/s with boot"))
steady = []
for i, (spawn, first, last) in enumerate(runs, 1):
    steady.append(n / (last - first))
    print("  %-4d %10.3f %10.3f %14.0f %18.0f" % (i, first - spawn, last - first, n / (last - first), n / (last - spawn)))
print("  median jobs/s (first job -> last job): %.0f" % statistics.median(steady))
print("sidekiq_jobs_per_sec=%d" % round(statistics.median(steady)))
PY
