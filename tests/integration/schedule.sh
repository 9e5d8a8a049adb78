#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl generate and check: exit codes and messages, all-or-nothing writes, stale removal of our
# own files only, byte-identical reruns, systemd-analyze verify and security on the output, and a
# 10,000-entry schedule.
. "$(dirname "$0")/lib.sh"

J="$BIN/jobsctl"
S="$JOBS_SOURCE_DIR/units/jobs.schedule"

# snapshot DIR: every path, type, mode, content hash, and inode and mtime of each file and symlink,
# to prove "nothing changed" (directories' own mtimes may change when a change was undone)
snapshot() {
        (cd "$1" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort &&
                find . ! -type d -printf '%p %i %T@\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# --- usage and input errors ------------------------------------------------------------------------
expect_exit 64 "$J"
assert_contains "$ERR" "No command given"
expect_exit 64 "$J" frobnicate
assert_contains "$ERR" "Unknown command 'frobnicate'"
expect_exit 64 "$J" generate "$S"
assert_contains "$ERR" "Usage: jobsctl generate [--source-path PATH] [--enqueue-path PATH] [--no-calendar-check] SCHEDULE OUTDIR"
expect_exit 64 "$J" check
expect_exit 64 "$J" check a b
expect_exit 64 "$J" check --bogus "$S"
expect_exit 64 "$J" generate --source-path=relative "$S" "$T/x"
expect_exit 0 "$J" --help
assert_contains "$OUT" "generate SCHEDULE OUTDIR"
expect_exit 0 "$J" generate --help
assert_contains "$OUT" "Usage: jobsctl generate"
expect_exit 64 "$J" check --enqueue-path=/x "$S"
assert_contains "$ERR" "does not apply"
expect_exit 66 "$J" check "$T/missing.schedule"
assert_contains "$ERR" "Cannot read schedule $T/missing.schedule: No such file or directory"
ok "usage errors exit 64, a missing schedule 66"

expect_exit 0 "$J" check "$S"
assert_eq "$OUT" "$S: 2 entries OK"
ok "the example schedule checks"

# --- a bad schedule: every problem named with file:line, exit 65 ------------------------------------
cat >"$T/bad.schedule" <<'X'
[Job]
Name=ok
Class=Ok
Every=1min

[Job]
Name=bad
Class=Bad
Args=[1,
OnCalendar=*-*-* 25:00
Frequency=daily

[Job]
Name=ok
Class=Dup
OnCalendar=Mon..Fri 09:00 Nowhere/City
X
expect_exit 65 "$J" check "$T/bad.schedule"
assert_contains "$ERR" "$T/bad.schedule:9: Args=[1,: not valid JSON"
assert_contains "$ERR" "$T/bad.schedule:10: OnCalendar=*-*-* 25:00: systemd does not accept this calendar expression"
assert_contains "$ERR" "$T/bad.schedule:11: Frequency=daily: unknown key Frequency=; allowed: Name=, Class="
assert_contains "$ERR" "$T/bad.schedule:13: [Job] Name=ok: the name is already used by the entry at $T/bad.schedule:1"
assert_contains "$ERR" "$T/bad.schedule:16: OnCalendar=Mon..Fri 09:00 Nowhere/City: systemd does not accept"
assert_contains "$ERR" "$T/bad.schedule: 5 errors."
ok "a bad schedule: exit 65, every error with file:line, key, value and what is allowed"

# accepted by systemd but without one occurrence on every host: the host zone's own abbreviation
cat >"$T/abbrev.schedule" <<'X'
[Job]
Name=local
Class=Local
OnCalendar=*-*-* 02:00 Europe/Berlin
OnCalendar=daily CEST
X
TZ=Europe/Berlin expect_exit 65 "$J" check "$T/abbrev.schedule"
assert_contains "$ERR" "$T/abbrev.schedule:5: OnCalendar=daily CEST: systemd accepts this calendar expression, but jobs cannot compute its occurrences the same way on every host: \"daily CEST\": \"CEST\" is this host's own time zone abbreviation"
TZ=Europe/Berlin expect_exit 65 "$J" generate "$T/abbrev.schedule" "$T/abbrev"
[[ -e $T/abbrev ]] && fail "generate wrote units for a refused schedule"
ok "an OnCalendar= systemd accepts but whose occurrences cannot be computed alike everywhere: exit 65, file:line"

# accepted by systemd but never elapsing: a day no month has
printf '[Job]\nName=leap\nClass=Leap\nOnCalendar=*-02-29 03:00\nOnCalendar=*-02-30 03:00\n' >"$T/never.schedule"
expect_exit 65 "$J" generate "$T/never.schedule" "$T/never"
assert_contains "$ERR" "$T/never.schedule:5: OnCalendar=*-02-30 03:00: no date matches this calendar expression"
[[ -e $T/never ]] && fail "generate wrote units for a calendar that never elapses"
ok "an OnCalendar= no date matches: exit 65, file:line"

# calendar check through systemd-analyze: missing program → 69, or skipped on request
JOBS_SYSTEMD_ANALYZE=/nonexistent/systemd-analyze expect_exit 69 "$J" check "$S"
assert_contains "$ERR" "systemd-analyze was not found"
JOBS_SYSTEMD_ANALYZE=/nonexistent/systemd-analyze expect_exit 0 "$J" check --no-calendar-check "$S"
ok "calendar expressions are checked by systemd-analyze (69 when it is missing)"

# --- generate: a fresh directory -----------------------------------------------------------------
expect_exit 0 "$J" generate "$S" "$T/o"
assert_eq "$OUT" "$S: 2 entries written to $T/o"
assert_eq "$(cd "$T/o" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
        "./jobs-nightly-report.service ./jobs-nightly-report.timer ./jobs-say-hello.service ./jobs-say-hello.timer ./jobs.target ./jobs.target.wants ./jobs.target.wants/jobs-nightly-report.timer ./jobs.target.wants/jobs-say-hello.timer "
assert_eq "$(readlink "$T/o/jobs.target.wants/jobs-say-hello.timer")" "../jobs-say-hello.timer"
assert_eq "$(stat -c %a "$T/o")" "$(umask -S >/dev/null; printf '%o' $((0777 & ~$(umask))))" "mode of a new OUTDIR"
assert_eq "$(head -1 "$T/o/jobs-say-hello.timer")" "# generated by jobs from $S:6 — do not edit"
assert_contains "$(cat "$T/o/jobs-say-hello.timer")" "SourcePath=$(realpath "$S")"
assert_contains "$(cat "$T/o/jobs-say-hello.service")" "ExecStart=$("$J" --help | sed -n 's/.*(default: \(\/.*jobs-enqueue\)).*/\1/p') --queue default --retry true --args '[\"world\"]' --trigger-time start --entry say-hello --calendar '*-*-* *:*:00' SayHello"
ls "$T"/.o.jobs-generate-* >/dev/null 2>&1 && fail "temporary directory left behind"
ok "generate writes timers, services, jobs.target and its wants symlinks"

# --- determinism: another run, another directory: byte-identical ------------------------------------
expect_exit 0 "$J" generate "$S" "$T/o2/"
diff -r --no-dereference "$T/o" "$T/o2" || fail "two runs differ"
before=$(cd "$T/o" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
expect_exit 0 "$J" generate "$S" "$T/o"
after=$(cd "$T/o" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
assert_eq "$after" "$before" "rerun into the same directory"
stamps=$(cd "$T/o" && find . -printf '%p %i %T@\n' | LC_ALL=C sort)
expect_exit 0 "$J" generate "$S" "$T/o"
assert_eq "$(cd "$T/o" && find . -printf '%p %i %T@\n' | LC_ALL=C sort)" "$stamps" "inodes and mtimes after an unchanged rerun"
ok "output is deterministic"

# --- foreign files are kept, stale generated ones removed -------------------------------------------
echo "notes" >"$T/o/README"
printf '[Timer]\nOnCalendar=daily\n' >"$T/o/jobs-handmade.timer"       # our naming, not our marker
ln -s ../jobs-handmade.timer "$T/o/jobs.target.wants/jobs-handmade.timer"
ln -s /dev/null "$T/o/jobs.target.wants/jobs-masked.timer"           # not pointing to ../itself
mkdir "$T/o/jobs-dir.service"
cat >"$T/smaller.schedule" <<'X'
[Job]
Name=say-hello
Class=SayHello
Args=["world"]
Every=1min
X
expect_exit 0 "$J" generate "$T/smaller.schedule" "$T/o"
[ ! -e "$T/o/jobs-nightly-report.timer" ] || fail "stale timer kept"
[ ! -e "$T/o/jobs-nightly-report.service" ] || fail "stale service kept"
[ ! -L "$T/o/jobs.target.wants/jobs-nightly-report.timer" ] || fail "stale symlink kept"
[ -f "$T/o/jobs-say-hello.timer" ] || fail "current timer missing"
assert_eq "$(cat "$T/o/README")" "notes"
assert_eq "$(cat "$T/o/jobs-handmade.timer")" "$(printf '[Timer]\nOnCalendar=daily')"
[ -L "$T/o/jobs.target.wants/jobs-handmade.timer" ] || fail "foreign symlink removed"
assert_eq "$(readlink "$T/o/jobs.target.wants/jobs-masked.timer")" "/dev/null"
[ -d "$T/o/jobs-dir.service" ] || fail "foreign directory removed"
# a symlink of ours in the way of a foreign one is refused too
ln -s /dev/null "$T/o/jobs.target.wants/jobs-nightly-report.timer"
expect_exit 73 "$J" generate "$S" "$T/o"
assert_contains "$ERR" "$T/o/jobs.target.wants/jobs-nightly-report.timer exists and was not generated by jobs"
[ ! -e "$T/o/jobs-nightly-report.timer" ] || fail "half-written after a symlink conflict"
rm "$T/o/jobs.target.wants/jobs-nightly-report.timer"
ok "stale generated units removed, nothing else touched"

# back to the whole schedule
expect_exit 0 "$J" generate "$S" "$T/o"
[ -f "$T/o/jobs-nightly-report.timer" ] || fail "entry not back"

# --- atomicity: on any error OUTDIR does not change -------------------------------------------------
snap=$(snapshot "$T/o")
expect_exit 65 "$J" generate "$T/bad.schedule" "$T/o"
assert_contains "$ERR" "$T/bad.schedule: 5 errors; nothing was written."
assert_eq "$(snapshot "$T/o")" "$snap" "OUTDIR after a bad schedule"

# a file we did not generate in the way of one we must write: 73, nothing changed
cat >"$T/conflict.schedule" <<'X'
[Job]
Name=handmade
Class=Handmade
Every=1h

[Job]
Name=new-one
Class=New
Every=1h
X
expect_exit 73 "$J" generate "$T/conflict.schedule" "$T/o"
assert_contains "$ERR" "$T/o/jobs-handmade.timer exists and was not generated by jobs"
assert_eq "$(snapshot "$T/o")" "$snap" "OUTDIR after a conflict"
[ ! -e "$T/o/jobs-new-one.timer" ] || fail "half-written: new unit appeared"

# cannot create the output: its parent is a file
touch "$T/plainfile"
expect_exit 73 "$J" generate "$S" "$T/plainfile/out"
assert_contains "$ERR" "Cannot write the units into $T/plainfile/out"
expect_exit 73 "$J" generate "$S" "$T/plainfile"
(cd "$T" && expect_exit 65 "$J" generate "$S" . && assert_contains "$ERR" "cannot be used")
ls -a "$T" | grep -q 'jobs-generate' && fail "temporary directory left behind"
ok "bad schedule, conflict and unwritable OUTDIR leave it untouched (65/73)"

# --- killed at any point of a commit: OUTDIR is entirely old or entirely new, the next run cleans up --
# kill-at.so SIGKILLs jobsctl at the Nth hard link (carrying a file over), symlink, or at the exchange
sed 's/^Args=\["world"\]$/Args=["everyone"]/' "$S" >"$T/changed.schedule"
printf '\n[Job]\nName=extra\nClass=Extra\nEvery=1h\n' >>"$T/changed.schedule"
cp -a "$T/o" "$T/new-ref"
expect_exit 0 "$J" generate "$T/changed.schedule" "$T/new-ref"
snap=$(snapshot "$T/o")
killed_at() {
        JOBS_TEST_KILL_AT=$1 LD_PRELOAD="$JOBS_BUILD_DIR/tests/integration/kill-at.so" \
                ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
                expect_exit 137 "$J" generate "$T/changed.schedule" "$T/o"
        ls -d "$T"/.o.jobs-generate-* >/dev/null 2>&1 || fail "nothing left behind by a kill at $1"
}
for at in linkat:1 linkat:3 symlinkat:1 symlinkat:4 renameat2:1; do
        killed_at "$at"
        assert_eq "$(snapshot "$T/o")" "$snap" "OUTDIR after a kill at $at"
done
# an unchanged rerun removes what the killed runs left
expect_exit 0 "$J" generate "$S" "$T/o"
ls -d "$T"/.o.jobs-generate-* >/dev/null 2>&1 && fail "a killed run's directory survives a rerun"
assert_eq "$(snapshot "$T/o")" "$snap" "OUTDIR after the rerun"
# killed just after the exchange: entirely new, the old tree left hidden, removed by the next run
killed_at renameat2:1:after
diff -r --no-dereference "$T/new-ref" "$T/o" || fail "OUTDIR not entirely new after a kill after the exchange"
expect_exit 0 "$J" generate "$T/changed.schedule" "$T/o"
ls -d "$T"/.o.jobs-generate-* >/dev/null 2>&1 && fail "the old tree survives a rerun"
diff -r --no-dereference "$T/new-ref" "$T/o" || fail "OUTDIR changed by a rerun"
assert_contains "$(cat "$T/o/jobs-say-hello.service")" "'[\"everyone\"]'"
[ -L "$T/o/jobs.target.wants/jobs-extra.timer" ] || fail "extra timer not wired"
expect_exit 0 "$J" generate "$S" "$T/o"
ok "a generate killed anywhere leaves OUTDIR all old or all new; the next run removes the rest"

# OUTDIR a symlink to the directory the units live in: the symlink stays, the directory is replaced
mkdir "$T/real"
ln -s real "$T/link"
expect_exit 0 "$J" generate "$S" "$T/link"
[ -L "$T/link" ] || fail "the symlink was replaced"
[ -f "$T/real/jobs-say-hello.timer" ] || fail "units not in the symlink's directory"
expect_exit 0 "$J" generate "$T/changed.schedule" "$T/link/"
[ -L "$T/link" ] && [ -f "$T/real/jobs-extra.timer" ] || fail "units not exchanged behind the symlink"
ok "a symlinked OUTDIR keeps its symlink"

# --- systemd-analyze verify and security on every generated unit ------------------------------------
expect_exit 0 "$J" generate --enqueue-path="$BIN/jobs-enqueue" "$S" "$T/v"
cp "$JOBS_SOURCE_DIR/tests/golden/"*.timer "$JOBS_SOURCE_DIR/tests/golden/"*.service "$T/v/"
sed -i "s|^ExecStart=/usr/bin/jobs-enqueue|ExecStart=$BIN/jobs-enqueue|" "$T/v/"*.service
for u in "$T/v/"*.timer "$T/v/"*.service "$T/v/jobs.target"; do
        out=$(systemd-analyze verify --man=no "$u" 2>&1) || fail "systemd-analyze verify $u: $out"
        [ -z "$out" ] || fail "systemd-analyze verify $u warns: $out"
done
ok "systemd-analyze verify passes on every generated unit ($(ls "$T/v" | wc -l) files)"
for u in "$T/v/"*.service; do
        score=$(systemd-analyze security --offline=true "$u" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
        [ -n "$score" ] || fail "no security score for $u"
        python3 -c "import sys; sys.exit(0 if float('$score') <= 1.5 else 1)" || fail "$u exposure $score > 1.5"
done
ok "systemd-analyze security --offline=true: $score (≤ 1.5)"

# --- 10,000 entries --------------------------------------------------------------------------------
# 30,000 files: on a tmpfs when there is one, so that a busy disk cannot make the test time out
BIG=$T/big
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        BIGROOT=$(mktemp -d /dev/shm/jobs-test-big.XXXXXX)
        on_exit 'rm -rf "$BIGROOT"'
        BIG=$BIGROOT/big
fi
python3 - "$T/big.schedule" <<'X'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        if i % 2:
            f.write(f"[Job]\nName=job-{i}\nClass=Job{i}\nArgs=[{i}]\nOnCalendar=*-*-* {i % 24:02d}:{i % 60:02d}:00 Europe/London\n\n")
        else:
            f.write(f"[Job]\nName=job-{i}\nClass=Job{i}\nEvery={1 + i % 120}min\nScope=host\n\n")
X
expect_exit 0 "$J" generate "$T/big.schedule" "$BIG"
assert_eq "$(find "$BIG" -maxdepth 1 -type f -name 'jobs-*.timer' | wc -l)" "10000" "timers"
assert_eq "$(find "$BIG" -maxdepth 1 -type f -name 'jobs-*.service' | wc -l)" "10000" "services"
assert_eq "$(find "$BIG/jobs.target.wants" -type l | wc -l)" "10000" "wants symlinks"
assert_contains "$(cat "$BIG/jobs-job-9999.timer")" "OnCalendar=*-*-* 15:39:00 Europe/London"
# one entry fewer: exactly its two units and its symlink go
sed -i '/^Name=job-0$/,+3d; 1d' "$T/big.schedule"
expect_exit 0 "$J" generate "$T/big.schedule" "$BIG"
assert_eq "$(find "$BIG" -type f -o -type l | wc -l)" "$((3 * 9999 + 1))" "files after removing one entry"
[ ! -e "$BIG/jobs-job-0.timer" ] || fail "stale timer of job-0 kept"
ok "a 10,000-entry schedule generates 20,001 units and 10,000 symlinks"
