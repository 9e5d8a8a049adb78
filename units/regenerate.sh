#!/bin/bash
# SPDX-License-Identifier: MIT
# Regenerate units/generated/ from units/jobs.schedule (ninja -C build regenerate-units), or with
# --check fail when the committed units are out of date with the schedule (a meson test).
#
# The committed units are what the example schedule the package ships generates, so they name the
# packaged paths: the enqueue program in /usr/bin and the schedule in /usr/share/jobs/examples
# (the package installs neither these units nor their timers; see packaging/demo.sh). Paths in their headers are
# relative to the source tree, which is why this runs from its top.
set -euo pipefail

jobsctl=$(realpath "$1")  # before the cd below
mode=${2:-}
cd "$(dirname "$0")/.."

args=(generate --source-path=/usr/share/jobs/examples/jobs.schedule --enqueue-path=/usr/bin/jobs-enqueue
      units/jobs.schedule)

# every generated file, symlinks included, one per line: units/meson.build installs this list
list() { (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort); }

if [ "$mode" = --check ]; then
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        "$jobsctl" "${args[@]}" "$tmp/generated" >/dev/null
        list "$tmp/generated" >"$tmp/generated.list"
        if ! diff -r -u --no-dereference units/generated "$tmp/generated" ||
           ! diff -u units/generated.list "$tmp/generated.list"; then
                echo "units/generated/ is out of date with units/jobs.schedule:" \
                     "run 'ninja -C BUILDDIR regenerate-units' and commit the result." >&2
                exit 1
        fi
        echo "units/generated/ is up to date with units/jobs.schedule"
else
        "$jobsctl" "${args[@]}" units/generated
        list units/generated >units/generated.list
fi
