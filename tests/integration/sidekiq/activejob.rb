# SPDX-License-Identifier: MIT
# Rails' ActiveJob (Debian's ruby-activejob 6.1) on Sidekiq's adapter, without a Rails app: loaded by
# the Ruby snippets that push with perform_later and by the `sidekiq -r` process that runs the jobs.
# HelloJob records, as one JSON line in $AJ_OUT, what ActiveJob handed it.
require_relative "worker"
require "active_job"
require "active_support/time"
require "active_job/queue_adapters/sidekiq_adapter"

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
# What a Rails app sets from config.time_zone (default "UTC"): jobs carry it as "timezone".
Time.zone_default = Time.find_zone!("UTC")

class HelloJob < ActiveJob::Base
  queue_as :default

  def perform(*args)
    File.open(ENV.fetch("AJ_OUT"), "a") do |f|
      f.flock(File::LOCK_EX)
      f.puts(JSON.generate({"job_id" => job_id, "provider_job_id" => provider_job_id, "queue_name" => queue_name,
                            "executions" => executions, "locale" => locale, "timezone" => timezone,
                            "arguments" => args, "hash_class" => args.grep(Hash).map { |h| h.class.name }}))
    end
  end
end
