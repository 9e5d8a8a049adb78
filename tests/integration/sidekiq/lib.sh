# SPDX-License-Identifier: MIT
# Helpers for the tests that run real Sidekiq 6.x next to jobs: source after ../lib.sh.
# Sidekiq is a hard requirement of these tests (tests/deps.txt): missing, they fail; they never skip.
SK_DIR="$JOBS_SOURCE_DIR/tests/integration/sidekiq"
exec 9>&2 # the test's stderr, for failures detected inside wait_for (which silences its command)

require_sidekiq() {
        command -v ruby >/dev/null || fail "ruby is not installed (apt-get install ruby-sidekiq)"
        command -v sidekiq >/dev/null || fail "sidekiq is not installed (apt-get install ruby-sidekiq)"
        SIDEKIQ_VERSION=$(ruby -e 'require "sidekiq"; print Sidekiq::VERSION') \
                || fail "the sidekiq gem does not load (apt-get install ruby-sidekiq)"
        [[ "$SIDEKIQ_VERSION" == 6.* ]] || fail "these tests speak Sidekiq 6.x, found $SIDEKIQ_VERSION"
}

# rb CODE [ARGS...]: run a Ruby snippet with Sidekiq's client and API loaded (env.rb), against $REDIS_URL.
rb() {
        local code=$1; shift
        ruby -I "$SK_DIR" -r env -e "$code" -- "$@"
}

# sidekiq_start [sidekiq args...]: a real Sidekiq process in the background, recording into $SIDEKIQ_OUT.
sidekiq_start() {
        SIDEKIQ_OUT="$T/sidekiq.out"
        : > "$SIDEKIQ_OUT"
        SIDEKIQ_OUT="$SIDEKIQ_OUT" sidekiq -r "$SK_DIR/worker.rb" -t 2 "$@" >"$T/sidekiq.log" 2>&1 &
        SIDEKIQ_PID=$!
        on_exit sidekiq_stop
}

sidekiq_stop() {
        [ -n "${SIDEKIQ_PID:-}" ] || return 0
        kill -TERM "$SIDEKIQ_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 30))
        while kill -0 "$SIDEKIQ_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$SIDEKIQ_PID" 2>/dev/null || true
        wait "$SIDEKIQ_PID" 2>/dev/null || true
        # Sidekiq 6 does not stop its heartbeat thread before it signs off (launcher.rb says so): a beat
        # racing with the sign-off adds the process back to "processes" for its key's 60 s. The process
        # is gone now, so drop what it left, as Sidekiq's own ProcessSet cleanup would a minute later.
        local identity
        for identity in $(redis_cli --raw SMEMBERS processes 2>/dev/null); do
                [[ "$identity" == *":$SIDEKIQ_PID:"* ]] || continue
                redis_cli SREM processes "$identity" >/dev/null 2>&1 || true
                redis_cli DEL "$identity" "$identity:workers" >/dev/null 2>&1 || true
        done
        SIDEKIQ_PID=
}

# sidekiq_ran JID: Sidekiq recorded that it ran job JID (and fails the test if Sidekiq died).
sidekiq_ran() {
        sidekiq_alive
        grep -q "\"jid\":\"$1\"" "$SIDEKIQ_OUT"
}

# sidekiq_record JID: the JSON line Sidekiq recorded for job JID.
sidekiq_record() {
        grep "\"jid\":\"$1\"" "$SIDEKIQ_OUT" | head -n 1
}

# sidekiq_alive: fail with its log if the Sidekiq process died.
sidekiq_alive() {
        kill -0 "$SIDEKIQ_PID" 2>/dev/null || fail "sidekiq exited: $(tail -n 20 "$T/sidekiq.log")" 2>&9
}

# --- jobs-worker beside Sidekiq ---------------------------------------------------------------------
# handlers_init: executable handlers in $H; the Record handler writes the payload it got on stdin
# to $JOBS_SK_RAN/<jid>. Handlers see $JOBS_SK_T (= $T).
handlers_init() {
        H="$T/handlers"
        mkdir -p "$H" "$T/ran"
        export JOBS_SK_RAN="$T/ran" JOBS_SK_T="$T"
        # handlers get only what the worker passes on (worker.conf(5), PassEnvironment=)
        printf 'PassEnvironment=JOBS_SK_RAN JOBS_SK_T\n' >>"$WORKER_TEST_CONF"
        handler Record <<'EOS'
cat >"$JOBS_SK_RAN/$JOB_ID.tmp" && mv "$JOBS_SK_RAN/$JOB_ID.tmp" "$JOBS_SK_RAN/$JOB_ID"
EOS
}

# handler NAME <<'EOF' ... : a bash handler script for class NAME.
handler() { { echo '#!/bin/bash'; cat; } >"$H/$1"; chmod +x "$H/$1"; }

# ran JID: a handler recorded job JID.
ran() { [ -e "$T/ran/$1" ]; }

# jobs_worker_start [ARGS...]: jobs-worker on $H in the background with $WORKER_TEST_CONF, log in
# $T/worker.log.
WORKER_PID=
jobs_worker_start() {
        local w="$BIN/jobs-worker"
        [ -x "$w" ] || fail "$w is not built"
        JOBS_LOG_FIELDS=1 "$w" --handler-dir "$H" -C "$WORKER_TEST_CONF" "$@" >"$T/worker.log" 2>&1 &
        WORKER_PID=$!
        on_exit jobs_worker_kill
}

jobs_worker_kill() {
        [ -n "$WORKER_PID" ] || return 0
        kill -KILL "$WORKER_PID" 2>/dev/null || true
        wait "$WORKER_PID" 2>/dev/null || true
        WORKER_PID=
}

# jobs_worker_alive: fail with its log if jobs-worker died.
jobs_worker_alive() {
        kill -0 "$WORKER_PID" 2>/dev/null || fail "jobs-worker exited: $(tail -n 20 "$T/worker.log")" 2>&9
}

# jobs_worker_wait_exit: wait for jobs-worker to exit by itself (60 s at most); sets WORKER_RC.
jobs_worker_wait_exit() {
        local deadline=$((SECONDS + 60))
        while kill -0 "$WORKER_PID" 2>/dev/null; do
                [ "$SECONDS" -lt "$deadline" ] || fail "jobs-worker did not exit"
                sleep 0.05
        done
        WORKER_RC=0
        wait "$WORKER_PID" || WORKER_RC=$?
        WORKER_PID=
}
