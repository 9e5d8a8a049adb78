#!/bin/bash
# SPDX-License-Identifier: MIT
# jobs-generator run by hand: the same units as jobsctl generate for the same file, broken entries
# and files skipped with a message while the rest is written, nothing outside its normal directory.
. "$(dirname "$0")/lib.sh"

J="$BIN/jobsctl"
G="$BIN/jobs-generator"
S="$JOBS_SOURCE_DIR/units/jobs.schedule"

# --- same units as jobsctl generate ----------------------------------------------------------------
mkdir "$T/etc"
cp "$S" "$T/etc/app.schedule"
JOBS_SCHEDULE_DIR="$T/etc" expect_exit 0 "$G" "$T/gen" "$T/gen.early" "$T/gen.late"
assert_eq "$ERR" "" "generator stderr"
expect_exit 0 "$J" generate "$T/etc/app.schedule" "$T/ctl"
rm "$T/ctl/jobs.target" # shipped by the package; the generator only adds to jobs.target.wants/
diff -r --no-dereference "$T/ctl" "$T/gen" || fail "generator output differs from jobsctl generate"
assert_eq "$(find "$T/gen" -type f | wc -l)" "4" "unit files"
assert_eq "$(readlink "$T/gen/jobs.target.wants/jobs-say-hello.timer")" "../jobs-say-hello.timer"
assert_contains "$(cat "$T/gen/jobs-say-hello.timer")" "SourcePath=$T/etc/app.schedule"
[ ! -e "$T/gen.early" ] && [ ! -e "$T/gen.late" ] || fail "wrote outside the normal directory"
ok "jobs-generator writes the same units as jobsctl generate"

# a rerun into the same directory (systemd gives an empty one; by hand it may not be) is the same
JOBS_SCHEDULE_DIR="$T/etc" expect_exit 0 "$G" "$T/gen" "$T/gen.early" "$T/gen.late"
diff -r --no-dereference "$T/ctl" "$T/gen" || fail "rerun differs"

# --- broken entries and files are skipped, the rest is written -------------------------------------
cat >"$T/etc/broken.schedule" <<'X'
[Job]
Name=good-one
Class=GoodOne
OnCalendar=*-*-* 03:00 Europe/Paris

[Job]
Name=bad-args
Class=BadArgs
Args=[1,
Every=1h

[Job]
Name=say-hello
Class=Duplicate
Every=1min

[Job]
Name=no-class
Every=1min
X
printf '[Job]\nName=nul\0\n' >"$T/etc/zz-binary.schedule"
echo "not a schedule" >"$T/etc/README"           # wrong suffix: ignored
cp "$S" "$T/etc/.hidden.schedule"                 # hidden: ignored
mkdir "$T/etc/dir.schedule"                        # not a regular file
cp "$S" "$T/etc/$(printf 'new\nline').schedule"     # a name that cannot go into a unit file
JOBS_SCHEDULE_DIR="$T/etc" expect_exit 0 "$G" "$T/gen2" "$T/gen2.early" "$T/gen2.late"
assert_contains "$ERR" "$T/etc/broken.schedule:9: Args=[1,: not valid JSON"
assert_contains "$ERR" "(entry skipped)"
assert_contains "$ERR" "$T/etc/broken.schedule:12: [Job] Name=say-hello: the name is already used by the entry at $T/etc/app.schedule:6"
assert_contains "$ERR" "$T/etc/broken.schedule:17: [Job] Name=no-class: Class= is missing"
assert_contains "$ERR" "$T/etc/zz-binary.schedule: the file contains a NUL byte"
assert_contains "$ERR" "$T/etc/dir.schedule: not a regular file, skipped"
assert_contains "$ERR" "$T/etc: skipped the file with a name of characters other than"
assert_eq "$(cd "$T/gen2" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
        "./jobs-good-one.service ./jobs-good-one.timer ./jobs-nightly-report.service ./jobs-nightly-report.timer ./jobs-say-hello.service ./jobs-say-hello.timer ./jobs.target.wants ./jobs.target.wants/jobs-good-one.timer ./jobs.target.wants/jobs-nightly-report.timer ./jobs.target.wants/jobs-say-hello.timer "
# the first say-hello (app.schedule) won, not the duplicate
assert_contains "$(cat "$T/gen2/jobs-say-hello.service")" " SayHello"
assert_contains "$(cat "$T/gen2/jobs-good-one.timer")" "OnCalendar=*-*-* 03:00 Europe/Paris"
ok "broken entries and files are skipped with a message, the rest is written"

# --- one validation: what check refuses the generator skips, alone --------------------------------
mkdir "$T/del"
printf '[Job]\nName=a\nClass=A\nArgs=["\x7f"]\nEvery=1min\n\n[Job]\nName=b\nClass=B\nEvery=1min\n' >"$T/del/del.schedule"
printf '[Job]\nName=c\nClass=C\nEvery=1h\n' >"$T/del/good.schedule"
expect_exit 65 "$J" check --no-calendar-check "$T/del/del.schedule"
assert_contains "$ERR" "$T/del/del.schedule:4: Args="
assert_contains "$ERR" "control character"
expect_exit 65 "$J" generate --no-calendar-check "$T/del/del.schedule" "$T/del-ctl"
JOBS_SCHEDULE_DIR="$T/del" expect_exit 0 "$G" "$T/gen-del"
assert_contains "$ERR" "$T/del/del.schedule:4: Args="
assert_eq "$(cd "$T/gen-del" && ls | tr '\n' ' ')" "jobs-b.service jobs-b.timer jobs-c.service jobs-c.timer jobs.target.wants " \
        "units written beside the bad entry"
# a schedule path a unit file cannot name: check says so, as generate does
mkdir "$T/nl"
cp "$T/del/good.schedule" "$T/nl/$(printf 'a\nb').schedule"
expect_exit 65 "$J" check --no-calendar-check "$T/nl/$(printf 'a\nb').schedule"
assert_contains "$ERR" "cannot be written as unit files"
ok "check, generate and the generator refuse the same entry; the generator writes the rest"

# --- no schedule directory, an empty one: nothing written, success ---------------------------------
JOBS_SCHEDULE_DIR="$T/nonexistent" expect_exit 0 "$G" "$T/gen3" "$T/gen3.early" "$T/gen3.late"
assert_eq "$OUT$ERR" "" "output without a schedule directory"
[ ! -e "$T/gen3" ] || fail "wrote without a schedule"
mkdir "$T/empty"
JOBS_SCHEDULE_DIR="$T/empty" expect_exit 0 "$G" "$T/gen3"
[ ! -e "$T/gen3" ] || fail "wrote for an empty directory"
expect_exit 1 "$G"
assert_contains "$ERR" "Usage: jobs-generator"
ok "no schedule: nothing written; bad usage: exit 1"

# --- a generator never calls systemctl or systemd-analyze ------------------------------------------
mkdir "$T/spy"
for p in systemctl systemd-analyze; do
        printf '#!/bin/sh\ntouch "%s/called-%s"\n' "$T/spy" "$p" >"$T/spy/$p"
        chmod +x "$T/spy/$p"
done
PATH="$T/spy:$PATH" JOBS_SCHEDULE_DIR="$T/etc" expect_exit 0 "$G" "$T/gen4"
[ -z "$(ls "$T/spy" | grep called || true)" ] || fail "the generator ran $(ls "$T/spy" | grep called)"
ok "the generator spawns nothing"
