#!/bin/bash
# SPDX-License-Identifier: MIT
# rediss:// against Debian's redis-server on a TLS port, with certificates made here by openssl:
# jobs-enqueue, the worker and jobsctl status over TLS (CA from the redis-ca credential or
# SSL_CERT_FILE); a wrong CA, a wrong host name and an expired certificate each refused with a clear
# error and exit 78; ?verify=none skips the checks; mutual TLS with the redis-cert/redis-key
# credentials, refused with exit 77 without them. Passwords stay masked.
. "$(dirname "$0")/worker-lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"
. "$(dirname "$0")/tls-lib.sh"

# --- certificates ---------------------------------------------------------------------------------
ca ca
ca other-ca
cert server ca 30 "DNS:localhost,IP:127.0.0.1"
cert wronghost ca 30 "DNS:redis.invalid"
cert expired ca -1 "DNS:localhost,IP:127.0.0.1"
cert client ca 30 "DNS:jobs-client"
cert stranger other-ca 30 "DNS:jobs-client"
openssl x509 -in "$P/expired.crt" -noout -checkend 0 >/dev/null && fail "the expired certificate is not expired"

# --- a TLS-only server (plus a unix socket for the test's own redis-cli) --------------------------
TLS_PORT=$(free_port)
export REDIS_AUTH=s3cret-pw DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"
redis_start redis --tls-port "$TLS_PORT" --tls-cert-file "$P/server.crt" --tls-key-file "$P/server.key" \
        --tls-ca-cert-file "$P/ca.crt" --tls-auth-clients no --requirepass s3cret-pw
use_cert() { redis_cli CONFIG SET tls-cert-file "$P/$1.crt" tls-key-file "$P/$1.key" >/dev/null; }

CRED="$T/credentials"
mkdir -p "$CRED"
cp "$P/ca.crt" "$CRED/redis-ca"
export CREDENTIALS_DIRECTORY="$CRED"
URL="rediss://:s3cret-pw@localhost:$TLS_PORT/0"
export REDIS_URL="$URL"

# --- success: enqueue, a worker runs the job, jobsctl status -------------------------------------
expect_exit 0 "$E" -q tls Hello -a '["over tls"]'
assert_eq "$(redis_cli LLEN queue:tls)" 1 "job pushed over TLS"
# WAIT, and its longer reply time, over TLS: no replica here, so the job is unconfirmed.
expect_exit 75 "$E" -q tls-wait --wait-replicas 1 --wait-timeout 300ms Hello
assert_contains "$ERR" "only 0 of 1 replicas confirmed it within 300ms" "--wait-replicas over TLS"
assert_eq "$(redis_cli LLEN queue:tls-wait)" 1 "the unconfirmed job is on the master"
handler Hello <<'EOF2'
read -r payload
echo "$JOB_ID" >>"$JOBS_TEST_MARK/done"
EOF2
start_worker w1 -q tls
wait_for "the job to run over TLS" 30 lines_at_least "$T/done" 1
wait_log w1 "Finished Hello job"
log_has w1 "Connected to Redis at localhost:$TLS_PORT" || fail "worker log: $(cat "$T/w1.log")"
ok "jobs-enqueue pushed and the worker ran the job over TLS (CA from the redis-ca credential)"

jid=$("$E" -q tls Hello)
wait_log w1 "Finished Hello job $jid"
ok "the worker picks up a job enqueued while it waits (blocking fetch over TLS)"

expect_exit 0 "$C" status
assert_contains "$OUT" "rediss://:***@localhost:$TLS_PORT/0"
[[ "$OUT$ERR" != *s3cret-pw* ]] || fail "password shown by jobsctl status: $OUT$ERR"
! grep -q s3cret-pw "$T/w1.log" || fail "password in the worker's log"
ok "jobsctl status over TLS, the password masked"

acl_setup
expect_exit 0 "$E" --redis "rediss://jobs:$JOBS_ACL_PASSWORD@localhost:$TLS_PORT/0" -q tls Hello
wait_log w1 "Finished Hello job $OUT"
ok "rediss://user:password@host: the ACL user of README.md over TLS"

# SSL_CERT_FILE as OpenSSL's default verify paths honour it, without the credential
rm "$CRED/redis-ca"
expect_exit 0 env SSL_CERT_FILE="$P/ca.crt" "$E" -q tls Hello
expect_exit 78 "$E" -q tls Hello
assert_match "$ERR" "certificate of localhost was not accepted: ($UNTRUSTED)"
ok "without the credential the system store is used (SSL_CERT_FILE honoured, else refused)"

# --- refusals: each a clear error and exit 78 (EX_CONFIG) ----------------------------------------
cp "$P/other-ca.crt" "$CRED/redis-ca"
expect_exit 78 "$E" -q tls Hello
assert_match "$ERR" "certificate of localhost was not accepted: ($UNTRUSTED)"
assert_contains "$ERR" "redis-ca"
[[ "$ERR" != *s3cret-pw* ]] || fail "password in the error: $ERR"
expect_exit 78 "$C" status
assert_match "$ERR" "not accepted: ($UNTRUSTED)"
ok "wrong CA: jobs-enqueue and jobsctl exit 78, naming the reason"

cp "$P/ca.crt" "$CRED/redis-ca"
use_cert wronghost
expect_exit 78 "$E" -q tls Hello
assert_contains "$ERR" "certificate of localhost was not accepted: hostname mismatch"
expect_exit 0 "$E" --redis "rediss://:s3cret-pw@localhost:$TLS_PORT/0?verify=none" -q tls Hello
ok "wrong host name: exit 78 (hostname mismatch); ?verify=none skips the check"

use_cert expired
expect_exit 78 "$E" -q tls Hello
assert_contains "$ERR" "certificate of localhost was not accepted: certificate has expired"
ok "expired certificate: exit 78 (certificate has expired)"

start_worker_bad() {
        JOBS_LOG_FIELDS=1 "$W" --handler-dir "$H" -C "$WORKER_TEST_CONF" -q tls >"$T/$1.log" 2>&1 &
        WORKER_PID=$!
        WORKER_PIDS+=("$WORKER_PID")
}
start_worker_bad w2
wait_log w2 "certificate has expired"
stop_worker "$WORKER_PID"
! grep -q s3cret-pw "$T/w2.log" || fail "password in the worker's log"
ok "the worker says why it cannot connect (certificate has expired) and keeps retrying"
use_cert server

# --- mutual TLS -----------------------------------------------------------------------------------
redis_cli CONFIG SET tls-auth-clients yes >/dev/null
CERT_REFUSED="requires a client certificate"
expect_exit 77 "$E" -q tls Hello
assert_match "$ERR" "$CERT_REFUSED"
assert_contains "$ERR" "redis-cert"
expect_exit 77 "$C" status
assert_match "$ERR" "$CERT_REFUSED"
cp "$P/stranger.crt" "$CRED/redis-cert"
cp "$P/stranger.key" "$CRED/redis-key"
expect_exit 77 "$E" -q tls Hello
assert_match "$ERR" "did not accept our client certificate"
cp "$P/client.crt" "$CRED/redis-cert"
cp "$P/client.key" "$CRED/redis-key"
expect_exit 0 "$E" -q tls Hello
wait_log w1 "Finished Hello job $OUT"
expect_exit 0 "$C" status
ok "mutual TLS: refused with exit 77 without a client certificate or with one of another CA, works with redis-cert/redis-key"

redis_cli CLIENT KILL TYPE normal >/dev/null
wait_log w1 "is reachable again"
jid=$("$E" -q tls Hello)
wait_log w1 "Finished Hello job $jid" 60
ok "the worker reconnects over mutual TLS after its connections were killed and keeps working"
stop_worker "${WORKER_PIDS[0]}"
