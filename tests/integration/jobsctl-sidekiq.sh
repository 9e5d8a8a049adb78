#!/bin/bash
# SPDX-License-Identifier: MIT
# Each destructive jobsctl action has the same effect in Redis as the same action in real Sidekiq's
# API (Debian's ruby-sidekiq), compared key by key on identical data.
. "$(dirname "$0")/lib.sh"

ruby -e 'require "sidekiq/api"' 2>/dev/null || fail "ruby-sidekiq is needed (apt-get install ruby-sidekiq)"
redis_start
for action in retry-one retry-all delete-one kill-one kill-all kill-scheduled dead-retry dead-clear \
        scheduled-now queue-clear quiet stop; do
        ruby "$JOBS_SOURCE_DIR/tests/integration/jobsctl-sidekiq.rb" "$REDIS_SOCK" "$BIN/jobsctl" "$action" ||
                fail "jobsctl and Sidekiq differ on $action"
done
ok "jobsctl changes Redis exactly as Sidekiq's API does"
