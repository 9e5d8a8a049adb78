#!/bin/bash
# SPDX-License-Identifier: MIT
# rediss+sentinel://: a TLS-only master and a TLS-only redis-sentinel (Debian's, certificates made
# here by openssl). jobs-enqueue, jobsctl and the worker find the master through the sentinel and
# reach it, both over TLS, a sentinel that refuses connections listed first. The sentinel's
# certificate is checked against its host in the URL (localhost), the master's against the address
# the sentinel gave (127.0.0.1): a master certificate without that IP is refused. A wrong CA gives
# the clear error and exit 78 of rediss://; ?verify=none beside sentinel_password= skips the checks.
# No failover here (sentinel.sh has that).
. "$(dirname "$0")/worker-lib.sh"
. "$(dirname "$0")/tls-lib.sh"
command -v redis-sentinel >/dev/null || fail "redis-sentinel is not installed (tests/deps.txt)"

ca ca
ca other-ca
cert server ca 30 "DNS:localhost,IP:127.0.0.1"
cert no-ip ca 30 "DNS:localhost"
CRED="$T/credentials"
mkdir -p "$CRED"
cp "$P/ca.crt" "$CRED/redis-ca"
export CREDENTIALS_DIRECTORY="$CRED" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"

# --- the master: TLS only (a unix socket for the test's own redis-cli) ----------------------------
PW=master-secret SPW=sentinel-secret
MPORT=$(free_port) SPORT=$(free_port) DEAD_PORT=$(free_port)
export REDIS_AUTH=$PW
redis_start master --tls-port "$MPORT" --bind 127.0.0.1 --tls-cert-file "$P/server.crt" \
        --tls-key-file "$P/server.key" --tls-ca-cert-file "$P/ca.crt" --tls-auth-clients no --requirepass "$PW"
use_cert() { redis_cli CONFIG SET tls-cert-file "$P/$1.crt" tls-key-file "$P/$1.key" >/dev/null; }

# --- the sentinel: TLS only, to clients and to the master ----------------------------------------
mkdir -p "$T/s1"
cat >"$T/s1/sentinel.conf" <<EOF2
port 0
tls-port $SPORT
bind 127.0.0.1
tls-cert-file $P/server.crt
tls-key-file $P/server.key
tls-ca-cert-file $P/ca.crt
tls-auth-clients no
tls-replication yes
daemonize no
dir $T/s1
logfile $T/s1/sentinel.log
requirepass $SPW
sentinel monitor mymaster 127.0.0.1 $MPORT 1
sentinel auth-pass mymaster $PW
EOF2
redis-sentinel "$T/s1/sentinel.conf" &
REDIS_PIDS+=($!)
scli() { redis-cli --tls --cacert "$P/ca.crt" -h localhost -p "$SPORT" -a "$SPW" --no-auth-warning "$@"; }
# the sentinel sees the master (over TLS) and answers
sentinel_ready() { scli SENTINEL master mymaster | grep -qx 'master'; }
wait_for "the sentinel to watch the master over TLS" 30 sentinel_ready
URL="rediss+sentinel://:$PW@localhost:$DEAD_PORT,localhost:$SPORT/mymaster/0?sentinel_password=$SPW"
export REDIS_URL="$URL"
ok "TLS-only master and sentinel up"

# --- jobs-enqueue, jobsctl, the worker ----------------------------------------------------------
expect_exit 0 "$E" -q stls Hello -a '["over tls"]'
assert_eq "$(redis_cli LLEN queue:stls)" 1 "jobs-enqueue's job, on the master"
expect_exit 0 "$BIN/jobsctl" queues
assert_contains "$OUT" stls "jobsctl queues through the sentinel"
expect_exit 0 "$BIN/jobsctl" status
assert_contains "$OUT" "rediss+sentinel://:***@localhost:$DEAD_PORT,localhost:$SPORT/mymaster/0?sentinel_password=***"
[[ "$OUT$ERR" != *"$PW"* && "$OUT$ERR" != *"$SPW"* ]] || fail "a password shown by jobsctl status: $OUT$ERR"
ok "jobs-enqueue and jobsctl through rediss+sentinel:// (the first sentinel refusing connections), passwords masked"

handler Hello <<'EOF2'
read -r payload
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
start_worker w -q stls
wait_for "the job to run" 30 lines_at_least "$T/done" 1
jid=$("$E" -q stls Hello)
wait_log w "Finished Hello job $jid"
! grep -qe "$PW" -e "$SPW" "$T/w.log" || fail "a password in the worker's log"
# and listens to it for failovers, over TLS too (the only client subscribed to the sentinel)
subscribers() { [ "$(scli CLIENT LIST | grep -c ' sub=1 ')" -ge "$1" ]; }
wait_for "the worker to subscribe to the sentinel" 30 subscribers 1
ok "the worker finds the master through the sentinel over TLS, runs jobs and subscribes to +switch-master"

# --- a sentinel ACL user: with the rights jobs-worker(8) lists the worker subscribes; without the
# channel it says so, once ------------------------------------------------------------------------
rights=(-@all +auth +ping "+sentinel|get-master-addr-by-name" +subscribe)
scli ACL SETUSER jobs on ">$SPW" resetchannels "&+switch-master" "${rights[@]}" >/dev/null
scli ACL SETUSER nochannel on ">$SPW" resetchannels "${rights[@]}" >/dev/null
main=$WORKER_PID
start_worker acl -q stls-acl -r "$URL&sentinel_username=jobs"
wait_for "the ACL user's worker to subscribe" 30 subscribers 2
stop_worker "$WORKER_PID"
start_worker nochannel -q stls-acl -r "$URL&sentinel_username=nochannel"
wait_log nochannel "refused SUBSCRIBE +switch-master: NOPERM"
stop_worker "$WORKER_PID"
assert_eq "$(grep -c "refused SUBSCRIBE" "$T/nochannel.log")" 1 "warnings of the refused subscription"
WORKER_PID=$main
ok "a sentinel ACL user with &+switch-master +subscribe lets the worker subscribe; one without the channel is said once"

# --- verification --------------------------------------------------------------------------------
cp "$P/other-ca.crt" "$CRED/redis-ca"
expect_exit 78 "$E" -q stls Hello
assert_match "$ERR" "sentinel localhost:$SPORT: TLS: the certificate of localhost was not accepted: ($UNTRUSTED)"
assert_contains "$ERR" "redis-ca"
expect_exit 78 "$BIN/jobsctl" status
assert_match "$ERR" "certificate of localhost was not accepted: ($UNTRUSTED)"
# the refused certificate is what is said, even when a sentinel down is listed after
expect_exit 78 "$E" -r "rediss+sentinel://:$PW@localhost:$SPORT,localhost:$DEAD_PORT/mymaster/0?sentinel_password=$SPW" -q stls Hello
assert_match "$ERR" "certificate of localhost was not accepted: ($UNTRUSTED)"
expect_exit 0 "$E" -r "$URL&verify=none" -q stls Hello
ok "wrong CA: jobs-enqueue and jobsctl exit 78 naming the sentinel and the reason; ?verify=none skips the check"

cp "$P/ca.crt" "$CRED/redis-ca"
use_cert no-ip
expect_exit 78 "$E" -q stls Hello
assert_contains "$ERR" "certificate of 127.0.0.1 was not accepted: IP address mismatch"
use_cert server
expect_exit 0 "$E" -q stls Hello
ok "the master's certificate is checked against the address the sentinel gave (127.0.0.1)"
wait_for "every job to run" 30 key_is 0 LLEN queue:stls
stop_worker "$WORKER_PID"
