#!/bin/bash
# SPDX-License-Identifier: MIT
# A mixed fleet, as during a migration: a real Sidekiq process and jobs-worker take jobs from the same
# queues at the same time. Every job, pushed by Sidekiq's client or by jobs-enqueue, runs exactly once;
# Sidekiq's API sees both processes and counts the work of both.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
E="$BIN/jobs-enqueue"
redis_start
handlers_init
jobs_worker_start -q default -q critical -c 4
sidekiq_start -q default -q critical -c 4
both_listed() {
        sidekiq_alive
        jobs_worker_alive
        [ "$(redis_cli SCARD processes)" = 2 ]
}
wait_for "Sidekiq and jobs-worker to register" 60 both_listed
rb '
ps = Sidekiq::ProcessSet.new.to_a
check(ps.size == 2, "ProcessSet lists both processes: #{ps.map(&:identity)}")
check(ps.map { |p| p["pid"] }.sort == ARGV.map { |x| Integer(x) }.sort, "pids #{ps.map { |p| p["pid"] }} vs #{ARGV}")
check(Sidekiq::ProcessSet.new.total_concurrency == 8, "total concurrency 8")
' "$WORKER_PID" "$SIDEKIQ_PID"
ok "Sidekiq::ProcessSet lists the Sidekiq process and jobs-worker side by side"

# 300 jobs: 200 from Sidekiq's client (bulk, on two queues), 100 from jobs-enqueue.
rb '
ids = Sidekiq::Client.push_bulk("class" => "Record", "args" => (1..150).map { |i| [i, {"from" => "ruby"}] })
ids += Sidekiq::Client.push_bulk("class" => "Record", "queue" => "critical", "args" => (1..50).map { |i| [i] })
File.write(ARGV[0], ids.join("\n") + "\n")
' "$T/jids"
for i in $(seq 100); do
        "$E" --args "[$i, {\"from\": \"jobs-enqueue\"}]" Record >>"$T/jids"
done
assert_eq "$(sort -u "$T/jids" | wc -l)" 300 "distinct jids pushed"

done_count() { { cat "$SIDEKIQ_OUT"; ls "$T/ran" | grep -v '\.tmp$'; } | wc -l; }
all_done() { sidekiq_alive; [ "$(done_count)" -ge 300 ]; }
wait_for "all 300 jobs to run" 120 all_done
rb '
jids_file, out, ran = ARGV
jids = File.readlines(jids_file, chomp: true)
by_sidekiq = File.readlines(out).map { |l| JSON.parse(l)["job"]["jid"] }
by_worker = Dir.children(ran).reject { |f| f.end_with?(".tmp") }
all = by_sidekiq + by_worker
check(all.size == all.uniq.size, "no job ran twice: #{all.size} runs, #{all.uniq.size} distinct")
check(all.sort == jids.sort, "every job ran: #{(jids - all).size} missing, #{(all - jids).size} unknown")
check(Sidekiq::Queue.new("default").size == 0 && Sidekiq::Queue.new("critical").size == 0, "queues drained")
warn "# ran by Sidekiq: #{by_sidekiq.size}, by jobs-worker: #{by_worker.size}"
' "$T/jids" "$SIDEKIQ_OUT" "$T/ran"
ok "300 jobs from both clients ran exactly once across Sidekiq and jobs-worker"

# Stop both; Sidekiq adds its last counts at exit, jobs-worker before it signs off.
sk_pid=$SIDEKIQ_PID
sidekiq_stop
kill -TERM "$WORKER_PID"
jobs_worker_wait_exit
assert_eq "$WORKER_RC" 0 "jobs-worker exit status"
# Sidekiq 6.4 signs off (clear_heartbeat) without stopping its heartbeat thread (launcher.rb says
# so): on a busy machine a last beat between the two puts its entry back, marked quiet, for 60 s.
# Such an entry is Sidekiq's own; any other entry left, jobs-worker's above all, is a failure.
rb '
s = Sidekiq::Stats.new
check(s.processed == 300 && s.failed == 0, "Stats processed/failed #{s.processed}/#{s.failed}, expected 300/0")
left = Sidekiq::ProcessSet.new.to_a.reject { |p| p["pid"] == Integer(ARGV[0]) && p["quiet"].to_s == "true" }
check(left.empty?, "both processes signed off; left: #{left.map { |p| [p.identity, p["pid"], p["quiet"]] }}")
' "$sk_pid"
ok "Sidekiq::Stats counts the work of both; both sign off on stop"
