#!/bin/bash
# SPDX-License-Identifier: MIT
# The calendar evaluator against systemd-analyze on many random expressions with a random seed
# (the meson test calendar-diff runs a fixed seed). Prints the seed, the counts of expressions and
# elapses compared and of disagreements; rerun one with --seed.
#   bench/calendar-diff.sh [BUILD_DIR] [--count N] [--iterations N] [--zones SHARE] [--seed N]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[[ $# -gt 0 ]] && shift
eval_bin=$build/tests/calendar/calendar-spec-eval
[[ -x $eval_bin ]] || { echo "build first: ninja -C $build" >&2; exit 1; }
exec python3 "$here/tests/calendar/calendar-diff.py" --eval "$eval_bin" --count 20000 --iterations 12 \
        --zones 0.3 --zone-iterations 4 "$@"
