#!/bin/bash
# SPDX-License-Identifier: MIT
# The Ruby adapter (adapters/jobs-ruby-adapter) in a [Pool]: it loads plain Ruby files once and runs
# their Sidekiq worker classes (Debian's ruby-sidekiq, no Rails app) and ActiveJob jobs
# (ruby-activejob) that Sidekiq's client and perform_later pushed; a raised exception fails the job
# with its class and message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
redis_start
handlers_init
export AJ_OUT="$T/aj.out"
: >"$AJ_OUT"
cat >"$T/app.rb" <<'EOS'
require "sidekiq"
require "json"

class Hello
  include Sidekiq::Worker
  def perform(name, n)
    path = File.join(ENV.fetch("JOBS_SK_RAN"), jid)
    File.write(path + ".tmp", JSON.generate({"args" => [name, n], "pid" => Process.pid}))
    File.rename(path + ".tmp", path)
  end
end

module Billing
  class Charge
    include Sidekiq::Worker
    class Declined < StandardError; end
    def perform(amount)
      raise Declined, "card declined\nfor #{amount}"
    end
  end
end
EOS
cat >"$T/pool.conf" <<EOF
[Worker]
$WORKER_TEST_SETTINGS
PassEnvironment=JOBS_SK_RAN AJ_OUT
[Pool]
Name=ruby
Class=Hello Billing::* HelloJob
ExecStart=$JOBS_SOURCE_DIR/adapters/jobs-ruby-adapter -I $SK_DIR -r $T/app.rb -r activejob
Size=2
EOF
ids=$(rb '
class Hello; include Sidekiq::Worker; end
a = (1..10).map { |i| Hello.perform_async("w#{i}", i) }
b = Sidekiq::Client.push("class" => "Billing::Charge", "args" => [42])
print((a + [b]).join(" "))
')
read -r -a hello <<<"$ids"
charge=${hello[10]}
unset 'hello[10]'
aj_jid=$(ruby -I "$SK_DIR" -r activejob -e 'print HelloJob.perform_later(7, {"k" => "v"}).provider_job_id')

jobs_worker_start -C "$T/pool.conf" -c 4
worker_ran() { jobs_worker_alive; ran "$1"; }
for jid in "${hello[@]}"; do
        wait_for "the adapter to run $jid" 60 worker_ran "$jid"
done
rb '
dir, *jids = ARGV
recs = jids.map { |j| JSON.parse(File.read(File.join(dir, j))) }
check(recs.each_with_index.all? { |r, i| r["args"] == ["w#{i + 1}", i + 1] }, "Hello#perform got its args: #{recs}")
pids = recs.map { |r| r["pid"] }.uniq
check(pids.size <= 2, "10 jobs ran in the 2 Ruby processes of the pool, not one each: #{pids}")
' "$T/ran" "${hello[@]}"
ok "the Ruby adapter runs Sidekiq worker classes (Klass.new.perform(*args)) in 2 long-lived processes"

wait_for "the declined charge in the retry set" 60 rb 'exit(Sidekiq::RetrySet.new.find_job(ARGV[0]) ? 0 : 1)' "$charge"
rb '
e = Sidekiq::RetrySet.new.find_job(ARGV[0])
check(e["error_class"] == "Billing::Charge::Declined" && e["error_message"] == "card declined for 42",
      "the exception class and message, on one line: #{e["error_class"]} #{e["error_message"].inspect}")
' "$charge"
ok "an exception fails the job with the Ruby exception class and message"

aj_ran() { jobs_worker_alive; grep -q "$aj_jid" "$AJ_OUT"; }
wait_for "the ActiveJob job to run" 60 aj_ran
rb '
r = JSON.parse(File.readlines(ARGV[0]).find { |l| l.include?(ARGV[1]) })
check(r["arguments"] == [7, {"k" => "v"}] && r["provider_job_id"] == ARGV[1] && r["executions"] == 1,
      "HelloJob#perform ran through ActiveJob with its arguments: #{r}")
' "$AJ_OUT" "$aj_jid"
ok "the Ruby adapter runs what perform_later pushed through ActiveJob"
kill -TERM "$WORKER_PID"
jobs_worker_wait_exit
assert_eq "$WORKER_RC" 0 "jobs-worker exit status"
