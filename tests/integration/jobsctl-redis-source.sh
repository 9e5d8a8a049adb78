#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl and jobs-enqueue run by hand find the services' Redis: --redis, $REDIS_URL, worker.conf's
# Redis=, /etc/default/jobs's REDIS_URL=, the default; the password from the URL, the redis-password
# credential, else /etc/jobs/redis-password. status names the source and masks the password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

REDIS_AUTH=s3cret-pw
redis_start main --requirepass "$REDIS_AUTH"
sock=$REDIS_SOCK
redis_cli -n 0 SET stat:processed 4242 >/dev/null
redis_cli -n 1 SET stat:processed 1111 >/dev/null
unset REDIS_URL CREDENTIALS_DIRECTORY
export JOBS_SYSCONFDIR=$T/etc
mkdir -p "$T/etc/jobs" "$T/etc/default"

# Nothing configured: the default, and it says so (whether or not a Redis listens there).
rc=0; out=$("$C" status 2>&1) || rc=$?
assert_contains "$out" "redis://127.0.0.1:6379/0 (from the default)"
ok "default named"

# /etc/default/jobs (quoted, as an EnvironmentFile= allows) and the password file.
printf '# comment\nREDIS_URL="unix://%s"\n' "$sock" >"$T/etc/default/jobs"
expect_exit 77 "$C" status
assert_contains "$ERR" "$T/etc/jobs/redis-password"
printf '%s\n' "$REDIS_AUTH" >"$T/etc/jobs/redis-password"
expect_exit 0 "$C" status
assert_contains "$OUT" "Processed:  4242"
assert_contains "$OUT" "unix://$sock (from $T/etc/default/jobs (REDIS_URL=); password from $T/etc/jobs/redis-password)"
expect_exit 0 "$C" status --json
assert_eq "$(jq -r .redis_source <<<"$OUT")" "unix://$sock (from $T/etc/default/jobs (REDIS_URL=); password from $T/etc/jobs/redis-password)"
ok "/etc/default/jobs REDIS_URL= and /etc/jobs/redis-password"

# worker.conf's Redis= wins over /etc/default/jobs, as in jobs-worker.service.
printf '[Worker]\nRedis=unix://%s?db=1\n' "$sock" >"$T/etc/jobs/worker.conf"
expect_exit 0 "$C" status
assert_contains "$OUT" "Processed:  1111"
assert_contains "$OUT" "(from $T/etc/jobs/worker.conf (Redis=);"
ok "worker.conf Redis= before /etc/default/jobs"

# A broken worker.conf is skipped (the next source is used), and debug output says why.
printf '[Worker]\nNoSuchKey=1\n' >"$T/etc/jobs/worker.conf"
JOBS_LOG_LEVEL=debug expect_exit 0 "$C" status
assert_contains "$OUT" "Processed:  4242"
assert_contains "$ERR" "worker.conf skipped"
printf '[Worker]\nRedis=unix://%s?db=1\n' "$sock" >"$T/etc/jobs/worker.conf"
ok "broken worker.conf skipped"

# $REDIS_URL wins over the files; the credential directory over /etc/jobs/redis-password.
printf 'wrong\n' >"$T/etc/jobs/redis-password"
REDIS_URL="unix://$sock" expect_exit 77 "$C" status
mkdir -p "$T/cred"
printf '%s' "$REDIS_AUTH" >"$T/cred/redis-password"
REDIS_URL="unix://$sock" CREDENTIALS_DIRECTORY=$T/cred expect_exit 0 "$C" status
assert_contains "$OUT" "Processed:  4242"
assert_contains "$OUT" "(from \$REDIS_URL; password from $T/cred/redis-password)"
ok "\$REDIS_URL and the credential directory first"

# --redis wins over everything; a password in the URL is used and never printed.
REDIS_URL="unix:///nonexistent" expect_exit 0 "$C" --redis "unix://$sock?db=1&password=$REDIS_AUTH" status
assert_contains "$OUT" "Processed:  1111"
assert_contains "$OUT" "unix://$sock?db=1&password=*** (from --redis; password from the URL)"
[[ "$OUT$ERR" != *"$REDIS_AUTH"* ]] || fail "password printed"
rc=0; out=$("$C" --redis "redis://:$REDIS_AUTH@127.0.0.1:1/0" status 2>&1) || rc=$?
assert_eq "$rc" 69
assert_contains "$out" "redis://:***@127.0.0.1:1/0"
[[ "$out" != *"$REDIS_AUTH"* ]] || fail "password printed in an error"
ok "--redis first, password masked"

# jobs-enqueue by hand: the same lookup (worker.conf -> db 1, password file).
printf '%s\n' "$REDIS_AUTH" >"$T/etc/jobs/redis-password"
"$BIN/jobs-enqueue" ByHand >/dev/null
assert_eq "$(redis_cli -n 1 LLEN queue:default)" 1
assert_eq "$(redis_cli -n 0 LLEN queue:default)" 0
ok "jobs-enqueue by hand finds the same Redis"
