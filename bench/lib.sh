# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the worker benchmarks: a private Redis on a unix socket in $T (killed with $WP, the
# worker under test, when the script exits), N no-op jobs loaded at once, and waiting until every
# job is done.
T=$(mktemp -d)
trap 'kill $(cat $T/pid) 2>/dev/null; [ -z "${WP:-}" ] || kill $WP 2>/dev/null; rm -rf $T' EXIT
redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly no --daemonize yes \
        --pidfile "$T/pid" --logfile "$T/log" --dir "$T"
until redis-cli -s "$T/redis.sock" PING >/dev/null 2>&1; do sleep 0.05; done
R() { redis-cli -s "$T/redis.sock" "$@"; }
# shellcheck disable=SC2034 # used by the scripts that source this
URL="unix://$T/redis.sock"

# N jobs of class Noop, written as jobs-enqueue writes them, loaded with one pipelined redis-cli.
fill() {
        python3 - "$1" <<'PY' | redis-cli -s "$T/redis.sock" --pipe >/dev/null
import json, sys
for i in range(int(sys.argv[1])):
    j = json.dumps({"class": "Noop", "args": [i], "retry": True, "queue": "default", "jid": "%024x" % i,
                    "created_at": 1764240000.5, "enqueued_at": 1764240000.5}, separators=(",", ":"))
    sys.stdout.write("*3\r\n$5\r\nLPUSH\r\n$13\r\nqueue:default\r\n$%d\r\n%s\r\n" % (len(j), j))
PY
}

# Wait until the queue and every in-flight list are empty: one process polling every 10 ms over one
# connection (spawning redis-cli that often would steal the CPU being measured).
wait_drained() {
        python3 - "$T/redis.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
script = ("local n = redis.call('LLEN', 'queue:default') "
          "for _, k in ipairs(redis.call('KEYS', 'jobs:inflight:*')) do n = n + redis.call('LLEN', k) end return n")
req = "*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(script), script)
while True:
    s.sendall(req.encode())
    if s.recv(64).startswith(b":0\r\n"):
        break
    time.sleep(0.01)
PY
}
