#!/bin/bash
# SPDX-License-Identifier: MIT
# Jobs pushed by Sidekiq's own client are run by jobs-worker, and what jobs-worker writes back (retry
# and dead entries, stats, process heartbeat, work in progress) is read and acted on by Sidekiq 6's API:
# RetrySet#retry_all, SortedEntry#reschedule, ProcessSet, Workers, Process#quiet! and #stop!.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
redis_start

# --- Executable handlers: Record writes the payload it got on stdin to $T/ran/<jid> -----------------
handlers_init
handler Failing <<'EOF'
echo "boom for $JOB_ID" >&2
exit 3
EOF
handler Flaky <<'EOF'
if [ ! -e "$JOBS_SK_T/fixed" ]; then echo "not fixed yet" >&2; exit 1; fi
cat >"$JOBS_SK_RAN/$JOB_ID.tmp" && mv "$JOBS_SK_RAN/$JOB_ID.tmp" "$JOBS_SK_RAN/$JOB_ID"
EOF
handler Block <<'EOF'
touch "$JOBS_SK_T/block-started"
# (the test's directory gone means the test ended: do not outlive it)
while [ ! -e "$JOBS_SK_T/block-go" ] && [ -d "$JOBS_SK_T" ]; do sleep 0.05; done
EOF
worker_ran() { jobs_worker_alive; ran "$1"; }
worker_listed() { jobs_worker_alive; [[ "$(redis_cli --raw SMEMBERS processes)" == *":$WORKER_PID:"* ]]; }

# --- What Sidekiq itself writes for a failed job, to compare jobs-worker's entries with -------------
sidekiq_start -q default -c 1
sk_jid=$(rb 'print Sidekiq::Client.push("class" => "Failing", "args" => ["sk", {"n" => 1.5}], "retry" => 2)')
wait_for "sidekiq to fail its job into the retry set" 60 \
        rb 'exit(Sidekiq::RetrySet.new.find_job(ARGV[0]) ? 0 : 1)' "$sk_jid"
sidekiq_stop
rb 'e = Sidekiq::RetrySet.new.find_job(ARGV[0]); File.write(ARGV[1], e.value); e.delete' "$sk_jid" "$T/sidekiq-retry.json"
rb 'Sidekiq::Stats.new.reset'

# --- jobs-worker runs what Sidekiq::Client pushed ---------------------------------------------------
jobs_worker_start -q default -q critical -c 3 --tag interop
wait_for "jobs-worker to register in processes" 30 worker_listed

ids=$(rb '
class Record; include Sidekiq::Worker; end
a = Sidekiq::Client.push("class" => "Record", "args" => [1, 3.0, "日本語 🎉", {"a" => [nil, true, {"b" => -2.5e-8}]}, 9007199254740993])
b = Record.set(queue: "critical").perform_async("crit")
c = Record.perform_in(1, "later")
# ActiveJob puts its own "enqueued_at" (an ISO 8601 string) inside args: the job still needs its own.
d = Record.perform_in(1, {"job_class" => "Nightly", "enqueued_at" => "2026-01-01T00:00:00Z"})
print [a, b, c, d].join(" ")
')
read -r j_nested j_critical j_later j_aj <<<"$ids"
for jid in "$j_nested" "$j_critical" "$j_later" "$j_aj"; do
        wait_for "jobs-worker to run $jid" 60 worker_ran "$jid"
done
rb '
dir, a, b, c, d = ARGV
ja, jb, jc = [a, b, c].map { |j| JSON.parse(File.read(File.join(dir, j))) }
check(same_json(ja["args"], [1, 3.0, "日本語 🎉", {"a" => [nil, true, {"b" => -2.5e-8}]}, 9007199254740993]),
      "args reach the handler intact: #{JSON.generate(ja["args"])}")
check(ja["class"] == "Record" && ja["jid"] == a && ja["queue"] == "default" && ja["retry"] == true, "Sidekiq fields on stdin: #{ja}")
check(ja["enqueued_at"].is_a?(Float) && ja["created_at"].is_a?(Float), "timestamps as Sidekiq wrote them")
check(jb["queue"] == "critical" && jb["args"] == ["crit"], "perform_async on critical: #{jb}")
check(jc["args"] == ["later"] && !jc.key?("at"), "perform_in job: #{jc}")
check(jc["enqueued_at"].is_a?(Float) && jc["enqueued_at"] >= jc["created_at"] + 0.999,
      "our poller moved the perform_in job with a fresh float enqueued_at: #{jc}")
aj = JSON.parse(File.read(File.join(dir, d)))
check(aj["args"] == [{"job_class" => "Nightly", "enqueued_at" => "2026-01-01T00:00:00Z"}], "args kept: #{aj}")
check(aj["enqueued_at"].is_a?(Float) && aj["enqueued_at"] >= aj["created_at"] + 0.999,
      "our poller gives a job whose args hold an \"enqueued_at\" key its own fresh enqueued_at, as Sidekiq does: #{aj}")
check(Sidekiq::ScheduledSet.new.size == 0 && Sidekiq::Queue.new("default").size == 0, "schedule and queue drained")
' "$T/ran" "$j_nested" "$j_critical" "$j_later" "$j_aj"
ok "jobs-worker runs jobs from Sidekiq::Client.push, perform_async and perform_in (via its poller)"

# --- Failures: the retry set as Sidekiq writes it --------------------------------------------------
ids=$(rb '
print [["Failing", 2], ["Flaky", true], ["Failing", 1], ["Failing", 0], ["Failing", false]].map { |c, r|
  Sidekiq::Client.push("class" => c, "args" => ["x", {"n" => 1.5, "f" => 0.1, "enqueued_at" => "2026-01-01T00:00:00Z"}], "retry" => r)
}.join(" ")
')
read -r f_r2 f_flaky f_r1 f_r0 f_rf <<<"$ids"
wait_for "the failures to reach the retry and dead sets" 60 \
        rb 'exit(Sidekiq::RetrySet.new.size == 3 && Sidekiq::DeadSet.new.size == 1 ? 0 : 1)'
wait_for "jobs-worker to finish the failures" 60 \
        rb 'exit(Sidekiq::Stats.new.failed == 5 ? 0 : 1)'
rb '
sk_file, r2, flaky, r1, r0, rf = ARGV
theirs = JSON.parse(File.read(sk_file))
rs = Sidekiq::RetrySet.new
e = rs.find_job(r2)
check(e, "RetrySet#find_job(#{r2})")
ours = e.item
check(ours.keys.sort == theirs.keys.sort,
      "retry entry fields as Sidekiq writes them: ours #{ours.keys.sort} vs Sidekiq #{theirs.keys.sort}")
ours.each_key do |k|
  check(ours[k].class == theirs[k].class, "field #{k}: ours #{ours[k].inspect} (#{ours[k].class}) vs Sidekiq #{theirs[k].inspect} (#{theirs[k].class})")
end
check(e.error? && e["error_class"] == "HandlerExitError", "error_class #{e["error_class"].inspect}")
check(e["error_message"].include?("boom for #{r2}"), "error_message carries the last stderr line: #{e["error_message"].inspect}")
check(e["retry_count"] == 0 && e["failed_at"].is_a?(Float) && !e.item.key?("retried_at"), "first failure: retry_count 0, failed_at")
check(e.queue == "default" && e["retry"] == 2 && e.args == ["x", {"n" => 1.5, "f" => 0.1, "enqueued_at" => "2026-01-01T00:00:00Z"}], "queue, retry, args kept")
delay = e.score - e["failed_at"]
check(delay >= 15 && delay <= 24.001, "retry in 0**4 + 15 + rand(10) * 1 s, got #{delay}")
check(rs.find_job(flaky) && rs.find_job(r1), "retry: true and retry: 1 are in the retry set")
d = Sidekiq::DeadSet.new.find_job(r0)
check(d && d["retry_count"] == 0 && d["error_class"] == "HandlerExitError", "retry: 0 goes straight to the dead set: #{d&.item}")
check(rs.find_job(rf).nil? && Sidekiq::DeadSet.new.find_job(rf).nil?, "retry: false is dropped")
# Park two of them an hour ahead (delete + schedule, Sidekiq API), so that our poller does not retry
# them on its own while the test goes on: what happens to them next is up to the test.
[r2, flaky].each do |jid|
  e = rs.find_job(jid)
  e.delete
  rs.schedule(Time.now.to_f + 3600, e.item)
end
# The third is rescheduled to now (before our poller retries it on its own, 15 s at the earliest):
# SortedEntry#reschedule addresses the member by Sidekiq.dump_json(item) (ZINCRBY), so it moves the
# entry only if our JSON text is byte for byte what Ruby writes for the same values (floats: 0.1,
# not 0.10000000000000001); otherwise Redis gets a second member and the job runs twice.
e = rs.find_job(r1)
check(Sidekiq.dump_json(e.item) == e.value, "retry entry written as Ruby would write it, so Sidekiq API calls that address it by value work:\n  ours: #{e.value}\n  Ruby: #{Sidekiq.dump_json(e.item)}")
# first to a later time, so that the poller cannot take it while the set is read, then to now
e.reschedule(Time.now.to_f + 1800)
copies = Sidekiq::RetrySet.new.select { |x| x.jid == r1 }
check(copies.size == 1, "SortedEntry#reschedule moved the entry instead of adding a copy: #{copies.map(&:score)}")
copies[0].reschedule(Time.now.to_f)
' "$T/sidekiq-retry.json" "$f_r2" "$f_flaky" "$f_r1" "$f_r0" "$f_rf"
ok "failed jobs land in Sidekiq::RetrySet / DeadSet with Sidekiq's fields and types"
ok "SortedEntry#reschedule moves jobs-worker's retry entry"
rb '
r2, r0 = ARGV
e = Sidekiq::RetrySet.new.find_job(r2)
check_page("/retries", r2, "HandlerExitError", "Failing")
check_page("/retries/#{e.score}-#{r2}", r2, "HandlerExitError", "boom for #{r2}")
d = Sidekiq::DeadSet.new.find_job(r0)
check_page("/morgue", r0, "HandlerExitError")
check_page("/morgue/#{d.score}-#{r0}", r0, "boom for #{r0}")
' "$f_r2" "$f_r0"
ok "Sidekiq Web UI shows jobs-worker's retry and dead entries with their errors"

# The rescheduled job: our poller takes it from `retry`, it fails again, its retries are exhausted.
wait_for "the exhausted job in the dead set" 60 rb 'exit(Sidekiq::DeadSet.new.find_job(ARGV[0]) ? 0 : 1)' "$f_r1"
rb '
d = Sidekiq::DeadSet.new.find_job(ARGV[0])
check(d["retry_count"] == 1 && d["retried_at"].is_a?(Float) && d["failed_at"].is_a?(Float) && d["retried_at"] > d["failed_at"],
      "second failure: retry_count 1, retried_at after failed_at: #{d.item}")
check(d["enqueued_at"].is_a?(Float) && d["enqueued_at"] > d["failed_at"],
      "moved from retry to its queue with a fresh enqueued_at (args hold an \"enqueued_at\" key too, as ActiveJob jobs do): #{d.item}")
check((d.score - Time.now.to_f).abs < 120, "dead score is the time of death")
check(Sidekiq::DeadSet.new.size == 2 && Sidekiq::RetrySet.new.size == 2, "dead 2, retry 2: dead #{Sidekiq::DeadSet.new.map(&:item)} retry #{Sidekiq::RetrySet.new.map(&:item)}")
' "$f_r1"
# The same for a job jobs-enqueue scheduled.
s_jid=$("$BIN/jobs-enqueue" --in 1h --args '[0.1, {"t": 1e-7}]' Record)
rb '
e = Sidekiq::ScheduledSet.new.find_job(ARGV[0])
check(Sidekiq.dump_json(e.item) == e.value, "jobs-enqueue payload written as Ruby would write it:\n  ours: #{e.value}\n  Ruby: #{Sidekiq.dump_json(e.item)}")
# first to a later time, so that the poller cannot take it while the set is read, then to now
e.reschedule(Time.now.to_f + 1800)
copies = Sidekiq::ScheduledSet.new.select { |x| x.jid == ARGV[0] }
check(copies.size == 1, "SortedEntry#reschedule moved the scheduled job instead of adding a copy: #{copies.map(&:score)}")
copies[0].reschedule(Time.now.to_f)
' "$s_jid"
wait_for "jobs-worker to run the rescheduled job" 60 worker_ran "$s_jid"
ok "SortedEntry#reschedule: jobs-worker's poller retries it; exhausted, it goes to Sidekiq::DeadSet"

# "Retry now" for everything, as the Web UI's button does: Sidekiq lowers retry_count by one (to -1
# after a first failure) and pushes the job back to its queue.
first_failed_at=$(rb 'print Sidekiq::RetrySet.new.find_job(ARGV[0])["failed_at"]' "$f_r2")
touch "$T/fixed"
# A job that fails again at once may be back before the check: only such entries may be there.
rb '
t = Time.now.to_f
Sidekiq::RetrySet.new.retry_all
left = Sidekiq::RetrySet.new.reject { |e| e["retried_at"].is_a?(Float) && e["retried_at"] >= t }
check(left.empty?, "retry_all emptied the retry set (but for jobs that failed again since): #{left.map(&:item)}")'
in_set() { rb 'exit(Sidekiq.const_get(ARGV[0]).new.find_job(ARGV[1]) ? 0 : 1)' "$@"; }
flaky_settled() { worker_ran "$f_flaky" || in_set DeadSet "$f_flaky" || in_set RetrySet "$f_flaky"; }
wait_for "the fixed Flaky job to run" 60 flaky_settled
r2_settled() { in_set RetrySet "$f_r2" || in_set DeadSet "$f_r2"; }
wait_for "the still failing job to fail again" 60 r2_settled
rb '
flaky, r2, first_failed_at = ARGV
d = Sidekiq::DeadSet.new.find_job(flaky) || Sidekiq::RetrySet.new.find_job(flaky)
check(d.nil?, "a job retried by RetrySet#retry_all must run, it failed instead: #{d&.item}")
d = Sidekiq::DeadSet.new.find_job(r2)
check(d.nil?, "a job retried by RetrySet#retry_all that fails again belongs in the retry set, not dead: #{d&.item}")
e = Sidekiq::RetrySet.new.find_job(r2)
check(e["retry_count"] == 0 && e["retried_at"].is_a?(Float) && e["failed_at"] == Float(first_failed_at),
      "a manual retry does not use up an attempt; as in Sidekiq: retry_count -1 + 1 = 0, retried_at set, failed_at kept: #{e.item}")
check(Sidekiq::RetrySet.new.size == 1, "retry set: only the still failing job")
# Parked an hour ahead again, so that it does not come back while the rest runs.
e.delete
Sidekiq::RetrySet.new.schedule(Time.now.to_f + 3600, e.item)
' "$f_flaky" "$f_r2" "$first_failed_at"
assert_eq "$(cat "$T/ran/$f_flaky" | python3 -c 'import json,sys; print(json.load(sys.stdin)["retry_count"])')" -1 \
        "the handler got the payload as Sidekiq pushed it"
ok "RetrySet#retry_all makes jobs-worker run the jobs again"

# Sidekiq's retry_all retries "while size > 0": the still failing job, back in the set before that
# check, is retried again by the same call, as often as that race goes its way. Every run counts.
r2_runs=$(grep -c "Starting Failing job $f_r2 " "$T/worker.log")
[ "$r2_runs" -ge 2 ] || fail "the still failing job ran $r2_runs time(s), expected at least 2"
processed=$((11 + r2_runs)) failed=$((5 + r2_runs))
wait_for "the counters ($processed processed, $failed failed)" 60 \
        rb 'exit(Sidekiq::Stats.new.processed == Integer(ARGV[0]) ? 0 : 1)' "$processed"
rb '
processed, failed = ARGV.map { |a| Integer(a) }
s = Sidekiq::Stats.new
check(s.processed == processed && s.failed == failed, "Stats processed/failed = #{s.processed}/#{s.failed}, expected #{processed}/#{failed}")
check(s.retry_size == 1 && s.dead_size == 2 && s.enqueued == 0 && s.scheduled_size == 0, "Stats sizes #{s.retry_size} #{s.dead_size} #{s.enqueued}")
today = Time.now.utc.strftime("%Y-%m-%d")
h = Sidekiq::Stats::History.new(1)
check(h.processed[today] >= processed && h.failed[today] >= failed, "History today: #{h.processed} #{h.failed}")
' "$processed" "$failed"
ok "Sidekiq::Stats and Stats::History count jobs-worker's work"

# --- The process as Sidekiq's API sees it ------------------------------------------------------------
rb '
pid = Integer(ARGV[0])
ps = Sidekiq::ProcessSet.new.to_a
check(ps.size == 1, "ProcessSet lists #{ps.size} processes")
p = ps.first
host = Socket.gethostname
check(p.identity =~ /\A#{Regexp.escape(host)}:#{pid}:\h{12}\z/, "identity #{p.identity.inspect}")
check(p["hostname"] == host && p["pid"] == pid, "hostname/pid #{p["hostname"]} #{p["pid"]}")
check(p["concurrency"] == 3 && p.queues == ["default", "critical"], "concurrency/queues #{p["concurrency"]} #{p.queues}")
check(p.tag == "interop" && p.labels == [], "tag/labels #{p.tag.inspect} #{p.labels.inspect}")
check(p["busy"] == 0 && p["quiet"] == "false" && !p.stopping?, "busy/quiet #{p["busy"]} #{p["quiet"].inspect}")
check(p["started_at"].is_a?(Float) && p["beat"].is_a?(Float) && (Time.now.to_f - p["beat"]).abs < 30, "started_at/beat #{p["started_at"]} #{p["beat"]}")
check(p["rss"] > 0, "rss #{p["rss"]}")
check(Sidekiq::ProcessSet.new.total_concurrency == 3 && Sidekiq::Stats.new.processes_size == 1, "total_concurrency, processes_size")
' "$WORKER_PID"
ok "Sidekiq::ProcessSet lists jobs-worker with its identity, hostname, pid, concurrency, queues, tag"

b_jid=$(rb 'print Sidekiq::Client.push("class" => "Block", "args" => ["hold"])')
wait_for "Block to start" 60 test -e "$T/block-started"
wait_for "the heartbeat to show it busy" 60 rb 'exit(Sidekiq::ProcessSet.new.first["busy"] == 1 ? 0 : 1)'
rb '
jid, pid = ARGV
check(Sidekiq::Workers.new.size == 1 && Sidekiq::Stats.new.workers_size == 1, "Workers#size / Stats#workers_size")
ws = Sidekiq::Workers.new.to_a
check(ws.size == 1, "Sidekiq::Workers#each yields the running job (Sidekiq #{Sidekiq::VERSION} reads <identity>:workers): #{ws.inspect}")
process, _thread, work = ws.first
check(process == Sidekiq::ProcessSet.new.first.identity, "work belongs to our process")
check(work["queue"] == "default" && work["payload"]["jid"] == jid && work["payload"]["class"] == "Block", "work #{work}")
check(work["run_at"].is_a?(Integer) && (Time.now.to_i - work["run_at"]).abs < 120, "run_at epoch Integer #{work["run_at"]}")
' "$b_jid" "$WORKER_PID"
rb '
jid, pid = ARGV
p = Sidekiq::ProcessSet.new.first
check_page("/busy", p.identity, "interop", "Block", jid)
check_page("/")
' "$b_jid" "$WORKER_PID"
touch "$T/block-go"
wait_for "Block to finish" 60 rb 'exit(Sidekiq::ProcessSet.new.first["busy"] == 0 ? 0 : 1)'
ok "Sidekiq::Workers and the Web UI's Busy page show the job jobs-worker is running"

# --- Quiet and stop from Ruby ---------------------------------------------------------------------------
rb 'Sidekiq::ProcessSet.new.first.quiet!'
wait_for "jobs-worker to report quiet" 60 rb 'exit(Sidekiq::ProcessSet.new.first.stopping? ? 0 : 1)'
q_jid=$(rb 'print Sidekiq::Client.push("class" => "Record", "args" => ["while quiet"])')
# Two more heartbeats (each kicks the fetcher): a worker that still fetched would have taken the job by then.
identity=$(redis_cli --raw SMEMBERS processes)
beat_changed() { jobs_worker_alive; [ "$(redis_cli HGET "$identity" beat)" != "$1" ]; }
for _ in 1 2; do
        wait_for "a heartbeat" 60 beat_changed "$(redis_cli HGET "$identity" beat)"
done
jobs_worker_alive
! ran "$q_jid" || fail "a quiet jobs-worker ran a new job"
assert_eq "$(redis_cli LLEN queue:default)" 1 "the job waits in its queue"
ok "Sidekiq::Process#quiet! quiets jobs-worker"

rb 'Sidekiq::ProcessSet.new.first.stop!'
jobs_worker_wait_exit
assert_eq "$WORKER_RC" 0 "jobs-worker exit status after stop!"
rb '
check(Sidekiq::ProcessSet.new.size == 0, "ProcessSet empty after stop!")
q = Sidekiq::Queue.new("default")
check(q.size == 1 && q.find_job(ARGV[0]), "the job pushed while quiet is still queued")
' "$q_jid"
ok "Sidekiq::Process#stop! stops jobs-worker cleanly, nothing lost"
