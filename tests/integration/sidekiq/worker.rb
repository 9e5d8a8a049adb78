# SPDX-License-Identifier: MIT
# Loaded by a real `sidekiq -r` process: job classes that record, as one JSON line in $SIDEKIQ_OUT,
# every job Sidekiq ran and the payload exactly as Sidekiq handed it to the job.
require_relative "env"

class Recorder
  def call(worker, job, queue)
    yield
  ensure
    File.open(ENV.fetch("SIDEKIQ_OUT"), "a") do |f|
      f.flock(File::LOCK_EX)
      f.puts(JSON.generate({"worker" => worker.class.name, "queue" => queue, "job" => job}))
    end
  end
end

# Sidekiq's heartbeat, which also reads the signal list that quiet! and stop! write to, every quarter
# second instead of every 5 s (Launcher::BEAT_PAUSE), so tests that wait for it stay short.
require "sidekiq/launcher"
Sidekiq::Launcher.send(:remove_const, :BEAT_PAUSE)
Sidekiq::Launcher.const_set(:BEAT_PAUSE, Float(ENV.fetch("SIDEKIQ_BEAT_PAUSE", "0.25")))

Sidekiq.configure_server do |config|
  config.server_middleware { |chain| chain.add Recorder }
  # Sidekiq's own scheduler, polling every second or so instead of every ~5 s so tests stay short.
  config.options[:poll_interval_average] = Float(ENV.fetch("SIDEKIQ_POLL_INTERVAL", "1"))
end

class Record
  include Sidekiq::Worker
  def perform(*args); end
end

module Reports
  class Nightly
    include Sidekiq::Worker
    def perform(*args); end
  end
end

class Failing
  include Sidekiq::Worker
  class Boom < StandardError; end
  # Far in the future, so a failed job stays in the retry set while a test looks at it.
  sidekiq_retry_in { |_count, _exception| 3600 }
  def perform(*args)
    raise Boom, "failed on purpose: #{args.inspect}"
  end
end
