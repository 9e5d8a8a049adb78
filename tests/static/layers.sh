#!/bin/bash
# SPDX-License-Identifier: MIT
# The layers of src/, checked on the source text so that a violation fails the test suite:
#   util      → util
#   model     → util, model
#   redis     → util, model, redis
#   units     → util, model, units
#   engine    → util, model, redis, engine, the public jobs/jobs.h
#   programs  → any layer, but never a header named *-internal.h (the engine's own state)
# Every quoted include names its layer ("engine/fetch.h"), only src/ and include/ are on the
# include path, and no header in src/ is named like a system header.
# Usage: layers.sh [TREE]   (default: the source tree; tests use a fixture tree that must fail)
set -uo pipefail
root=${1:-$(dirname "$0")/../..}
cd "$root" || exit 2
bad=0
fail() { echo "$*" >&2; bad=1; }

declare -A allowed=(
        [util]="util"
        [model]="util model"
        [redis]="util model redis"
        [units]="util model units"
        [engine]="util model redis engine jobs"
        [programs]="util model redis units engine programs jobs"
)

for dir in src/*/; do
        layer=$(basename "$dir")
        [ -n "${allowed[$layer]+x}" ] || fail "$dir: not a known layer; add it to tests/static/layers.sh"
        for h in "$dir"*.h; do
                [ -e "$h" ] || continue
                b=${h##*/}
                for sys in /usr/include /usr/include/x86_64-linux-gnu /usr/include/linux; do
                        [ -e "$sys/$b" ] && { fail "$h: named like the system header <$b>; rename it"; break; }
                done
        done
done

# Every quoted include of every file, read by one grep (a process per file is slow on a busy machine).
while IFS= read -r hit; do
        f=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
        layer=${f#src/}; layer=${layer%%/*}
        [ -n "${allowed[$layer]+x}" ] || continue
        name=${rest#*\"}; name=${name%%\"*}
        [ "$name" = config.h ] && continue
        case $name in
        */*) ;;
        *) fail "$f:$line: #include \"$name\" does not name its layer (write \"<layer>/$name\")"; continue ;;
        esac
        to=${name%%/*}
        [[ " ${allowed[$layer]} " == *" $to "* ]] ||
                fail "$f:$line: layer '$layer' may not include \"$name\" (allowed: ${allowed[$layer]})"
        if [ "$layer" != engine ] && [[ $name == *-internal.h ]]; then
                fail "$f:$line: \"$name\" is the engine's own; use engine/worker.h or jobs/jobs.h"
        fi
        [ -e "src/$name" ] || [ -e "include/$name" ] || fail "$f:$line: \"$name\" does not exist"
done < <(grep -n -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src/*/*.[ch])

# Only src/ and include/ (and the build directory, for config.h) on the include path.
if grep -n "include_directories(" meson.build | grep -v "include_directories('include', 'src')" |
                grep -v "include_directories('.')" | grep -q .; then
        fail "meson.build: include_directories other than ('include', 'src') and ('.'):"
        grep -n "include_directories(" meson.build >&2
fi

files=(src/*/*.[ch])
[ $bad = 0 ] && echo "layers: OK (${#files[@]} files)"
exit $bad
