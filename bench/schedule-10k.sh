#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test): generate the units of a 10,000-entry schedule and compare the time of
# `jobsctl generate` with baselines measured in the same run on the same file system:
#   - `cp -r` of the output directory (the same 30,000 files and symlinks, created by cp),
#   - `systemd-analyze calendar` on the same distinct calendar expressions (part of jobsctl's work).
# Target: jobsctl generate ≤ 1 s. jobs-generator is timed on the same schedule too. Usage: bench/schedule-10k.sh [BUILDDIR] [RUNS]
# BENCH_DIR picks the file system (default: a new directory under ${TMPDIR:-/tmp}).
set -euo pipefail

build=${1:-build}
runs=${2:-5}
J=$(realpath "$build/src/programs/jobsctl")
G=$(realpath "$build/src/programs/jobs-generator")
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/jobs-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

python3 - "$dir/big.schedule" "$dir/exprs" <<'X'
import sys
exprs = set()
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        if i % 2:
            e = f"*-*-* {i % 24:02d}:{i % 60:02d}:00 Europe/London"
            exprs.add(e)
            f.write(f"[Job]\nName=job-{i}\nClass=Job{i}\nArgs=[{i}, \"x\"]\nOnCalendar={e}\nPersistent=yes\n\n")
        else:
            f.write(f"[Job]\nName=job-{i}\nClass=Job{i}\nQueue=q{i % 7}\nEvery={1 + i % 120}min\nScope=host\n\n")
with open(sys.argv[2], "w") as f:
    f.write("\n".join(sorted(exprs)) + "\n")
X

# median of RUNS wall-clock times of a command, in seconds; PREP runs before each (not timed)
median() {
        local prep=$1; shift
        local times=()
        for _ in $(seq "$runs"); do
                eval "$prep"
                local t0 t1
                t0=$(date +%s.%N)
                "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
                t1=$(date +%s.%N)
                times+=("$(echo "$t1 - $t0" | bc)")
        done
        printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

"$J" generate "$dir/big.schedule" "$dir/ref" >/dev/null
files=$(find "$dir/ref" -type f | wc -l)
links=$(find "$dir/ref" -type l | wc -l)

t_check=$(median : "$J" check "$dir/big.schedule")
t_fresh=$(median 'rm -rf "$dir/out"' "$J" generate "$dir/big.schedule" "$dir/out")
t_rerun=$(median : "$J" generate "$dir/big.schedule" "$dir/out")
t_nocal=$(median 'rm -rf "$dir/out"' "$J" generate --no-calendar-check "$dir/big.schedule" "$dir/out")
t_gen=$(median 'rm -rf "$dir/gen"; mkdir -p "$dir/etc"; cp "$dir/big.schedule" "$dir/etc/"' \
        env JOBS_SCHEDULE_DIR="$dir/etc" "$G" "$dir/gen" "$dir/gen.early" "$dir/gen.late")
t_cp=$(median 'rm -rf "$dir/cp"' cp -r "$dir/ref" "$dir/cp")
t_cal=$(median : xargs -a "$dir/exprs" -d '\n' systemd-analyze calendar --)

ratio() { printf "%.2f" "$(echo "scale=4; $1 / $2" | bc)"; }
echo "10,000 entries: $files files + $links symlinks in $(df --output=fstype "$dir" | tail -1) ($dir), median of $runs runs"
printf '%-48s %8.3f s\n' "jobsctl check (parse + systemd-analyze)" "$t_check"
printf '%-48s %8.3f s   %5sx cp -r   (target <= 1 s)\n' "jobsctl generate, empty OUTDIR" "$t_fresh" "$(ratio "$t_fresh" "$t_cp")"
printf '%-48s %8.3f s   %5sx cp -r\n' "jobsctl generate, rerun, nothing changed" "$t_rerun" "$(ratio "$t_rerun" "$t_cp")"
printf '%-48s %8.3f s   %5sx cp -r\n' "jobsctl generate --no-calendar-check, empty" "$t_nocal" "$(ratio "$t_nocal" "$t_cp")"
printf '%-48s %8.3f s   %5sx cp -r\n' "jobs-generator (writes in place, no check)" "$t_gen" "$(ratio "$t_gen" "$t_cp")"
printf '%-48s %8.3f s   (baseline)\n' "cp -r of the output directory" "$t_cp"
printf '%-48s %8.3f s   (%s distinct expressions)\n' "systemd-analyze calendar" "$t_cal" "$(wc -l <"$dir/exprs")"
