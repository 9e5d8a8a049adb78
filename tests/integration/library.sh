#!/bin/bash
# SPDX-License-Identifier: MIT
# libjobs as a program outside the tree sees it: installed (meson install into a staging root),
# found with pkg-config, linked by a C handler program (examples/hello-worker.c, which includes only
# <jobs/jobs.h>), and running a job; the shared library exports the jobs_* API and nothing else.
. "$(dirname "$0")/lib.sh"

root="$T/root"
meson install -C "$JOBS_BUILD_DIR" --no-rebuild --quiet --destdir "$root" --tags devel,runtime >/dev/null
pc=$(find "$root" -name libjobs.pc | head -1)
[ -n "$pc" ] || fail "no libjobs.pc installed"
[ -f "$(find "$root" -path '*/include/jobs/jobs.h' | head -1)" ] || fail "no jobs/jobs.h installed"
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="${pc%/*}"
so=$(find "$root" -name 'libjobs.so.0' | head -1)
[ -n "$so" ] || fail "no libjobs.so.0 installed"

exported=$(nm -D --defined-only "$so" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort)
assert_eq "$(grep -cv '^jobs_' <<<"$exported")" 0 "symbols outside jobs_*: $(grep -v '^jobs_' <<<"$exported" | head -5 | tr '\n' ' ')"
for f in jobs_worker_new jobs_worker_run jobs_worker_register jobs_job_fail jobs_log_open; do
        grep -qx "$f" <<<"$exported" || fail "$f not exported"
done
ok "libjobs.so.0 exports the jobs_* API only ($(wc -l <<<"$exported") functions)"

# A build with sanitizers made an instrumented library: the program must be built the same way.
san=$(meson introspect "$JOBS_BUILD_DIR" --buildoptions |
        python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'b_sanitize'))")
flags=()
[ "$san" = none ] || flags=("-fsanitize=$san")
# shellcheck disable=SC2046
cc -std=gnu17 -Wall -Wextra -Werror "${flags[@]}" -o "$T/hello-worker" "$JOBS_SOURCE_DIR/examples/hello-worker.c" \
        $(pkg-config --cflags --libs libjobs) || fail "hello-worker does not build against the installed libjobs"
ok "a C handler program builds with pkg-config --cflags --libs libjobs"

redis_start
jid=$("$BIN/jobs-enqueue" Noop)
LD_LIBRARY_PATH="$(dirname "$so")" JOBS_LOG_LEVEL=info "$T/hello-worker" -r "$REDIS_URL" --stop-after 1 \
        >"$T/hello.log" 2>&1 || fail "hello-worker failed: $(cat "$T/hello.log")"
grep -q "Finished Noop job $jid" "$T/hello.log" || fail "job not run: $(cat "$T/hello.log")"
assert_eq "$(redis-cli -s "$REDIS_SOCK" GET stat:processed)" 1 "processed"
ok "the program runs a job with the installed library"

# The same on the program's own sd-event loop (jobs_worker_attach_event(), jobs_worker_start()).
jid=$("$BIN/jobs-enqueue" Noop)
LD_LIBRARY_PATH="$(dirname "$so")" JOBS_LOG_LEVEL=info "$T/hello-worker" -r "$REDIS_URL" --stop-after 1 --attach \
        >"$T/attach.log" 2>&1 || fail "hello-worker --attach failed: $(cat "$T/attach.log")"
grep -q "Finished Noop job $jid" "$T/attach.log" || fail "job not run on the program's loop: $(cat "$T/attach.log")"
assert_eq "$(redis-cli -s "$REDIS_SOCK" GET stat:processed)" 2 "processed"
assert_eq "$(redis-cli -s "$REDIS_SOCK" SCARD processes)" 0 "processes left registered"
ok "the program runs a job with the worker attached to its own event loop"
