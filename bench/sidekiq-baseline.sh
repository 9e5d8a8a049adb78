#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test): real Sidekiq 6 throughput on this machine, the baseline jobs-worker is
# compared with. N no-op jobs are pre-pushed with Sidekiq::Client.push_bulk into a private Redis,
# then one `sidekiq -c 10` process runs them. Prints the figures, then one machine-readable last line
#   sidekiq_jobs_per_sec=NNNN
# (first job started → N-th job done, Sidekiq's boot excluded; the boot-inclusive figure is printed too).
#   usage: bench/sidekiq-baseline.sh [N] [CONCURRENCY]
#   env:   SIDEKIQ_BENCH_TCP=1     talk to Redis over loopback TCP instead of a unix socket
#          SIDEKIQ_BENCH_LOG=LEVEL Sidekiq's log level (default info, as Sidekiq ships: 2 lines per job)
set -euo pipefail
n=${1:-20000}
concurrency=${2:-10}
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

# Pre-push the jobs, 1,000 per push_bulk call, as Sidekiq's own client does it.
ruby -r sidekiq -e '
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
n = Integer(ARGV[0])
n.fdiv(1000).ceil.times do |i|
  k = [1000, n - i * 1000].min
  Sidekiq::Client.push_bulk("class" => "Noop", "args" => Array.new(k) { [] }, "retry" => false)
end
' "$n"
[ "$("${cli[@]}" LLEN queue:default)" = "$n" ] || { echo "push_bulk did not push $n jobs" >&2; exit 1; }

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

version=$(ruby -r sidekiq -e 'print Sidekiq::VERSION')
python3 - "$n" "$concurrency" "$t_spawn" "$(cat "$T/first")" "$(cat "$T/last")" "$version" "$REDIS_URL" <<'PY'
import sys
n, c = int(sys.argv[1]), int(sys.argv[2])
spawn, first, last = map(float, sys.argv[3:6])
version, url = sys.argv[6], sys.argv[7]
transport = "tcp" if url.startswith("redis://") else "unix socket"
steady = n / (last - first)
boot = n / (last - spawn)
print("Sidekiq %s, 1 process, concurrency %d, %d no-op jobs, Redis over %s" % (version, c, n, transport))
print("  boot (spawn -> first job):          %8.3f s" % (first - spawn))
print("  run  (first job -> job %d done): %8.3f s" % (n, last - first))
print("  jobs/s including boot:              %8.0f" % boot)
print("  jobs/s (first job -> last job):     %8.0f" % steady)
print("sidekiq_jobs_per_sec=%d" % round(steady))
PY
