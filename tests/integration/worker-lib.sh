# SPDX-License-Identifier: MIT
# Helpers for the jobs-worker integration tests, on top of lib.sh: handler directory, starting and
# stopping workers in the background, reading their log.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W="$BIN/jobs-worker"
E="$BIN/jobs-enqueue"
H="$T/handlers"
mkdir -p "$H"
WORKER_PIDS=()
on_exit 'for p in "${WORKER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; pkill_handlers'
# Handlers started by the tests carry this marker in their environment, so leftovers can be found.
export JOBS_TEST_MARK="$T"

# One grep reads every process's environment: a grep per process takes a minute on a loaded machine.
pkill_handlers() {
        local pids
        pids=$(grep -lzxF -- "JOBS_TEST_MARK=$T" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3) || true
        # (the list has grep and cut too, gone by now: kill fails when nothing else is left)
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
}

# handler NAME <<'EOF' ... : an executable handler script in $H.
handler() {
        { echo '#!/bin/bash'; cat; } >"$H/$1"
        chmod +x "$H/$1"
}

# notify_listen: a listener on $T/notify.sock (the NOTIFY_SOCKET to give the worker) writing what
# it hears to $T/notify.log, one line per field; killed at exit.
notify_listen() {
        python3 "$JOBS_SOURCE_DIR/tests/integration/notify-listen.py" "$T/notify.sock" "$T/notify.log" &
        on_exit "kill $! 2>/dev/null || true"
        wait_for "the notify listener" 60 grep -q LISTENING "$T/notify.log"
}

# start_worker NAME [ARGS...]: a worker in the background, log in $T/NAME.log, pid in WORKER_PID.
# Without -C it reads $WORKER_TEST_CONF; a test's own config file holds $WORKER_TEST_SETTINGS.
start_worker() {
        local name=$1; shift
        local conf=(-C "$WORKER_TEST_CONF") a
        for a in "$@"; do
                [[ "$a" != -C && "$a" != --config* ]] || conf=()
        done
        JOBS_LOG_FIELDS=1 "$W" --handler-dir "$H" "${conf[@]}" "$@" >"$T/$name.log" 2>&1 &
        WORKER_PID=$!
        WORKER_PIDS+=("$WORKER_PID")
        wait_for "worker $name to be ready" 30 grep -q "Connected to Redis" "$T/$name.log"
}

# stop_worker PID: SIGTERM, wait for the exit, require status 0.
stop_worker() {
        local rc=0
        kill -TERM "$1"
        wait "$1" || rc=$?
        [ "$rc" = 0 ] || fail "worker $1 exited with $rc"
}

log_has() { grep -q -- "$2" "$T/$1.log"; }
wait_log() { wait_for "'$2' in $1.log" "${3:-30}" log_has "$1" "$2"; }

# json RAW EXPR: evaluate a Python expression over d = the parsed JSON.
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$@"; }

count_lines() { [ -f "$1" ] && sort -u "$1" | wc -l || echo 0; }
lines_at_least() { [ "$(count_lines "$1")" -ge "$2" ]; }
key_is() { [ "$(redis_cli "${@:2}")" = "$1" ]; }
