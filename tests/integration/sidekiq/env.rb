# SPDX-License-Identifier: MIT
# Loaded by every Ruby snippet of the Sidekiq interoperability tests: the real Sidekiq client and API,
# talking to the test's own redis-server through $REDIS_URL, exactly as a Rails app would.
require "json"
require "socket"
require "sidekiq"
require "sidekiq/api"

# redis-rb 4.8 warns about calls Sidekiq 6.4 makes; the warnings are not about us.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
Sidekiq.logger.level = Logger::WARN

# check(COND, WHAT): the Ruby side of lib.sh's assertions, one clear line on failure.
def check(cond, what)
  return if cond
  warn "FAIL: #{what}"
  exit 1
end

# The same value with the same JSON types (3.0 stays a Float, 3 an Integer).
def same_json(a, b)
  JSON.generate(a) == JSON.generate(b)
end

# GET a page of Sidekiq's Web UI (the Rack app, no server): [status, html].
def web_get(path)
  require "sidekiq/web"
  require "rack/mock"
  status, _headers, body = Sidekiq::Web.new.call(Rack::MockRequest.env_for(path, "rack.session" => {}))
  html = +""
  body.each { |chunk| html << chunk }
  body.close if body.respond_to?(:close)
  [status, html.force_encoding("UTF-8")]
end

# The page renders (200) and shows every one of texts.
def check_page(path, *texts)
  status, html = web_get(path)
  check(status == 200, "Web UI #{path}: status #{status}")
  texts.each { |t| check(html.include?(t), "Web UI #{path} shows #{t.inspect}") }
  html
end
