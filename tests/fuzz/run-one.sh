#!/bin/bash
# SPDX-License-Identifier: MIT
# Run one libFuzzer harness for $FUZZ_SECONDS (default 15) over its committed corpus.
#   run-one.sh BINARY CORPUS-DIR
# New inputs go to a temporary directory, never into the committed corpus. A crash prints the input
# (base64) and keeps it in $FUZZ_ARTIFACTS (default: the build directory's fuzz-artifacts/) for the
# corpus: a crash found once is a corpus file forever.
set -uo pipefail
bin=$1 corpus=$2
secs=${FUZZ_SECONDS:-15}
keep=${FUZZ_ARTIFACTS:-$(dirname "$bin")/fuzz-artifacts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$work/crash" "$keep"

"$bin" -max_total_time="$secs" -error_exitcode=1 -timeout_exitcode=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$work/crash/" "$work/new" "$corpus" 2>"$work/log"
rc=$?
tail -n 15 "$work/log"
if [ $rc != 0 ]; then
        grep -E 'ERROR|SUMMARY|#[0-9]+ 0x' "$work/log" | head -n 30
        for f in "$work"/crash/*; do
                [ -e "$f" ] || continue
                echo "crashing input $(basename "$f") (base64): $(base64 -w0 "$f" | head -c 4000)"
                cp "$f" "$keep/$(basename "$corpus")-$(basename "$f")"
        done
fi
exit $rc
