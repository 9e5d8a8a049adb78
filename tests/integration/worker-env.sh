#!/bin/bash
# SPDX-License-Identifier: MIT
# Handlers get an allowlisted environment (PATH, LANG, TZ, JOB_*, Environment=, PassEnvironment=),
# never the worker's REDIS_URL, CREDENTIALS_DIRECTORY or anything else it has; a working directory and
# umask of their own, per class. Settings that would hand a handler a secret are refused.
. "$(dirname "$0")/worker-lib.sh"

redis_start
handler Dump <<'EOF2'
env >"$JOBS_TEST_MARK/env-$JOB_CLASS"
pwd >"$JOBS_TEST_MARK/pwd-$JOB_CLASS"
umask >"$JOBS_TEST_MARK/umask-$JOB_CLASS"
EOF2
ln -s Dump "$H/Other"
mkdir -p "$T/work"
cat >"$T/worker.conf" <<EOF2
[Worker]
$WORKER_TEST_SETTINGS
Environment="GREETING=hello world" SHARED=worker
PassEnvironment=TEAM_SETTING

[Class Dump]
Environment=SHARED=class
WorkingDirectory=$T/work
UMask=0077
EOF2
mkdir -p "$T/creds"
CREDENTIALS_DIRECTORY="$T/creds" DATABASE_PASSWORD=hunter2 TEAM_SETTING=blue LANG=C.UTF-8 TZ=UTC \
        start_worker w -C "$T/worker.conf"
[ -n "$REDIS_URL" ] || fail "the worker should have REDIS_URL in its environment"
"$E" Dump >/dev/null
"$E" Other >/dev/null
wait_for "both handlers ran" 30 test -s "$T/umask-Other" -a -s "$T/umask-Dump"

for c in Dump Other; do
        env=$(cat "$T/env-$c")
        for v in REDIS_URL CREDENTIALS_DIRECTORY DATABASE_PASSWORD; do
                ! grep -q "^$v=" <<<"$env" || fail "$c got $v: $env"
        done
        for v in "GREETING=hello world" TEAM_SETTING=blue LANG=C.UTF-8 TZ=UTC "JOB_CLASS=$c" JOB_QUEUE=default \
                 JOB_RETRY_COUNT=0 PATH= JOB_ID= JOBS_TEST_MARK=; do
                grep -q "^$v" <<<"$env" || fail "$c lacks $v: $env"
        done
done
grep -qx "SHARED=class" "$T/env-Dump" || fail "the class's Environment= does not win: $(cat "$T/env-Dump")"
grep -qx "SHARED=worker" "$T/env-Other" || fail "[Worker]'s Environment= missing: $(cat "$T/env-Other")"
ok "handlers see PATH, LANG, TZ, JOB_*, Environment= and PassEnvironment= only: no REDIS_URL, credentials or passwords"

assert_eq "$(cat "$T/pwd-Dump")" "$T/work" "working directory of the class"
assert_eq "$(cat "$T/umask-Dump")" 0077 "umask of the class"
assert_eq "$(cat "$T/pwd-Other")" / "default working directory"
assert_eq "$(cat "$T/umask-Other")" 0022 "default umask"
ok "WorkingDirectory= and UMask= per class; / and 0022 by default"
stop_worker "$WORKER_PID"

# A missing working directory fails the job with a clear error.
printf '[Worker]\n%s\n[Class Dump]\nWorkingDirectory=%s/nowhere\n' "$WORKER_TEST_SETTINGS" "$T" >"$T/worker.conf"
start_worker w2 -C "$T/worker.conf"
"$E" Dump >/dev/null
wait_log w2 "cannot change to its working directory $T/nowhere: No such file or directory"
stop_worker "$WORKER_PID"
ok "a missing WorkingDirectory= fails the job (HandlerSpawnError) naming the directory"

bad() {
        printf '[Worker]\n%s\n' "$1" >"$T/bad.conf"
        ERR=$("$W" -C "$T/bad.conf" 2>&1) && fail "accepted: $1"
        assert_contains "$ERR" "$T/bad.conf:2: $1: "
        assert_contains "$ERR" "$2"
}
bad "PassEnvironment=REDIS_URL" "never given to handlers"
bad "PassEnvironment=CREDENTIALS_DIRECTORY" "never given to handlers"
bad "Environment=JOB_ID=x" "never given to handlers"
bad 'Environment="A=1' "unterminated quote"
bad "UMask=0999" "UMask= is an octal mode"
bad "WorkingDirectory=relative" "must be an absolute path"
printf '[Worker]\n[Class Dump]\nConcurrency=2\n' >"$T/bad.conf"
ERR=$("$W" -C "$T/bad.conf" 2>&1) && fail "accepted Concurrency= in a [Class] section"
assert_contains "$ERR" "$T/bad.conf:3: Concurrency=2: unknown setting in a [Class] section"
ok "settings that would hand out a secret, and bad values, are refused with file:line"
