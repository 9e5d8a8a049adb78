#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test) of handler pools (jobs-handler(7)) against a private local Redis, all in one
# run and on the same jobs (class Noop, one integer argument):
#   - in-process C handler (examples/hello-worker), concurrency 8, per-job log lines off;
#   - executable handler /bin/true (Handler=Noop /bin/true), concurrency 4, beside the raw
#     fork+exec+wait loop (bench/fork-exec) of the same parallelism, which says how loaded the
#     machine is;
#   - a no-op persistent handler (bench/pool-noop) in a [Pool] of Size=4, concurrency 8;
#   - the Ruby adapter (adapters/jobs-ruby-adapter) on a no-op Sidekiq worker class, [Pool] Size=2,
#     beside real Sidekiq 6.4.1 (bench/sidekiq-baseline.sh, one process, concurrency 10).
# Target: the pool of 4 >= 20,000 jobs/s; the Ruby adapter >= Sidekiq.
#   usage: bench/pool.sh [BUILD_DIR] [N] [N_EXEC] [N_RUBY]
set -euo pipefail
build=$(realpath "${1:-build}")
n=${2:-100000}
nx=${3:-3000}
nr=${4:-20000}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

now() { date +%s.%N; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }

# run_worker N CONF CONCURRENCY: jobs/s of jobs-worker with CONF for N pre-loaded jobs. The clock
# starts once the pool (if any) is up: each run first takes one job alone.
run_worker() {
        local count=$1 conf=$2 c=$3 s e
        R FLUSHALL >/dev/null
        fill 1
        JOBS_LOG_LEVEL=warning "$build/src/programs/jobs-worker" -C "$conf" -r "$URL" -c "$c" 2>"$T/worker.err" &
        WP=$!
        wait_drained
        fill "$count"
        s=$(now)
        wait_drained
        e=$(now)
        kill $WP; wait $WP || true; WP=
        rate "$count" "$s" "$e"
}

echo "== in-process C handler (hello-worker, class Noop), concurrency 8, $n jobs"
R FLUSHALL >/dev/null
fill "$n"
s=$(now)
JOBS_LOG_LEVEL=warning "$build/examples/hello-worker" -r "$URL" -c 8 --stop-after "$n" 2>/dev/null
e=$(now)
inproc=$(rate "$n" "$s" "$e")
printf '  %s jobs/s\n' "$inproc"

echo "== executable handler /bin/true, concurrency 4, $nx jobs"
printf '[Worker]\nHandler=Noop /bin/true\n' >"$T/exec.conf"
exec_rate=$(run_worker "$nx" "$T/exec.conf" 4)
raw=$("$build/bench/fork-exec" "$nx" 4)
printf '  %s jobs/s (raw fork+exec+wait loop of /bin/true, 4 in parallel: %s/s)\n' "$exec_rate" "$raw"

echo "== pool of 4 no-op persistent handlers (bench/pool-noop), concurrency 8, $n jobs"
printf '[Worker]\n[Pool]\nClass=Noop\nExecStart=%s\nSize=4\n' "$build/bench/pool-noop" >"$T/pool.conf"
pool_rate=$(run_worker "$n" "$T/pool.conf" 8)
printf '  %s jobs/s (target >= 20000; %.2fx the in-process C handler, whose Redis path it shares)\n' "$pool_rate" \
        "$(echo "$pool_rate / $inproc" | bc -l)"

echo "== Ruby adapter on a no-op Sidekiq worker class, [Pool] Size=2, concurrency 8, $nr jobs"
cat >"$T/noop.rb" <<'RUBY'
require "sidekiq"
class Noop
  include Sidekiq::Worker
  def perform(*); end
end
RUBY
printf '[Worker]\n[Pool]\nClass=Noop\nExecStart=%s -r %s\nSize=2\n' "$src/adapters/jobs-ruby-adapter" "$T/noop.rb" >"$T/ruby.conf"
ruby_rate=$(run_worker "$nr" "$T/ruby.conf" 8)
printf '  %s jobs/s\n' "$ruby_rate"

echo "== real Sidekiq $(ruby -e 'require "sidekiq"; print Sidekiq::VERSION'), one process, concurrency 10, $nr jobs (bench/sidekiq-baseline.sh, median of 3)"
sk=$(SIDEKIQ_BENCH_LOG=warn bash "$src/bench/sidekiq-baseline.sh" "$nr" 10 3 | sed -n 's/^sidekiq_jobs_per_sec=//p')
printf '  %s jobs/s\n' "$sk"

echo "== summary (jobs/s)"
printf '  in-process C %s | exec /bin/true %s | pool of 4 no-op %s (%.1fx exec) | Ruby adapter pool of 2 %s vs Sidekiq %s (%.2fx)\n' \
        "$inproc" "$exec_rate" "$pool_rate" "$(echo "$pool_rate / $exec_rate" | bc -l)" "$ruby_rate" "$sk" \
        "$(echo "$ruby_rate / $sk" | bc -l)"
