#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl's tables fit an 80-column terminal in screen columns (a Japanese character takes two), the
# ERROR column stays readable, and --json is not touched by the terminal's width.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

export LANG=C.UTF-8 LC_ALL=C.UTF-8
redis_start
now=$(date +%s)
ja='{"retry":true,"queue":"default","class":"Billing::InvoiceMailer","args":["請求書を送信しました。お客様の住所を確認してください"],"jid":"%s","created_at":1700000000.1,"enqueued_at":1700000000.2,"error_message":"550 5.1.1 mailbox unavailable for customer-service@example.com","error_class":"Net::SMTPFatalError","failed_at":1700000001.5,"retry_count":3}'
redis_cli ZADD retry $((now + 60)).5 "$(printf "$ja" "$(jid 1)")" >/dev/null
redis_cli ZADD dead $((now - 60)).5 "$(printf "$ja" "$(jid 2)")" >/dev/null
redis_cli ZADD schedule $((now + 60)).5 "$(printf "$ja" "$(jid 3)")" >/dev/null

# width of a line in screen columns, as a terminal in a UTF-8 locale shows it
screen_width() { python3 -c 'import sys, unicodedata
for l in sys.stdin.buffer.read().decode("utf-8").splitlines():
    print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l))'; }

for verb in retries dead scheduled; do
        expect_exit 0 env COLUMNS=80 "$C" $verb list --no-legend
        widest=$(screen_width <<<"$OUT" | sort -n | tail -1)
        [ "$widest" -le 80 ] || fail "$verb list: a line is $widest screen columns wide on an 80-column terminal: $OUT"
        # the same list unlimited is wider: the table was fitted, not short already
        expect_exit 0 env COLUMNS=1000 "$C" $verb list --no-legend
        [ "$(screen_width <<<"$OUT" | sort -n | tail -1)" -gt 80 ] || fail "$verb list: the test data fits anyway"
done
ok "retries, dead and scheduled lists fit 80 screen columns with Japanese args"

expect_exit 0 env COLUMNS=80 "$C" retries list --no-legend
assert_contains "$OUT" "Net::SMTPFatalError: 550 5.1.1" "the ERROR column is readable"
expect_exit 0 env COLUMNS=80 "$C" scheduled list --no-legend
assert_contains "$OUT" '["請求書' "ARGS keeps its start"
assert_contains "$OUT" '…' "a cut column ends in an ellipsis"
ok "ERROR keeps its words; a cut falls between characters"

# --json is the same whatever the terminal
expect_exit 0 env COLUMNS=80 "$C" retries list --json=short
narrow=$OUT
expect_exit 0 env COLUMNS=1000 "$C" retries list --json=short
assert_eq "$narrow" "$OUT" "--json at 80 and 1000 columns"
assert_eq "$(jq -r '.[0].job.args[0]' <<<"$OUT")" "請求書を送信しました。お客様の住所を確認してください"
ok "--json unchanged by the width"
