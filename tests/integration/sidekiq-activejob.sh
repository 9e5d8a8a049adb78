#!/bin/bash
# SPDX-License-Identifier: MIT
# Rails' ActiveJob on Sidekiq's adapter, both ways, with Debian's ruby-activejob 6.1 and ruby-sidekiq
# 6.4: jobs-enqueue --active-job writes what perform_later writes (field by field) and a real Sidekiq
# process runs it as an ActiveJob job; jobs-worker runs what perform_later pushes with the handler of
# the wrapped class, logged under that class.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
E="$BIN/jobs-enqueue"
export AJ_OUT="$T/aj.out"
: >"$AJ_OUT"
aj() { local code=$1; shift; ruby -I "$SK_DIR" -r activejob -e "$code" -- "$@"; }
redis_start

# --- jobs-enqueue --active-job writes what HelloJob.perform_later writes ---------------------------
ARGS='[1, "two", 3.0, null, true, {"a": {"b": [1.5, {}]}}, ["x", {"y": 2}]]'
o_now=$("$E" --active-job --queue cmp --args "$ARGS" HelloJob)
o_later=$("$E" --active-job --queue cmp --in 1h --args '["later"]' HelloJob)
aj '
o_now, o_later = ARGV
s_now = HelloJob.set(queue: "cmp").perform_later(1, "two", 3.0, nil, true, {"a" => {"b" => [1.5, {}]}}, ["x", {"y" => 2}]).provider_job_id
s_later = HelloJob.set(queue: "cmp", wait: 3600).perform_later("later").provider_job_id
q = Sidekiq::Queue.new("cmp")
ss = Sidekiq::ScheduledSet.new
[[q.find_job(o_now), q.find_job(s_now), "enqueued now"], [ss.find_job(o_later), ss.find_job(s_later), "scheduled"]].each do |ours, theirs, what|
  check(ours && theirs, "#{what}: both jobs found")
  a, b = ours.item, theirs.item
  check(a.keys == b.keys, "#{what}: fields in order, ours #{a.keys} vs ActiveJob #{b.keys}")
  a.each_key { |k| check(a[k].class == b[k].class, "#{what}: #{k} ours #{a[k].inspect} vs ActiveJob #{b[k].inspect}") }
  %w[retry queue class wrapped].each { |k| check(a[k] == b[k], "#{what}: #{k} ours #{a[k].inspect} vs ActiveJob #{b[k].inspect}") }
  da, db = a["args"][0], b["args"][0]
  check(a["args"].size == 1 && da.keys == db.keys, "#{what}: serialization fields ours #{da.keys} vs ActiveJob #{db.keys}")
  da.each_key { |k| check(da[k].class == db[k].class, "#{what}: args[0].#{k} ours #{da[k].inspect} vs ActiveJob #{db[k].inspect}") }
  %w[job_class provider_job_id queue_name priority arguments executions exception_executions locale timezone].each do |k|
    check(same_json(da[k], db[k]), "#{what}: args[0].#{k} ours #{JSON.generate(da[k])} vs ActiveJob #{JSON.generate(db[k])}")
  end
  check(da["job_id"] =~ /\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/, "#{what}: job_id is a UUID: #{da["job_id"]}")
  check((Time.iso8601(da["enqueued_at"]) - Time.iso8601(db["enqueued_at"])).abs < 60, "#{what}: enqueued_at #{da["enqueued_at"]}")
  check(ours.value == Sidekiq.dump_json(a), "#{what}: payload text as Ruby writes it:\n  ours: #{ours.value}\n  Ruby: #{Sidekiq.dump_json(a)}")
  check(ours.display_class == "HelloJob" && ours.display_args == theirs.display_args.map { |x| x }, "#{what}: Sidekiq API shows HelloJob #{ours.display_args}")
end
check((ss.find_job(o_later).at.to_f - ss.find_job(s_later).at.to_f).abs < 60, "scheduled an hour ahead")
q.clear
ss.clear
' "$o_now" "$o_later"
ok "jobs-enqueue --active-job writes the fields, order and types HelloJob.perform_later writes, now and scheduled"

# --- a real Sidekiq process with ActiveJob loaded runs them --------------------------------------------
j_now=$("$E" --active-job --args "$ARGS" HelloJob)
j_soon=$("$E" --active-job --in 1s --args '[{"when": "soon"}]' HelloJob)
sidekiq_start -r "$SK_DIR/activejob.rb" -q default -c 2
aj_ran() { sidekiq_alive; [ "$(grep -c . "$AJ_OUT")" -ge "$1" ]; }
wait_for "Sidekiq to run both ActiveJob jobs" 60 aj_ran 2
sidekiq_stop
rb '
out, j_now, j_soon = ARGV
recs = File.readlines(out).map { |l| JSON.parse(l) }
now = recs.find { |r| r["provider_job_id"] == j_now }
check(now, "HelloJob ran with provider_job_id = the jid jobs-enqueue printed: #{recs}")
check(same_json(now["arguments"], [1, "two", 3.0, nil, true, {"a" => {"b" => [1.5, {}]}}, ["x", {"y" => 2}]]),
      "perform got the arguments: #{JSON.generate(now["arguments"])}")
check(now["hash_class"] == ["ActiveSupport::HashWithIndifferentAccess"] || now["hash_class"] == ["Hash"], "hashes come back as hashes: #{now["hash_class"]}")
check(now["queue_name"] == "default" && now["executions"] == 1 && now["locale"] == "en" && now["timezone"] == "UTC", "ActiveJob fields: #{now}")
soon = recs.find { |r| r["provider_job_id"] == j_soon }
check(soon && soon["arguments"] == [{"when" => "soon"}], "the --in 1s job ran after Sidekiq scheduled it: #{soon}")
' "$AJ_OUT" "$j_now" "$j_soon"
ok "a real Sidekiq process runs jobs-enqueue --active-job jobs through ActiveJob, arguments intact"

# --- jobs-worker runs what perform_later pushes ---------------------------------------------------------
handlers_init
# (handlers get a clean environment: the directory is written into the script)
handler HelloJob <<EOS
printf '%s\n' "\$JOB_CLASS" >"$T/ran/\$JOB_ID.class"
cat >"$T/ran/\$JOB_ID.tmp" && mv "$T/ran/\$JOB_ID.tmp" "$T/ran/\$JOB_ID"
EOS
handler FailingJob <<'EOS'
echo "no luck for $JOB_CLASS" >&2
exit 2
EOS
ids=$(aj '
class FailingJob < ActiveJob::Base
  def perform(*); end
end
a = HelloJob.perform_later(7, {"k" => "v"}).provider_job_id
b = FailingJob.perform_later("x").provider_job_id
c = HelloJob.set(wait: 1).perform_later("later").provider_job_id
print [a, b, c].join(" ")
')
read -r w_now w_fail w_later <<<"$ids"
jobs_worker_start -q default -c 2
worker_ran() { jobs_worker_alive; ran "$1"; }
for jid in "$w_now" "$w_later"; do
        wait_for "jobs-worker to run $jid" 60 worker_ran "$jid"
done
wait_for "the failing job in the retry set" 60 rb 'exit(Sidekiq::RetrySet.new.find_job(ARGV[0]) ? 0 : 1)' "$w_fail"
for jid in "$w_now" "$w_later"; do
        assert_eq "$(cat "$T/ran/$jid.class")" HelloJob "JOB_CLASS of the handler of $jid"
done
rb '
dir, now, fail, later = ARGV
p = JSON.parse(File.read(File.join(dir, now)))
check(p["class"] == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper" && p["wrapped"] == "HelloJob" && p["jid"] == now,
      "the handler got the whole payload as perform_later pushed it: #{p}")
check(p["args"][0]["arguments"] == [7, {"k" => "v", "_aj_symbol_keys" => []}] && p["args"][0]["job_class"] == "HelloJob",
      "ActiveJob arguments in the payload: #{p["args"]}")
l = JSON.parse(File.read(File.join(dir, later)))
check(l["args"][0]["arguments"] == ["later"] && l["enqueued_at"].is_a?(Float), "the perform_later(wait: 1) job moved by our poller: #{l}")
e = Sidekiq::RetrySet.new.find_job(fail)
check(e.klass == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper" && e.display_class == "FailingJob" && e.display_args == ["x"],
      "the retry entry keeps the wrapper; Sidekiq shows FailingJob: #{e.item}")
check(e["error_class"] == "HandlerExitError" && e["error_message"].include?("no luck for FailingJob"), "error: #{e["error_message"]}")
' "$T/ran" "$w_now" "$w_fail" "$w_later"
ok "jobs-worker runs perform_later jobs with the wrapped class's handler (JOB_CLASS, whole payload on stdin)"

grep -q "JOB_CLASS=HelloJob.*JOB_STATUS=done\|JOB_STATUS=done.*JOB_CLASS=HelloJob" "$T/worker.log" \
        || fail "no done line with JOB_CLASS=HelloJob in the log: $(grep HelloJob "$T/worker.log" | head -n 3)"
grep -q "JOB_CLASS=ActiveJob" "$T/worker.log" && fail "a log line names the wrapper as JOB_CLASS: $(grep -m1 JOB_CLASS=ActiveJob "$T/worker.log")"
grep -q "JOB_CLASS=FailingJob.*JOB_STATUS=retry\|JOB_STATUS=retry.*JOB_CLASS=FailingJob" "$T/worker.log" \
        || fail "no retry line with JOB_CLASS=FailingJob in the log"
ok "the journal fields name the wrapped class: JOB_CLASS=HelloJob, JOB_CLASS=FailingJob"
kill -TERM "$WORKER_PID"
jobs_worker_wait_exit
assert_eq "$WORKER_RC" 0 "jobs-worker exit status"
