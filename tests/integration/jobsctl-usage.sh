#!/bin/bash
# SPDX-License-Identifier: MIT
# What a user who mistypes sees: a suggestion for a near verb or option, one "jobsctl:" prefix on
# every usage error, exit 64; jobsctl enqueue --help names jobsctl enqueue.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

expect_exit 64 "$C" staus
assert_eq "$ERR" "jobsctl: Unknown command 'staus'; did you mean 'status'?"
expect_exit 64 "$C" proceses
assert_contains "$ERR" "did you mean 'processes'?"
expect_exit 64 "$C" frobnicate
assert_eq "$ERR" "jobsctl: Unknown command 'frobnicate'; see jobsctl --help."
ok "unknown command: did you mean"

expect_exit 64 "$C" status --jsn
assert_eq "$ERR" "jobsctl: Unknown option '--jsn'; did you mean --json?"
expect_exit 64 "$C" --jason status
assert_eq "$ERR" "jobsctl: Unknown option '--jason'; did you mean --json?"
expect_exit 64 "$C" retries list --limt 3
assert_eq "$ERR" "jobsctl: Unknown option '--limt'; did you mean --limit?"
expect_exit 64 "$C" retries list --limit
assert_eq "$ERR" "jobsctl: Option --limit needs a value; see jobsctl --help."
expect_exit 64 "$C" generate --no-calendar-chek a b
assert_eq "$ERR" "jobsctl: Unknown option '--no-calendar-chek'; did you mean --no-calendar-check?"
expect_exit 64 "$C" status -x
assert_eq "$ERR" "jobsctl: Unknown option '-x'; see jobsctl --help."
ok "unknown option: did you mean, one prefix"

expect_exit 0 "$C" enqueue --help
assert_eq "$(head -1 <<<"$OUT")" "Usage: jobsctl enqueue [OPTIONS] CLASS"
expect_exit 0 "$BIN/jobs-enqueue" --help
assert_eq "$(head -1 <<<"$OUT")" "Usage: jobs-enqueue [OPTIONS] CLASS"
expect_exit 64 "$C" enqueue --bogus X
assert_match "$ERR" "^jobsctl enqueue: "
ok "jobsctl enqueue --help names jobsctl enqueue"

# The default config path is absolute, also in a build for /usr/local.
expect_exit 0 "$BIN/jobs-worker" --help
assert_match "$OUT" '\(default: /[^ )]*/jobs/worker\.conf if it exists\)'
ok "jobs-worker's default config path is absolute"
