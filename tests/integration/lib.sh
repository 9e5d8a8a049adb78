# SPDX-License-Identifier: MIT
# Shared helpers for integration tests: a private redis-server per test, assertions, polling.
# Source it from a test script; it sets `set -euo pipefail`, a temp dir $T and cleans up on exit.
set -euo pipefail

: "${JOBS_BUILD_DIR:?run through meson test}"
: "${JOBS_SOURCE_DIR:?run through meson test}"
BIN="$JOBS_BUILD_DIR/src/programs"
T=$(mktemp -d /tmp/jobs-test.XXXXXX)
REDIS_PIDS=()
_cleanup_hooks=()

on_exit() { _cleanup_hooks+=("$1"); }

_cleanup() {
        local rc=$? h pid
        for h in "${_cleanup_hooks[@]}"; do eval "$h" || true; done
        for pid in "${REDIS_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
        for pid in "${REDIS_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
        rm -rf "$T"
        exit "$rc"
}
trap _cleanup EXIT

# Debian's Python (tests/deps.txt), even when a version manager's shim comes first in PATH: a shim is
# a shell script that costs half a second on every call, and the tests call Python often.
if [ -x /usr/bin/python3 ]; then
        python3() { /usr/bin/python3 "$@"; }
fi

# worker.conf(5) settings of every worker a test starts: beats and polls every quarter second instead
# of Sidekiq's 5 s, so that what a test waits for (a heartbeat, a due retry moved) comes at once.
WORKER_TEST_SETTINGS=$'HeartbeatSec=250ms\nPollIntervalSec=250ms\nPassEnvironment=JOBS_TEST_MARK'
WORKER_TEST_CONF="$T/worker-test.conf"
printf '[Worker]\n%s\n' "$WORKER_TEST_SETTINGS" >"$WORKER_TEST_CONF"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# redis_start [NAME] [extra redis-server args...]: private server on a unix socket in $T.
# Sets REDIS_SOCK, REDIS_URL (exported) and REDIS_PID.
redis_start() {
        local name=${1:-redis}; shift || true
        mkdir -p "$T/$name"
        REDIS_SOCK="$T/$name/redis.sock"
        redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --dir "$T/$name" \
                --save '' --appendonly no --daemonize no --logfile "$T/$name/redis.log" "$@" &
        REDIS_PID=$!
        REDIS_PIDS+=("$REDIS_PID")
        export REDIS_URL="unix://$REDIS_SOCK"
        wait_for "redis to accept connections" 20 redis-cli -s "$REDIS_SOCK" ${REDIS_AUTH:+-a "$REDIS_AUTH" --no-auth-warning} PING
        acl_maybe_use
}

# redis_start_tcp [NAME] [args...]: same on a free loopback TCP port; sets REDIS_PORT.
redis_start_tcp() {
        local name=${1:-redis}; shift || true
        mkdir -p "$T/$name"
        REDIS_PORT=$(free_port)
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/$name" --save '' --appendonly no \
                --daemonize no --logfile "$T/$name/redis.log" "$@" &
        REDIS_PID=$!
        REDIS_PIDS+=("$REDIS_PID")
        export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
        wait_for "redis to listen on $REDIS_PORT" 20 redis-cli -p "$REDIS_PORT" ${REDIS_AUTH:+-a "$REDIS_AUTH" --no-auth-warning} PING
        acl_maybe_use
}

# acl_setup: create the ACL user of README.md ("A Redis ACL user for jobs") with password
# jobs-acl-pw; the default user stays, for the test's own redis_cli.
JOBS_ACL_PASSWORD=jobs-acl-pw
acl_setup() {
        local line
        line=$(grep -m1 '^ACL SETUSER jobs on ' "$JOBS_SOURCE_DIR/README.md") || fail "no ACL line in README.md"
        # shellcheck disable=SC2086
        redis_cli ${line//>PASSWORD/>$JOBS_ACL_PASSWORD} >/dev/null
}

# With JOBS_TEST_ACL=1 in the environment every test's programs talk to Redis as that user
# (which is how its command list was found): redis_start* call this.
acl_maybe_use() {
        [ -n "${JOBS_TEST_ACL:-}" ] && [ -z "${REDIS_AUTH:-}" ] || return 0
        acl_setup
        case "$REDIS_URL" in
        unix://*) REDIS_URL="$REDIS_URL?user=jobs&password=$JOBS_ACL_PASSWORD" ;;
        redis://*) REDIS_URL="redis://jobs:$JOBS_ACL_PASSWORD@${REDIS_URL#redis://}" ;;
        esac
        export REDIS_URL
}

redis_stop() {
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
}

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# redis_cli ARGS...: against the test's server (socket or TCP, whichever started last).
redis_cli() {
        if [ -n "${REDIS_PORT:-}" ] && [[ "$REDIS_URL" == redis://* ]]; then
                redis-cli -p "$REDIS_PORT" ${REDIS_AUTH:+-a "$REDIS_AUTH" --no-auth-warning} "$@"
        else
                redis-cli -s "$REDIS_SOCK" ${REDIS_AUTH:+-a "$REDIS_AUTH" --no-auth-warning} "$@"
        fi
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds or the deadline passes.
wait_for() {
        local what=$1 secs=$2; shift 2
        local deadline=$((SECONDS + secs))
        until "$@" >/dev/null 2>&1; do
                [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for $what"
                sleep 0.05
        done
}

assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_match() { [[ "$1" =~ $2 ]] || fail "${3:-value}: '$1' does not match /$2/"; }
assert_contains() { [[ "$1" == *"$2"* ]] || fail "${3:-output}: '$1' does not contain '$2'"; }

# expect_exit CODE COMMAND...: run, capture stdout/stderr into $OUT/$ERR, check the exit status.
expect_exit() {
        local want=$1; shift
        local rc=0
        "$@" >"$T/out" 2>"$T/err" || rc=$?
        OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
        local cmd="$*"
        [ "$rc" = "$want" ] || fail "'${cmd:0:200}' exited $rc, expected $want; stderr: ${ERR:0:500}"
}
