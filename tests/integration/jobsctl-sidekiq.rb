# SPDX-License-Identifier: MIT
# For one action: load the same data into two Redis databases, do the action with real Sidekiq's
# API on one and with jobsctl on the other, and compare every key. Fresh timestamps (enqueued_at,
# the dead set's scores) are compared as "fresh", key order inside JSON does not matter.
# Usage: ruby jobsctl-sidekiq.rb SOCKET JOBSCTL ACTION
require "json"
require "sidekiq/api"

$VERBOSE = nil
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

SOCK, JOBSCTL, ACTION = ARGV
NOW = Time.now.to_f
def jid(n) = format("%024x", n)

def job(n, klass, queue, extra = {})
  { "retry" => true, "queue" => queue, "class" => klass, "args" => [n, "two"], "jid" => jid(n),
    "created_at" => 1700000000.123456, "enqueued_at" => 1700000000.25 }.merge(extra)
end

def failed(n, klass, queue, count)
  job(n, klass, queue, "error_message" => "boom", "error_class" => "RuntimeError",
                       "failed_at" => 1700000001.5, "retry_count" => count, "retried_at" => 1700000100.25)
end

def load_fixture(r)
  r.flushdb
  r.zadd("retry", NOW + 60, JSON.generate(failed(1, "Billing::Charge", "default", 2)))
  r.zadd("retry", NOW + 120, JSON.generate(failed(2, "Mailer", "critical", 0)))
  r.zadd("retry", NOW + 120, JSON.generate(failed(3, "Mailer", "critical", 7)))  # same score as jid 2
  r.zadd("schedule", NOW + 3600, JSON.generate(job(4, "Reports", "reports")))
  r.zadd("dead", NOW - 3600, JSON.generate(failed(5, "Billing::Charge", "default", 25)))
  r.zadd("dead", NOW - 200 * 86400, JSON.generate(failed(6, "Ancient", "default", 25)))  # past dead_timeout
  r.lpush("queue:default", JSON.generate(job(7, "Waiting", "default")))
  r.lpush("queue:critical", JSON.generate(job(8, "Waiting", "critical")))
  r.sadd("queues", %w[default critical])
  r.sadd("processes", "host:1:0123456789ab")
  r.hset("host:1:0123456789ab", "info", JSON.generate("hostname" => "host", "pid" => 1, "identity" => "host:1:0123456789ab",
                                                        "started_at" => NOW - 60, "concurrency" => 5, "queues" => ["default"]),
         "busy", "0", "beat", NOW.to_s, "quiet", "false", "rss", "1000")
  r.set("stat:processed", "10")
end

def normalize(v)
  case v
  when Hash then v.to_h { |k, x| [k, k == "enqueued_at" && x.to_f > NOW - 60 ? "fresh" : normalize(x)] }
  when Array then v.map { |x| normalize(x) }
  when String
    begin
      j = JSON.parse(v)
      j.is_a?(Hash) ? normalize(j) : v
    rescue JSON::ParserError
      v
    end
  else v
  end
end

def score(s) = (s > NOW - 60 && s < Time.now.to_f + 60 ? "now" : s.round(3))

# Sidekiq 6.4's retry_all/kill_all walk the set from the highest score down, Sidekiq 7's (ZPOPMIN)
# from the lowest up, as jobsctl does: for those actions the order within a queue is not compared.
UNORDERED = %w[retry-all kill-all].include?(ACTION)

def dump(r)
  r.keys("*").reject { |k| k == "process_cleanup" }.sort.to_h do |k|
    v = case r.type(k)
        when "string" then r.get(k)
        when "list"
          l = r.lrange(k, 0, -1).map { |x| normalize(x) }
          UNORDERED ? l.sort_by(&:to_s) : l
        when "set" then r.smembers(k).sort
        when "zset" then r.zrange(k, 0, -1, with_scores: true).map { |m, s| [normalize(m), score(s)] }.sort_by(&:to_s)
        when "hash" then r.hgetall(k).sort.to_h
        end
    ttl = r.ttl(k)
    [k, [v, ttl.positive? ? "expires" : ttl]]
  end
end

sidekiq_db, ours_db = 1, 2
Sidekiq.configure_client { |c| c.redis = { path: SOCK, db: sidekiq_db } }
ours = Redis.new(path: SOCK, db: ours_db)
Sidekiq.redis { |r| load_fixture(r) }
load_fixture(ours)

sidekiq, cli = {
  "retry-one" => [-> { Sidekiq::RetrySet.new.find_job(jid(2)).retry }, %W[retries retry #{jid(2)}]],
  "retry-all" => [-> { Sidekiq::RetrySet.new.retry_all }, %w[retries retry --all]],
  "delete-one" => [-> { Sidekiq::RetrySet.new.find_job(jid(3)).delete }, %W[retries delete #{jid(3)}]],
  "kill-one" => [-> { Sidekiq::RetrySet.new.find_job(jid(1)).kill }, %W[retries kill #{jid(1)}]],
  "kill-all" => [-> { Sidekiq::RetrySet.new.kill_all }, %w[retries kill --all]],
  "kill-scheduled" => [-> { Sidekiq::ScheduledSet.new.find_job(jid(4)).kill }, %W[dead kill #{jid(4)}]],
  "dead-retry" => [-> { Sidekiq::DeadSet.new.find_job(jid(5)).retry }, %W[dead retry #{jid(5)}]],
  "dead-clear" => [-> { Sidekiq::DeadSet.new.clear }, %w[dead delete --all]],
  "scheduled-now" => [-> { Sidekiq::ScheduledSet.new.find_job(jid(4)).add_to_queue }, %W[scheduled retry #{jid(4)}]],
  "queue-clear" => [-> { Sidekiq::Queue.new("critical").clear }, %w[queue clear critical]],
  "quiet" => [-> { Sidekiq::ProcessSet.new.first.quiet! }, %w[quiet host:1:0123456789ab]],
  "stop" => [-> { Sidekiq::ProcessSet.new.first.stop! }, %w[stop host:1:0123456789ab]],
}.fetch(ACTION)

sidekiq.call
out = IO.popen([JOBSCTL, "--redis", "unix://#{SOCK}?db=#{ours_db}", *cli], err: [:child, :out], &:read)
abort "jobsctl #{cli.join(" ")} failed: #{out}" unless $?.success?

a = Sidekiq.redis { |r| dump(r) }
b = dump(ours)
if a == b
  puts "same: #{ACTION} (#{cli.join(" ")})"
  exit 0
end
(a.keys | b.keys).sort.each do |k|
  next if a[k] == b[k]
  warn "#{k}:\n  sidekiq: #{a[k].inspect}\n  jobsctl: #{b[k].inspect}"
end
abort "DIFFERENT: #{ACTION}"
