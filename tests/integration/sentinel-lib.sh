# SPDX-License-Identifier: MIT
# Redis Sentinel for the integration tests (Debian's redis-sentinel), on top of worker-lib.sh: a
# master and a replica, every one with a password, and three sentinels on loopback ports (quorum 2,
# a master down after 3 s); URL names them. A handler that notes its job's number, an enqueue loop,
# and the check that the worker is on the new master within 2 s of a promotion.
. "$(dirname "${BASH_SOURCE[0]}")/worker-lib.sh"
command -v redis-sentinel >/dev/null || fail "redis-sentinel is not installed (tests/deps.txt)"

PW=master-secret SPW=sentinel-secret
MPORT=$(free_port) RPORT=$(free_port)
start_redis() { # NAME PORT ARGS...
        local name=$1 port=$2; shift 2
        mkdir -p "$T/$name"
        redis-server --port "$port" --bind 127.0.0.1 --dir "$T/$name" --save '' --appendonly no --daemonize no \
                --logfile "$T/$name/redis.log" --requirepass "$PW" --masterauth "$PW" "$@" &
        REDIS_PIDS+=($!)
        wait_for "redis $name on $port" 20 redis-cli -p "$port" -a "$PW" --no-auth-warning PING
}
start_redis master "$MPORT"
MASTER_PID=${REDIS_PIDS[-1]}
start_redis replica "$RPORT" --replicaof 127.0.0.1 "$MPORT"
mcli() { redis-cli -p "$1" -a "$PW" --no-auth-warning "${@:2}"; }
replica_synced() { mcli "$RPORT" INFO replication | grep -q 'master_link_status:up'; }
wait_for "the replica to sync" 30 replica_synced

SPORTS=()
for i in 1 2 3; do
        p=$(free_port)
        SPORTS+=("$p")
        mkdir -p "$T/s$i"
        cat >"$T/s$i/sentinel.conf" <<EOF2
port $p
bind 127.0.0.1
daemonize no
dir $T/s$i
logfile $T/s$i/sentinel.log
requirepass $SPW
sentinel sentinel-pass $SPW
sentinel monitor mymaster 127.0.0.1 $MPORT 2
sentinel auth-pass mymaster $PW
sentinel down-after-milliseconds mymaster 3000
sentinel failover-timeout mymaster 10000
EOF2
        redis-sentinel "$T/s$i/sentinel.conf" &
        REDIS_PIDS+=($!)
done
scli() { redis-cli -p "$1" -a "$SPW" --no-auth-warning "${@:2}"; }
sentinel_ready() { # each knows the replica and the two other sentinels
        local p
        for p in "${SPORTS[@]}"; do
                [ "$(scli "$p" SENTINEL replicas mymaster | grep -c "^127.0.0.1:$RPORT$")" -ge 1 ] || return 1
                [ "$(scli "$p" SENTINEL sentinels mymaster | grep -c '^name$')" = 2 ] || return 1
        done
}
wait_for "the sentinels to know the replica and each other" 60 sentinel_ready
URL="redis+sentinel://:$PW@127.0.0.1:${SPORTS[0]},127.0.0.1:${SPORTS[1]},127.0.0.1:${SPORTS[2]}/mymaster/0?sentinel_password=$SPW"
ok "master, replica and 3 sentinels up"

# sentinel_note_handler: jobs "Note" with args [N] write N to $T/done.
sentinel_note_handler() {
        handler Note <<'EOF2'
read -r payload
[[ $payload =~ \"args\":\[([0-9]+)\] ]] && echo "${BASH_REMATCH[1]}" >>"$JOBS_TEST_MARK/done"
EOF2
}

# enqueue_loop: Note jobs [1], [2]... through the sentinels until $T/stop-enqueue exists, in the
# background (pid in ENQ); $T/acked lists those jobs-enqueue acknowledged.
enqueue_loop() {
        : >"$T/acked"
        (
                i=1
                until [ -e "$T/stop-enqueue" ]; do
                        "$E" -r "$URL" --timeout 1s Note -a "[$i]" -Q 2>/dev/null && echo "$i" >>"$T/acked"
                        i=$((i + 1))
                done
        ) &
        ENQ=$!
        on_exit 'touch "$T/stop-enqueue"; kill "$ENQ" 2>/dev/null || true'
}

# The sentinels name the replica as the master.
promoted() { [ "$(scli "${SPORTS[0]}" SENTINEL get-master-addr-by-name mymaster | tail -n1)" = "$RPORT" ]; }

# wait_resumed LINES: within 2 s the worker's log has more "is reachable again" than LINES: it is
# on the new master (or already was when the promotion was seen). Sets back to the time it was.
wait_resumed() {
        local deadline=$(( $(date +%s%N) + 2000000000 ))
        until [ "$(grep -c "is reachable again" "$T/w.log")" -gt "$1" ]; do
                [ "$(date +%s%N)" -lt "$deadline" ] ||
                        fail "the worker was not back on the new master 2 s after the promotion: $(tail -n5 "$T/w.log")"
                sleep 0.05
        done
        back=$(date +%s.%N)
}
