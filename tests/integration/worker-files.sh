#!/bin/bash
# SPDX-License-Identifier: MIT
# The worker's shipped files: unit hardening score, journal catalog, man pages, sample config, and
# configuration errors that name file and line.
. "$(dirname "$0")/worker-lib.sh"

S="$JOBS_SOURCE_DIR"
out=$(systemd-analyze security --offline=true "$S/units/jobs-worker.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for jobs-worker.service: \([0-9.]*\).*/\1/p' <<<"$out")
echo "# systemd-analyze security --offline=true units/jobs-worker.service: $score"
[ -n "$score" ] || fail "no score: $out"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)" "$score" || fail "exposure $score > 2.0"
grep -q '^Type=notify$' "$S/units/jobs-worker.service" || fail "Type=notify"
grep -q '^WatchdogSec=' "$S/units/jobs-worker.service" || fail "WatchdogSec"
grep -q '^KillMode=mixed$' "$S/units/jobs-worker.service" || fail "KillMode=mixed (only the worker gets SIGTERM)"
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$S/units/jobs-worker.service")
[ "$stop" -ge 35 ] || fail "TimeoutStopSec=$stop must exceed the 25s shutdown timeout by 10s"
ok "unit: exposure $score <= 2.0, Type=notify, watchdog, TimeoutStopSec consistent"

mkdir -p "$T/root/usr/lib/systemd/catalog"
cp "$S/catalog/jobs.catalog" "$T/root/usr/lib/systemd/catalog/"
journalctl --root="$T/root" --update-catalog
ids=$(grep -o 'MESSAGE_ID=[0-9a-f]*' "$S/src/engine/run.c" | cut -d= -f2)
for id in $ids; do
        journalctl --root="$T/root" --list-catalog "$id" 2>/dev/null | grep -q "$id" || fail "MESSAGE_ID $id not in the catalog"
done
ok "every lifecycle MESSAGE_ID is explained by the catalog"

for m in "$S/man/jobs-worker.8" "$S/man/worker.conf.5"; do
        w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
        [ -z "$w" ] || fail "$m: $w"
        lexgrog "$m" >/dev/null || fail "lexgrog $m"
done
ok "man pages render without warnings"

redis_start
expect_exit 0 "$W" -C "$S/conf/worker.conf" --help
printf '[Worker]\nConcurrency=5\nQueue=a,2 b\nFrobnicate=yes\n' >"$T/bad.conf"
expect_exit 78 "$W" -C "$T/bad.conf"
assert_contains "$ERR" "$T/bad.conf:4: Frobnicate=yes: unknown setting"
printf '[Worker]\nQueue=a,0\n' >"$T/bad.conf"
expect_exit 78 "$W" -C "$T/bad.conf"
assert_contains "$ERR" "bad.conf:2: Queue=a,0: queue weight must be a number from 1 to 100"
printf '[Worker]\nTimeout=../x 1s\n' >"$T/bad.conf"
expect_exit 78 "$W" -C "$T/bad.conf"
assert_contains "$ERR" "bad.conf:2: Timeout=../x 1s: class names use"
expect_exit 78 "$W" -C "$T/missing.conf"
expect_exit 64 "$W" -q 'bad queue!'
expect_exit 64 "$W" -c 0
ok "config errors name file:line and setting; usage errors exit 64"

# A password is never printed, not even when the line it is on is quoted back as wrong.
printf '[Worker]\nRedis redis://:Hunter2PW@127.0.0.1:1\n' >"$T/secret.conf"
expect_exit 78 "$W" -C "$T/secret.conf"
assert_contains "$ERR" "secret.conf:2: Redis redis://:***@127.0.0.1:1: missing '='"
[[ "$ERR" != *Hunter2PW* ]] || fail "the password was printed: $ERR"
ok "a Redis password in a wrong line is masked"

# Files that may hold a password are installed 0640 root:jobs, not world-readable.
meson install -C "$JOBS_BUILD_DIR" --no-rebuild --quiet --tags config --destdir "$T/dest" >/dev/null 2>&1 ||
        fail "meson install --tags config failed"
for f in default/jobs jobs/worker.conf; do
        p=$(find "$T/dest" -path "*/etc/$f")
        [ -n "$p" ] || fail "/etc/$f is not installed"
        assert_eq "$(stat -c %a "$p")" 640 "mode of /etc/$f"
        grep -Eq "^z +/etc/$f +0640 +root +jobs( |$)" "$S/tmpfiles.d/jobs.conf" ||
                fail "tmpfiles.d/jobs.conf does not give /etc/$f to root:jobs 0640"
done
ok "/etc/default/jobs and /etc/jobs/worker.conf are 0640 root:jobs"
