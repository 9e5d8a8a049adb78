#!/bin/bash
# SPDX-License-Identifier: MIT
# Line coverage of src/ by the unit, engine and integration tests: builds with -Db_coverage=true (no
# sanitizers) in build-coverage, runs those suites and prints, with gcovr, the covered lines of each
# layer (src/util, src/model, src/redis, src/engine, src/units, src/programs) and of the whole.
# Usage: tests/coverage.sh [BUILD_DIR]
# $JOBS_TEST_PROCESSES: tests run at once (default 2 × cores); $JOBS_TEST_TIMEOUT_MULTIPLIER: for
# meson's timeouts on a loaded machine (default 1). A test that times out covers less: compare
# figures of runs without timeouts.
# Exits non-zero when a test failed; the figures are printed either way.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-coverage}
procs=${JOBS_TEST_PROCESSES:-$(($(nproc) * 2))}
multiplier=${JOBS_TEST_TIMEOUT_MULTIPLIER:-1}

command -v gcovr >/dev/null || { echo "gcovr is not installed (apt-get install gcovr)" >&2; exit 69; }
rm -rf "$build"
meson setup "$build" -Db_coverage=true -Dbuildtype=debug | tail -n 1
ninja -C "$build" >/dev/null
status=0
suites=()
for s in unit engine integration; do
        [ ! -d "tests/$s" ] || suites+=(--suite "$s")
done
meson test -C "$build" "${suites[@]}" --num-processes "$procs" --timeout-multiplier "$multiplier" \
        >"$build/tests.txt" 2>&1 || status=1
grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)' "$build/tests.txt" || true
grep -E '^(Ok|Fail|Timeout):' "$build/tests.txt"

# One gcovr pass writes the per-file figures as JSON; the layers are sums over their files.
gcovr --root . --object-directory "$build" --filter 'src/' --json-summary "$build/coverage.json" \
        --exclude-unreachable-branches >/dev/null 2>"$build/gcovr.err" ||
        { cat "$build/gcovr.err" >&2; exit 1; }
python3 - "$build/coverage.json" <<'EOF'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
layers = {}
for f in files:
    parts = f["filename"].split("/")
    layer = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    c, t = layers.get(layer, (0, 0))
    layers[layer] = (c + f["line_covered"], t + f["line_total"])
print("%-14s %8s %8s %7s" % ("layer", "covered", "lines", "cover"))
for layer in ["src/util", "src/model", "src/redis", "src/engine", "src/units", "src/programs"] + \
        sorted(set(layers) - {"src/util", "src/model", "src/redis", "src/engine", "src/units", "src/programs"}):
    if layer in layers:
        c, t = layers[layer]
        print("%-14s %8d %8d %6.1f%%" % (layer, c, t, 100.0 * c / t if t else 0))
c = sum(v[0] for v in layers.values()); t = sum(v[1] for v in layers.values())
print("%-14s %8d %8d %6.1f%%" % ("total", c, t, 100.0 * c / t if t else 0))
EOF
exit "$status"
