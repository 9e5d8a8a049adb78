#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (not a test): time N runs of jobs-enqueue against a private local Redis, beside /bin/true
# and `redis-cli LPUSH` measured in the same run (plain pushes, and runs of fleet entries that compute
# their occurrence and claim it), jobs-enqueue over TLS (rediss://, certificates made here) beside
# plain TCP, an empty program with and without libsystemd or libssl linked (which is why
# jobs-enqueue links neither: it loads libssl only for a rediss:// URL), and a fleet entry's run of
# jobs-enqueue-shared (the same objects with hiredis and jansson as shared libraries). Prints median
# wall time and peak RSS of each, and jobs-enqueue's ratios to the baselines. Targets: <= 2x
# /bin/true wall time, <= 4 MiB peak RSS (plain connections). Use a release build
# (meson setup build-rel -Dbuildtype=release).
#   usage: bench/enqueue.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build}
n=${2:-2000}
enqueue=$(realpath "$build/src/programs/jobs-enqueue")
T=$(mktemp -d)
trap 'kill $(cat $T/pid) 2>/dev/null; rm -rf $T' EXIT
# a CA and a certificate for localhost, the CA handed over as the redis-ca credential
mkdir -p "$T/credentials"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" \
        -out "$T/ca.crt" -days 2 -subj "/CN=jobs bench CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/server.key" \
        -out "$T/server.csr" -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
        -copy_extensions copy -out "$T/server.crt" 2>/dev/null
cp "$T/ca.crt" "$T/credentials/redis-ca"
export CREDENTIALS_DIRECTORY="$T/credentials"
tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly no --daemonize yes \
        --pidfile "$T/pid" --logfile "$T/log" --dir "$T" --tls-port "$tls_port" \
        --tls-cert-file "$T/server.crt" --tls-key-file "$T/server.key" --tls-ca-cert-file "$T/ca.crt" \
        --tls-auth-clients no
until redis-cli -s "$T/redis.sock" PING >/dev/null 2>&1; do sleep 0.05; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-cli -s "$T/redis.sock" CONFIG SET port "$port" >/dev/null

python3 - "$n" "$enqueue" "$T/redis.sock" "$port" "$(realpath "$build/bench")" "$tls_port" <<'PY'
import os, random, sys, time, statistics
n, enqueue, sock, port, bench, tls_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
payload = '{"class":"SayHello","args":[],"retry":true,"queue":"default","jid":"0123456789abcdef01234567","created_at":1764240000.5,"enqueued_at":1764240000.5}'
cases = [
    ("/bin/true", ["/bin/true"]),
    ("empty program", [bench + "/empty"]),
    ("empty + libsystemd", [bench + "/empty-libsystemd"]),
    ("empty + libssl", [bench + "/empty-libssl"]),
    ("redis-cli LPUSH (unix)", ["/usr/bin/redis-cli", "-s", sock, "LPUSH", "queue:bench", payload]),
    ("jobs-enqueue (unix)", [enqueue, "--redis", "unix://" + sock, "-Q", "SayHello"]),
    ("jobs-enqueue (tcp)", [enqueue, "--redis", "redis://127.0.0.1:%s/0" % port, "-Q", "SayHello"]),
    ("jobs-enqueue (tls)", [enqueue, "--redis", "rediss://localhost:%s/0" % tls_port, "-Q", "SayHello"]),
    # a fleet entry's run as its generated service does it: the occurrence computed from the
    # calendar, then the claim (one Lua step; most runs find the minute's occurrence claimed)
    ("jobs-enqueue --entry (unix)", [enqueue, "--redis", "unix://" + sock, "-Q", "-q", "claims", "--trigger-time", "start", "--entry", "say-hello",
                                     "--calendar", "*-*-* *:*:00", "SayHello"]),
    ("jobs-enqueue --entry, tz (unix)", [enqueue, "--redis", "unix://" + sock, "-Q", "-q", "claims", "--trigger-time", "start", "--entry", "nightly",
                                         "--calendar", "*-*-* 02:00 Europe/London", "--calendar", "Sat *-*-* 12:00",
                                         "NightlyReport"]),
    # the same program with hiredis and jansson as shared libraries (as it was linked before)
    ("--entry, shared libraries", [enqueue + "-shared", "--redis", "unix://" + sock, "-Q", "-q", "claims", "--trigger-time", "start", "--entry",
                                   "say-hello", "--calendar", "*-*-* *:*:00", "SayHello"]),
]
devnull = os.open(os.devnull, os.O_WRONLY)
def run(argv):
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    if status != 0:
        sys.exit("%s failed with status %d" % (argv[0], status))
    return (t1 - t0) / 1e3, ru.ru_maxrss
res = {}
for name, argv in cases:
    for _ in range(50): run(argv)          # warm caches
res = {name: [] for name, _ in cases}
# Interleave so load changes hit every case alike, in a new order each round: a run after a heavy
# one (TLS, redis-cli) starts with cold caches, and a fixed order would charge that to one case.
order = list(cases)
shuffle = random.Random(n).shuffle
for i in range(n):
    shuffle(order)
    for name, argv in order:
        res[name].append(run(argv))
# ru_maxrss of a child spawned from this (large) Python process includes Python's own pages at
# exec time, so peak RSS is measured under GNU time, a small C parent (shown by its /bin/true row).
import subprocess
def peak_rss(argv):
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr
    return int(out.strip().splitlines()[-1])
rss = {name: max(peak_rss(argv) for _ in range(20)) for name, argv in cases}
print("%-26s %12s %12s %14s" % ("command", "median us", "p90 us", "peak RSS KiB"))
for name, _ in cases:
    w = sorted(x[0] for x in res[name])
    print("%-26s %12.0f %12.0f %14d" % (name, statistics.median(w), w[int(len(w) * 0.9)], rss[name]))
true_med = statistics.median(x[0] for x in res["/bin/true"])
cli_med = statistics.median(x[0] for x in res["redis-cli LPUSH (unix)"])
for name in ("jobs-enqueue (unix)", "jobs-enqueue (tcp)", "jobs-enqueue --entry (unix)", "jobs-enqueue --entry, tz (unix)",
             "--entry, shared libraries"):
    m = statistics.median(x[0] for x in res[name])
    print("%s: %.2fx /bin/true (target <= 2x), %.2fx redis-cli LPUSH, peak RSS %.2f MiB (target <= 4 MiB)"
          % (name, m / true_med, m / cli_med, rss[name] / 1024))
med = {name: statistics.median(x[0] for x in res[name]) for name, _ in cases}
print("jobs-enqueue (tls): %.2fx jobs-enqueue (tcp) (+%.0f us: loading libssl, the handshake), peak RSS %.2f MiB"
      % (med["jobs-enqueue (tls)"] / med["jobs-enqueue (tcp)"], med["jobs-enqueue (tls)"] - med["jobs-enqueue (tcp)"],
         rss["jobs-enqueue (tls)"] / 1024))
print("hiredis and jansson linked in: --entry %.2fx the same with them as shared libraries (%+.0f us)"
      % (med["jobs-enqueue --entry (unix)"] / med["--entry, shared libraries"],
         med["jobs-enqueue --entry (unix)"] - med["--entry, shared libraries"]))
print("linking libssl would cost every start: empty + libssl %.2fx empty program (+%.0f us)"
      % (med["empty + libssl"] / med["empty program"], med["empty + libssl"] - med["empty program"]))
PY
echo "queue:default length after the run: $(redis-cli -s "$T/redis.sock" LLEN queue:default) (expected $((3 * (n + 50 + 20))))"
