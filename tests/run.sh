#!/bin/bash
# SPDX-License-Identifier: MIT
# Run every test: install what they need, build under ASan/UBSan, run unit + integration (+ system
# when root can boot a container), run the unit tests under valgrind on a plain build, and print
# one line "N passed, N failed" from meson's summaries. Exits non-zero when anything failed.
# Tests are independent (each its own temp dir, Redis socket or free port), and most of their time
# is spent waiting on other processes: $JOBS_TEST_PROCESSES of them run at once (default 2 × cores).
# The system tests take one .deb built while the tests compile (or $JOBS_DEB) and run beside the rest:
# they mostly wait on booted containers and on the clock.
# JOBS_TEST_ACCOUNT=FILE appends each part's wall, user and system seconds to FILE (what costs CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
procs=${JOBS_TEST_PROCESSES:-$(($(nproc) * 2))}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        missing=$(for p in $(cat tests/deps.txt); do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
        if [ -n "$missing" ]; then
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                # shellcheck disable=SC2086
                apt-get install -y -qq --no-install-recommends $missing >/dev/null
        fi
fi

system=false
if grep -q "'system_tests'" meson_options.txt && [ "$(id -u)" = 0 ] && [ "${JOBS_SKIP_SYSTEM_TESTS:-0}" != 1 ]; then
        system=true
fi

passed=0 failed=0
# part NAME COMMAND...: runs it, and with $JOBS_TEST_ACCOUNT notes its times (its children's too)
part() {
        local name=$1; shift
        if [ -z "${JOBS_TEST_ACCOUNT:-}" ]; then
                "$@"
                return
        fi
        # (in a subshell of its own: a background part that ends meanwhile is not counted here)
        ( TIMEFORMAT="$name %R wall %U user %S sys"; time "$@" 2>&3 ) 3>&2 2>>"$JOBS_TEST_ACCOUNT"
}
count() { # add up meson's "Ok:/Fail:..." summary from a testlog
        local log=$1 ok fl
        ok=$(awk '/^Ok:/{a+=$2} /^Expected Fail:/{a+=$3} END{print a+0}' "$log")
        fl=$(awk '/^Fail:/{a+=$2} /^Unexpected Pass:/{a+=$3} /^Timeout:/{a+=$2} END{print a+0}' "$log")
        passed=$((passed + ok)); failed=$((failed + fl))
}

status=0
rm -rf build-ci build-valgrind build-fuzz
system_tests=(system system-fleet system-vm) system_pids=()
if $system; then
        # What the system tests need before they start, made while everything compiles: the host
        # tools (once, so that no two tests install at the same time), the bootstrapped root (one
        # for the containers and the VM), and the .deb they share. The VM's disk image is made of
        # that root once it is there; the VM test, started with the others, waits for it on its lock.
        mkdir -p build-deb
        (
                set -e
                # ahead of the compiles: the VM test, the longest, waits for this root and its image
                renice -n -5 -p "$BASHPID" >/dev/null
                . tests/system/lib.sh
                ct_host_tools "${CT_VM_TOOLS[@]}"
                part vm-image bash tests/system/vm.sh --prepare >build-deb/vm-prep.log 2>&1 &
                part test-root ct_test_root >/dev/null
        ) >build-deb/systest-prep.log 2>&1 &
        prep_pid=$!
        if [ -z "${JOBS_DEB:-}" ]; then
                part deb packaging/build-deb.sh "$top/build-deb" >build-deb/build.log 2>&1 &
                deb_pid=$!
        fi
fi
meson setup build-ci -Db_sanitize=address,undefined -Db_lundef=false \
        $( $system && echo -Dsystem_tests=true || true ) | tail -n 3
part build-asan ninja -C build-ci >/dev/null
# The valgrind and fuzzing builds compile beside the tests below (niced: the tests come first).
(
        renice -n 10 -p "$BASHPID" >/dev/null
        meson setup build-valgrind -Dbuildtype=debug | tail -n 3
        part build-valgrind ninja -C build-valgrind >/dev/null
        if command -v clang >/dev/null; then
                part build-fuzz tests/fuzz/run.sh --build
        fi
) >build-ci/builds.log 2>&1 &
builds_pid=$!
part tests-asan meson test -C build-ci --no-rebuild --print-errorlogs --num-processes "$procs" --no-suite system \
        >build-ci/summary.txt 2>&1 &
asan_pid=$!

# The system tests spend their time waiting on booted containers and on the clock (the fleet's
# schedule runs 120 s): they start as soon as the .deb is built and run beside everything else,
# each meson run with its own log.
if $system; then
        wait "$prep_pid" || cat build-deb/systest-prep.log
        if [ -z "${JOBS_DEB:-}" ]; then
                if wait "$deb_pid"; then
                        JOBS_DEB=$(tail -n 1 build-deb/build.log)
                        export JOBS_DEB
                else
                        tail -n 20 build-deb/build.log
                        echo "building the .deb failed: the system tests build it themselves"
                fi
        fi
        for t in "${system_tests[@]}"; do
                part "$t" meson test -C build-ci --no-rebuild --print-errorlogs --logbase "$t" "$t" >"build-ci/$t.txt" 2>&1 &
                system_pids+=($!)
        done
fi

wait "$asan_pid" || status=1
cat build-ci/summary.txt
count build-ci/summary.txt
if ! wait "$builds_pid"; then
        cat build-ci/builds.log
        echo "building build-valgrind or build-fuzz failed"
        exit 1
fi
cat build-ci/builds.log

# the libFuzzer harnesses, 15 s each over their corpus (tests/fuzz/run.sh alone runs them longer),
# beside valgrind
fuzz_pid=
if command -v clang >/dev/null; then
        part fuzz tests/fuzz/run.sh --ci >build-ci/fuzz-summary.txt 2>&1 &
        fuzz_pid=$!
fi
part valgrind-unit meson test -C build-valgrind --suite unit --print-errorlogs \
        --wrapper 'valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet' \
        2>&1 | tee build-valgrind/summary.txt || status=1
count build-valgrind/summary.txt
# the integration tests that check themselves with valgrind when the build has no ASan
part valgrind-enqueue meson test -C build-valgrind --print-errorlogs enqueue 2>&1 | tee build-valgrind/summary.txt || status=1
count build-valgrind/summary.txt

if [ -n "$fuzz_pid" ]; then
        wait "$fuzz_pid" || status=1
        cat build-ci/fuzz-summary.txt
        count build-ci/fuzz-summary.txt
fi

if $system; then
        for i in "${!system_tests[@]}"; do
                wait "${system_pids[$i]}" || status=1
                cat "build-ci/${system_tests[$i]}.txt"
                count "build-ci/${system_tests[$i]}.txt"
        done
fi

if [ -n "${JOBS_TEST_ACCOUNT:-}" ] && [ -s "$JOBS_TEST_ACCOUNT" ]; then
        echo "# seconds by part (wall, user, sys), from $JOBS_TEST_ACCOUNT:"
        awk '{ print "#   " $0; cpu += $4 + $6 } END { printf "#   user + sys of the parts: %.0f s\n", cpu }' "$JOBS_TEST_ACCOUNT"
fi
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
