#!/bin/bash
# SPDX-License-Identifier: MIT
# examples/hello-worker refuses a bad option value with the reason, exit status 64 (EX_USAGE), before
# it connects anywhere (the Redis URL below would not answer). Usage: hello-worker-usage.sh HELLO_WORKER
set -uo pipefail
hw=$1 status=0
url=unix:///nonexistent/redis.sock

expect_refused() { # EXPECTED-TEXT ARGS...
        local want=$1 out rc
        shift
        out=$(timeout 20 "$hw" -r "$url" "$@" 2>&1)
        rc=$?
        if [ "$rc" != 64 ] || ! grep -qF -- "$want" <<<"$out"; then
                echo "FAIL: hello-worker $*: exit $rc (want 64), output: $out (want: $want)" >&2
                status=1
        else
                echo "ok - hello-worker $* refused: $(head -1 <<<"$out")"
        fi
}
expect_refused "--concurrency 0: Concurrency 0 is out of range: give 1 to 1024" -c 0 -q x
expect_refused "--concurrency 2x: not a number" -c 2x
expect_refused "--concurrency 2000: Concurrency 2000 is out of range" -c 2000
expect_refused "--queue no spaces: Invalid queue" -q "no spaces" -c 2
expect_refused "--redis http://x: Invalid Redis URL" -r http://x
expect_refused "--stop-after 0: give a number of jobs" --stop-after 0
expect_refused "unexpected argument \"extra\"" -c 2 extra
exit "$status"
