#!/bin/bash
# SPDX-License-Identifier: MIT
# Jobs pushed by jobs-enqueue are read by Sidekiq 6's API and run by a real Sidekiq process:
# payload fields, args, queues, retry, schedule, latency — the contract of DESIGN §3, checked by Sidekiq.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
E="$BIN/jobs-enqueue"
redis_start

# Every JSON type, nesting, escapes, non-BMP unicode, a float that looks integral (3.0 must stay a
# Float), an integer beyond 2^53 (must stay exact), tiny and huge floats.
ARGS='[1, -2, 3.0, 0.1, 1e-7, -2.5e+300, 9007199254740993, "héllo wörld ✓ 日本語 🎉", "quote \" backslash \\ newline \n tab \t control \u0001 \u001f", null, true, false, [], {}, {"a": {"b": [[1, 2.5], {"c": null}]}, "ü": ["ß"]}]'
before=$(date +%s.%N)
j_default=$("$E" --args "$ARGS" Record)
j_critical=$("$E" --queue critical --retry 3 --args '[{"id": 42}]' Reports::Nightly)
j_noretry=$("$E" --retry false Record)
s_hour=$("$E" --in 1h --args '["later"]' Record)
s_at=$("$E" --at 4102444800.25 Record)
s_move=$("$E" --in 2h --args '[0.1, {"t": 1e-7}]' Record)
after=$(date +%s.%N)

# --- Sidekiq's API reads what jobs-enqueue wrote ---------------------------------------------------
rb '
names = Sidekiq::Queue.all.map(&:name)
check(names == ["critical", "default"], "Sidekiq::Queue.all lists our queues: #{names.inspect}")
check(Sidekiq::Queue.new("default").size == 2, "default queue size")
check(Sidekiq::Queue.new("critical").size == 1, "critical queue size")
stats = Sidekiq::Stats.new
check(stats.enqueued == 3, "Stats#enqueued = #{stats.enqueued}")
check(stats.scheduled_size == 3, "Stats#scheduled_size = #{stats.scheduled_size}")
check(stats.queues == {"default" => 2, "critical" => 1}, "Stats#queues = #{stats.queues}")
'
ok "Sidekiq::Queue.all and Sidekiq::Stats see our queues and counts"

rb '
args, jid, jid_crit, jid_noretry, before, after = ARGV
before = Float(before); after = Float(after)
q = Sidekiq::Queue.new("default")
job = q.find_job(jid)
check(job, "Queue#find_job finds #{jid}")
check(job.klass == "Record" && job.display_class == "Record", "klass #{job.klass.inspect}")
check(same_json(job.args, JSON.parse(args)), "args intact: #{JSON.generate(job.args)}")
check(job.args[2].is_a?(Float) && job.args[6] == 9007199254740993, "3.0 stays a Float, 2^53+1 stays exact")
check(job.queue == "default" && job["queue"] == "default", "queue")
check(job["retry"] == true, "retry true by default")
%w[created_at enqueued_at].each do |f|
  check(job[f].is_a?(Float), "#{f} is a Float (Sidekiq 8 would read an Integer as milliseconds): #{job[f].inspect}")
  check(job[f] >= before && job[f] <= after, "#{f} #{job[f]} within the run [#{before}, #{after}]")
end
check(job.enqueued_at.is_a?(Time) && (job.enqueued_at.to_f - job["enqueued_at"]).abs < 1e-3, "JobRecord#enqueued_at")
check(job.created_at.to_f.between?(before - 1e-3, after + 1e-3), "JobRecord#created_at")
check(job.jid =~ /\A\h{24}\z/, "jid is 24 hex: #{job.jid}")
# Byte for byte what Sidekiq would write for the same values (floats, escapes), so its API can find
# the entry by value.
check(job.value == Sidekiq.dump_json(job.item), "payload text as Ruby writes it:\n  ours: #{job.value}\n  Ruby: #{Sidekiq.dump_json(job.item)}")
c = Sidekiq::Queue.new("critical").find_job(jid_crit)
check(c && c.klass == "Reports::Nightly" && c["retry"] == 3 && c.args == [{"id" => 42}], "critical job: #{c&.item}")
n = q.find_job(jid_noretry)
check(n && n["retry"] == false, "retry false kept")
# The oldest job is the one consumers take next (right end): latency comes from its enqueued_at.
lat = q.latency
upper = Time.now.to_f - before
check(lat.is_a?(Float) && lat >= 0 && lat <= upper, "Queue#latency #{lat.inspect} in [0, #{upper}]")
oldest = JSON.parse(Sidekiq.redis { |r| r.lrange("queue:default", -1, -1) }.first)
check(oldest["jid"] == jid, "the first job pushed is at the right end (FIFO)")
stat_lat = Sidekiq::Stats.new.default_queue_latency
check(stat_lat.is_a?(Float) && stat_lat >= 0 && stat_lat <= Time.now.to_f - before, "Stats#default_queue_latency #{stat_lat}")
' "$ARGS" "$j_default" "$j_critical" "$j_noretry" "$before" "$after"
ok "Sidekiq::Queue reads class, args (types intact), retry, float timestamps; latency works"

# The same job pushed by Sidekiq's own client (on a queue of its own, removed after): same fields,
# same JSON types, now and scheduled.
o_now=$("$E" --queue cmp --args '[1, "a"]' Record)
o_later=$("$E" --queue cmp --in 1h --args '[1, "a"]' Record)
rb '
o_now, o_later = ARGV
class Record; include Sidekiq::Worker; end
s_now = Sidekiq::Client.push("class" => "Record", "queue" => "cmp", "args" => [1, "a"])
s_later = Record.set(queue: "cmp").perform_in(3600, 1, "a")
q = Sidekiq::Queue.new("cmp")
ss = Sidekiq::ScheduledSet.new
pairs = [[q.find_job(o_now), q.find_job(s_now), "enqueued now"], [ss.find_job(o_later), ss.find_job(s_later), "scheduled"]]
pairs.each do |ours, theirs, what|
  check(ours && theirs, "#{what}: both jobs found")
  a, b = ours.item, theirs.item
  check(a.keys.sort == b.keys.sort, "#{what}: fields ours #{a.keys.sort} vs Sidekiq #{b.keys.sort}")
  a.each_key { |k| check(a[k].class == b[k].class, "#{what}: #{k} ours #{a[k].inspect} vs Sidekiq #{b[k].inspect}") }
  check(a["args"] == b["args"] && a["retry"] == b["retry"] && a["queue"] == b["queue"], "#{what}: values")
end
q.clear
pairs[1][0].delete
pairs[1][1].delete
check(Sidekiq::Queue.all.map(&:name) == ["critical", "default"] && ss.size == 3, "comparison jobs removed")
' "$o_now" "$o_later"
ok "jobs-enqueue writes the fields and JSON types Sidekiq::Client writes, now and scheduled"

rb '
s_hour, s_at, before, after, s_move = ARGV
before = Float(before); after = Float(after)
ss = Sidekiq::ScheduledSet.new
check(ss.size == 3, "ScheduledSet size #{ss.size}")
h = ss.find_job(s_hour)
check(h, "ScheduledSet#find_job(#{s_hour})")
check(h.at.is_a?(Time) && h.at.to_f.between?(before + 3600, after + 3600), "at = now + 1h: #{h.at.to_f}")
check(h.score == h.at.to_f, "score is the run time")
check(h.klass == "Record" && h.args == ["later"] && h.queue == "default", "scheduled job fields #{h.item}")
check(h["enqueued_at"].nil? && h["at"].nil?, "no enqueued_at / at in a scheduled payload (as Sidekiq::Client)")
check(h.enqueued_at.nil?, "JobRecord#enqueued_at nil while scheduled")
check(h["created_at"].is_a?(Float), "created_at Float")
a = ss.find_job(s_at)
check(a && a.at.to_f == 4102444800.25, "--at keeps fractions: #{a&.at&.to_f}")
check(ss.fetch(4102444800.25).map(&:jid) == [s_at], "ScheduledSet#fetch by score")
# SortedEntry#reschedule is a ZINCRBY on Sidekiq.dump_json(item): it moves our entry only if our
# text is what Ruby writes; otherwise it adds a second member and the job would run twice.
m = ss.find_job(s_move)
check(m.value == Sidekiq.dump_json(m.item), "scheduled payload text as Ruby writes it:\n  ours: #{m.value}\n  Ruby: #{Sidekiq.dump_json(m.item)}")
m.reschedule(after + 3 * 3600)
copies = Sidekiq::ScheduledSet.new.select { |e| e.jid == s_move }
check(copies.size == 1 && (copies.first.score - (after + 3 * 3600)).abs < 1e-3,
      "SortedEntry#reschedule moved the entry (#{copies.map(&:score)})")
' "$s_hour" "$s_at" "$before" "$after" "$s_move"
ok "Sidekiq::ScheduledSet sees --in and --at jobs at the right time; SortedEntry#reschedule moves them"

rb '
jd, jc, sh = ARGV
check_page("/queues", "default", "critical")
check_page("/queues/default", jd, "Record", "héllo wörld")
check_page("/queues/critical", jc, "Reports::Nightly")
check_page("/scheduled", sh, "later")
check_page("/")
' "$j_default" "$j_critical" "$s_hour"
ok "Sidekiq Web UI pages show the queues and jobs jobs-enqueue pushed"

# --- a real Sidekiq process runs them --------------------------------------------------------------
s_soon=$("$E" --in 1s --args '["soon"]' Record)
j_fail2=$("$E" --retry 2 --args '["r2"]' Failing)
j_fail0=$("$E" --retry 0 --args '["r0"]' Failing)
j_failf=$("$E" --retry false --args '["rf"]' Failing)
sidekiq_start -q default -q critical -c 2
for jid in "$j_default" "$j_critical" "$j_noretry" "$j_fail2" "$j_fail0" "$j_failf"; do
        wait_for "sidekiq to run $jid" 60 sidekiq_ran "$jid"
done
ok "a real Sidekiq process runs jobs pushed by jobs-enqueue"

rb '
out, args, jd, jc, jn = ARGV
recs = File.readlines(out).map { |l| JSON.parse(l) }.to_h { |r| [r["job"]["jid"], r] }
d = recs.fetch(jd)
check(d["worker"] == "Record" && d["queue"] == "default", "ran Record from default: #{d}")
check(same_json(d["job"]["args"], JSON.parse(args)), "Sidekiq passed the args intact: #{JSON.generate(d["job"]["args"])}")
c = recs.fetch(jc)
check(c["worker"] == "Reports::Nightly" && c["queue"] == "critical" && c["job"]["args"] == [{"id" => 42}], "ran Reports::Nightly from critical: #{c}")
check(recs.fetch(jn)["job"]["retry"] == false, "retry false as given")
' "$SIDEKIQ_OUT" "$ARGS" "$j_default" "$j_critical" "$j_noretry"
ok "args, class and queue arrive intact in the Ruby job"

# Sidekiq's own retry logic honours our `retry` field: 2 → retry set, 0 → dead set, false → dropped.
wait_for "the retry set to hold the failed job" 30 rb 'exit(Sidekiq::RetrySet.new.size == 1 && Sidekiq::DeadSet.new.size == 1 ? 0 : 1)'
rb '
j2, j0, jf = ARGV
r = Sidekiq::RetrySet.new.find_job(j2)
check(r && r["retry_count"] == 0 && r["error_class"] == "Failing::Boom" && r.queue == "default", "retry: 2 → RetrySet entry: #{r&.item}")
check(r["failed_at"].is_a?(Float), "failed_at Float")
d = Sidekiq::DeadSet.new.find_job(j0)
check(d && d["retry_count"] == 0, "retry: 0 → straight to DeadSet: #{d&.item}")
check(Sidekiq::RetrySet.new.find_job(jf).nil? && Sidekiq::DeadSet.new.find_job(jf).nil?, "retry: false → dropped")
' "$j_fail2" "$j_fail0" "$j_failf"
ok "Sidekiq honours retry N / 0 / false as written by jobs-enqueue"

# Sidekiq's scheduler moves our scheduled job to its queue when due and runs it.
wait_for "sidekiq's poller to run the --in 1s job" 60 sidekiq_ran "$s_soon"
rb '
out, jid = ARGV
rec = File.readlines(out).map { |l| JSON.parse(l) }.find { |r| r["job"]["jid"] == jid }
j = rec["job"]
check(rec["queue"] == "default" && j["args"] == ["soon"], "scheduled job ran from default: #{rec}")
check(j["enqueued_at"].is_a?(Float) && j["enqueued_at"] >= j["created_at"] + 0.999, "the poller set a fresh enqueued_at >= created_at + 1s: #{j}")
ss = Sidekiq::ScheduledSet.new
check(ss.size == 3 && ss.find_job(jid).nil?, "the due job left the schedule set, the future ones stayed")
' "$SIDEKIQ_OUT" "$s_soon"
ok "Sidekiq's scheduler runs a job scheduled by jobs-enqueue --in"

sidekiq_alive
sidekiq_stop

# The same REDIS_URL means the same database to both (TCP URL with a database number).
redis_start_tcp tcp
url="redis://127.0.0.1:$REDIS_PORT/3"
jid=$("$E" --redis "$url" Record)
REDIS_URL="$url" rb 'check(Sidekiq::Queue.new("default").find_job(ARGV[0]), "job in database 3 seen by Sidekiq with the same URL")' "$jid"
assert_eq "$(redis_cli -n 0 DBSIZE)" 0 "nothing in database 0"
ok "a redis:// URL with a database number points Sidekiq and jobs-enqueue at the same database"
