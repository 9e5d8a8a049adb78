#!/bin/bash
# SPDX-License-Identifier: MIT
# The public API is named the same in four places: the functions jobs/jobs.h declares (static inline
# helpers aside), the version script's exact names, the Debian symbols file, and what libjobs.so
# exports. Usage: symbols.sh SOURCE_ROOT LIBJOBS_SO
set -uo pipefail
src=$1 so=$2

header=$(grep -E '^[A-Za-z]' "$src/include/jobs/jobs.h" | grep -v '^static' |
        grep -oE '\bjobs_[a-z_]+\(' | tr -d '(' | sort -u)
script=$(sed -n '/^global:/,/^local:/p' "$src/include/jobs/libjobs.sym" | grep -oE '^[[:space:]]+[A-Za-z_]+;' |
        tr -d ' \t;' | sort -u)
debian=$(grep -oE '^ jobs_[a-z_]+@' "$src/packaging/debian/libjobs0.symbols" | tr -d ' @' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort -u)

status=0
check() {
        if [ "$2" != "$header" ]; then
                echo "FAIL: $1 differs from the functions of jobs/jobs.h:" >&2
                diff <(echo "$header") <(echo "$2") >&2 || true
                status=1
        fi
}
[ -n "$header" ] || { echo "FAIL: no functions found in jobs/jobs.h" >&2; exit 1; }
sed -n '/^global:/,/^local:/p' "$src/include/jobs/libjobs.sym" | grep -q '\*' &&
        { echo "FAIL: libjobs.sym exports by wildcard, not by name" >&2; status=1; }
check "include/jobs/libjobs.sym" "$script"
check "packaging/debian/libjobs0.symbols" "$debian"
check "the exports of $so" "$exported"
[ "$status" = 0 ] && echo "ok - $(wc -l <<<"$header") functions named alike in jobs.h, libjobs.sym, libjobs0.symbols and libjobs.so"
exit "$status"
