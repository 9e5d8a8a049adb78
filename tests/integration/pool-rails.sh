#!/bin/bash
# SPDX-License-Identifier: MIT
# The Ruby adapter's --rails: a real Rails 6.1 app (Debian's ruby-railties, ruby-activejob) booted
# once per pool process from its config/environment.rb, its classes eager-loaded as Sidekiq does in a
# Rails app; jobs the app itself enqueued (perform_later through Rails' Sidekiq adapter, and a Sidekiq
# worker's perform_async) run in it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sidekiq/lib.sh"

require_sidekiq
ruby -e 'require "rails"; require "active_job/railtie"' 2>/dev/null \
        || fail "Rails does not load (apt-get install ruby-railties ruby-activejob)"
redis_start
handlers_init
APP="$T/shop"
export SHOP_OUT="$T/out"
mkdir -p "$APP/config" "$APP/app/jobs" "$APP/app/workers" "$SHOP_OUT"
cat >"$APP/config/application.rb" <<'EOS'
require "rails"
require "active_job/railtie"
require "sidekiq"
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

module Shop
  class Application < Rails::Application
    config.load_defaults 6.1
    config.root = File.expand_path("..", __dir__)
    config.eager_load = false # as in development: the adapter eager-loads anyway, as Sidekiq does
    config.active_job.queue_adapter = :sidekiq
    config.logger = Logger.new($stderr, level: :warn)
  end
end
EOS
cat >"$APP/config/environment.rb" <<'EOS'
require_relative "application"
Rails.application.initialize!
EOS
cat >"$APP/app/jobs/receipt_job.rb" <<'EOS'
class ReceiptJob < ActiveJob::Base
  def perform(order, opts)
    File.write(File.join(ENV.fetch("SHOP_OUT"), "receipt-#{order}"),
               JSON.generate("order" => order, "opts" => opts, "job_id" => job_id, "pid" => Process.pid))
  end
end
EOS
cat >"$APP/app/workers/stock_worker.rb" <<'EOS'
class StockWorker
  include Sidekiq::Worker
  def perform(sku)
    # Eager loading happened at boot: ReceiptJob is loaded, not merely registered for autoloading.
    eager = Object.const_defined?(:ReceiptJob, false) && Object.autoload?(:ReceiptJob).nil?
    File.write(File.join(ENV.fetch("SHOP_OUT"), "stock-#{sku}"),
               JSON.generate("sku" => sku, "jid" => jid, "eager" => eager, "env" => Rails.env,
                             "initialized" => Rails.application.initialized?, "cwd" => Dir.pwd, "pid" => Process.pid))
  end
end
EOS

# Enqueued by the app itself, as its web processes would.
ids=$(cd "$APP" && ruby -r ./config/environment -e '
print StockWorker.perform_async("A-1"), " ", ReceiptJob.perform_later(41, {"mail" => true}).provider_job_id')
read -r stock_jid receipt_jid <<<"$ids"
[ -n "$stock_jid" ] && [ -n "$receipt_jid" ] || fail "the app did not enqueue its jobs: $ids"

cat >"$T/pool.conf" <<EOF
[Worker]
$WORKER_TEST_SETTINGS
PassEnvironment=SHOP_OUT
[Pool]
Name=shop
Class=StockWorker ReceiptJob
ExecStart=$JOBS_SOURCE_DIR/adapters/jobs-ruby-adapter --rails $APP
Size=1
EOF
jobs_worker_start -C "$T/pool.conf" -c 2
done_both() { jobs_worker_alive; [ -e "$SHOP_OUT/stock-A-1" ] && [ -e "$SHOP_OUT/receipt-41" ]; }
wait_for "the Rails app's jobs to run" 120 done_both
rb '
out, stock_jid = ARGV
s = JSON.parse(File.read(File.join(out, "stock-A-1")))
r = JSON.parse(File.read(File.join(out, "receipt-41")))
check(s["jid"] == stock_jid && s["initialized"] && s["env"] == "development",
      "StockWorker ran inside the booted Rails app: #{s}")
check(s["eager"], "the app was eager-loaded before its first job: #{s}")
check(File.realpath(s["cwd"]) == File.realpath(File.join(out, "..", "shop")), "the app directory is the working directory: #{s}")
check(r["order"] == 41 && r["opts"] == {"mail" => true}, "ReceiptJob#perform got its ActiveJob arguments: #{r}")
check(r["pid"] == s["pid"], "the one booted process of the pool served both jobs: #{s["pid"]} #{r["pid"]}")
' "$SHOP_OUT" "$stock_jid"
ok "the Ruby adapter boots a Rails app once (--rails) and runs its Sidekiq workers and ActiveJob jobs"

kill -TERM "$WORKER_PID"
jobs_worker_wait_exit
assert_eq "$WORKER_RC" 0 "jobs-worker exit status"
