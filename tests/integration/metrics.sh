#!/bin/bash
# SPDX-License-Identifier: MIT
# jobsctl metrics: promtool accepts the exposition; --textfile writes it atomically; --http behind
# systemd's socket activation (systemd-socket-activate --accept, as jobs-metrics.socket) is scraped
# by a real Prometheus, whose HTTP API then shows a value this test changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobsctl-lib.sh"

for tool in prometheus promtool systemd-socket-activate curl; do
        command -v $tool >/dev/null || fail "$tool is needed (packages prometheus, systemd, curl)"
done
redis_start
export JOBS_SYSCONFDIR=$T/etc
redis_cli SADD queues default >/dev/null
redis_cli LPUSH queue:default "$(job_json "$(jid 1)" A)" "$(job_json "$(jid 2)" A)" >/dev/null
redis_cli MSET stat:processed 1234 stat:failed 56 >/dev/null
redis_cli ZADD dead 1 "$(failed_json "$(jid 3)" A)" >/dev/null
redis_cli SADD processes "web1:1:0123456789ab" >/dev/null
redis_cli HSET "web1:1:0123456789ab" info '{"hostname":"web1","pid":1,"concurrency":5,"identity":"web1:1:0123456789ab"}' \
        busy 2 beat "$(date +%s).5" quiet false concurrency 5 >/dev/null

# --- the exposition ------------------------------------------------------------------------------
expect_exit 0 "$C" metrics
promtool check metrics <<<"$OUT" || fail "promtool check metrics refused the output"
assert_contains "$OUT" $'\njobs_up 1\n'
assert_contains "$OUT" $'\njobs_queue_size{queue="default"} 2\n'
assert_match "$OUT" $'\njobs_queue_latency_seconds\\{queue="default"\\} [0-9]+\\.[0-9]{3}\n'
assert_contains "$OUT" $'\njobs_processed_total 1234\n'
assert_contains "$OUT" $'\njobs_failed_total 56\n'
assert_contains "$OUT" $'\njobs_dead_size 1\n'
assert_contains "$OUT" $'\njobs_process_busy{identity="web1:1:0123456789ab"} 2\n'
assert_contains "$OUT" $'\njobs_process_concurrency{identity="web1:1:0123456789ab"} 5\n'
assert_contains "$OUT" $'\njobs_processes 1\n'
# a queue name with a quote is escaped, not breaking the format
redis_cli SADD queues 'we"ird' >/dev/null
expect_exit 0 "$C" metrics
promtool check metrics <<<"$OUT" || fail "promtool refused an escaped label"
assert_contains "$OUT" 'jobs_queue_size{queue="we\"ird"} 0'
redis_cli SREM queues 'we"ird' >/dev/null
ok "metrics: promtool check metrics accepts it"

# --- textfile: atomic, nothing left beside it -----------------------------------------------------
mkdir "$T/textfile"
expect_exit 0 "$C" metrics --textfile "$T/textfile/jobs.prom"
assert_eq "$(ls "$T/textfile")" "jobs.prom"
promtool check metrics <"$T/textfile/jobs.prom" || fail "textfile refused"
assert_contains "$(cat "$T/textfile/jobs.prom")" 'jobs_queue_size{queue="default"} 2'
expect_exit 73 "$C" metrics --textfile "$T/no-such-dir/jobs.prom"
ok "metrics --textfile"

# --- Redis down: still an answer, jobs_up 0 -------------------------------------------------------
REDIS_URL="unix://$T/nope.sock" expect_exit 0 "$C" metrics
assert_eq "$(grep -v '^#' <<<"$OUT")" "jobs_up 0"

# --- HTTP behind socket activation, scraped by Prometheus -----------------------------------------
port=$(free_port)
systemd-socket-activate -l "127.0.0.1:$port" --accept -E REDIS_URL -E JOBS_SYSCONFDIR \
        "$C" metrics --http 2>"$T/activate.log" &
sa_pid=$!
on_exit "kill $sa_pid; wait $sa_pid"
wait_for "the metrics socket" 20 curl -sf "http://127.0.0.1:$port/metrics"
resp=$(curl -s -i "http://127.0.0.1:$port/metrics")
assert_contains "$resp" "Content-Type: text/plain; version=0.0.4"
assert_contains "$resp" 'jobs_queue_size{queue="default"} 2'
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other")" = 404 ] || fail "not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ] || fail "not 405"
ok "metrics --http under socket activation"

pport=$(free_port)
cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: jobs
    static_configs:
      - targets: ["127.0.0.1:$port"]
CONF
promtool check config "$T/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
        --web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$T/prometheus.log" &
prom_pid=$!
on_exit "kill $prom_pid; wait $prom_pid"

# query EXPR: the value of the first sample of an instant query, or nothing.
query() {
        curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
                jq -r '.data.result[0].value[1] // empty'
}
value_is() { [ "$(query "$1")" = "$2" ]; }
wait_for "Prometheus to scrape jobs_queue_size 2" 120 value_is 'jobs_queue_size{queue="default"}' 2
wait_for "the scrape target to be up" 60 value_is 'up{job="jobs"}' 1
redis_cli LPUSH queue:default "$(job_json "$(jid 4)" A)" "$(job_json "$(jid 5)" A)" "$(job_json "$(jid 6)" A)" >/dev/null
redis_cli INCRBY stat:processed 10 >/dev/null
wait_for "Prometheus to see the queue grow to 5" 120 value_is 'jobs_queue_size{queue="default"}' 5
wait_for "Prometheus to see processed 1244" 60 value_is 'jobs_processed_total' 1244
ok "a real Prometheus scrapes the endpoint and sees the change"
