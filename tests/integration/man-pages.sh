#!/bin/bash
# SPDX-License-Identifier: MIT
# Every man page in man/ renders without warnings and has a NAME line lexgrog understands.
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null && command -v lexgrog >/dev/null || fail "man and lexgrog are needed (package man-db)"
n=0
for page in "$JOBS_SOURCE_DIR"/man/*.[1-8]; do
        warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "$page: $warnings"
        lexgrog "$page" >/dev/null || fail "$page: lexgrog cannot parse its NAME section"
        grep -qx "  '$(basename "$page")'," "$JOBS_SOURCE_DIR/man/meson.build" || fail "$page is not in man/meson.build"
        n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no man pages found"
ok "$n man pages render cleanly"
