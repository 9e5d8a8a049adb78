#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses with clang in build-fuzz/ and run them.
#   tests/fuzz/run.sh                 each harness for 10 minutes (FUZZ_SECONDS to change)
#   tests/fuzz/run.sh --ci            each for 15 s (what .ci/run does)
#   tests/fuzz/run.sh [--ci] NAME...  only these (payload schedule worker-conf url duration json-ruby)
#   tests/fuzz/run.sh --build         only build them (tests/run.sh does so while other tests run)
# A crash prints its input and leaves it in build-fuzz/tests/fuzz/fuzz-artifacts/: fix the bug, then
# add the file to tests/fuzz/corpus/NAME/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-600}
build_only=false
if [ "${1:-}" = --build ]; then
        build_only=true
        shift
elif [ "${1:-}" = --ci ]; then
        secs=${FUZZ_SECONDS:-15}
        shift
fi
command -v clang >/dev/null || { echo "tests/fuzz/run.sh: clang is needed (apt-get install clang)" >&2; exit 69; }
if [ ! -d build-fuzz ]; then
        # (only the harnesses and the library are built here, with -Werror as everywhere)
        CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
                -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized | tail -n 3
fi
targets=()
for n in payload schedule worker-conf url duration json-ruby; do targets+=("tests/fuzz/fuzz-$n"); done
ninja -C build-fuzz "${targets[@]}" >/dev/null
! $build_only || exit 0
names=()
for n in "$@"; do names+=("fuzz-$n"); done
FUZZ_SECONDS=$secs meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs --num-processes "$(nproc)" \
        -t $(( (secs + 60) / 60 + 1 )) "${names[@]}"
