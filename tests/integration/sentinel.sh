#!/bin/bash
# SPDX-License-Identifier: MIT
# Redis Sentinel (Debian's redis-sentinel): a master, a replica and three sentinels on loopback
# ports, every one with a password. jobs-enqueue, jobsctl and the worker find the master through a
# redis+sentinel:// URL. The master is killed (SIGKILL) while the worker drains and jobs keep being
# enqueued: the sentinels promote the replica, and the worker is connected to it within 2 s of the
# promotion and runs every job enqueued after it. Jobs acknowledged by the old master but not yet
# replicated are lost (asynchronous replication), jobs whose end was not replicated run twice: both
# counts are printed.
# Two more loops push into queues no worker reads, one plainly and one with --wait-replicas=1.
# Before the kill the replica is cut off (a wrong masterauth, then CLIENT KILL TYPE replica), so the
# master acknowledges pushes that no replica will have: the plain loop's are lost, while the
# waiting loop gets 75 for them. Not one push that --wait-replicas=1 acknowledged is lost.
. "$(dirname "$0")/sentinel-lib.sh"

# --- every tool finds the master -----------------------------------------------------------------
sentinel_note_handler
expect_exit 0 "$E" -r "$URL" Note -a '[0]'
assert_eq "$(mcli "$MPORT" LLEN queue:default)" 1 "jobs-enqueue's job, on the master"
expect_exit 0 "$BIN/jobsctl" --redis "$URL" queues
assert_contains "$OUT" default "jobsctl queues through the sentinels"
expect_exit 69 "$E" -r "${URL/mymaster/nosuch}" Note
assert_contains "$ERR" 'does not know a master named "nosuch"' "unknown master name"
bad=${URL/sentinel_password=$SPW/sentinel_password=wrong}
expect_exit 69 "$E" -r "$bad" Note
assert_contains "$ERR" "refused the password" "wrong sentinel password"
ok "jobs-enqueue and jobsctl find the master; an unknown master name or a wrong password is said"

start_worker w -r "$URL" -c 5
wait_for "the first job to run" 30 lines_at_least "$T/done" 1

# --- enqueues keep coming; the master dies --------------------------------------------------------
enqueue_loop
# held NAME ARGS...: push Held jobs [1], [2]... into queue held-NAME; $T/NAME-next is the one under
# way, $T/NAME-acked lists those acknowledged (exit 0), $T/NAME-unconfirmed those refused with 75
# because too few replicas confirmed them.
held() {
        local name=$1 i=1 rc; shift
        : >"$T/$name-acked"; : >"$T/$name-unconfirmed"
        until [ -e "$T/stop-enqueue" ]; do
                echo "$i" >"$T/$name-next.tmp" && mv -f "$T/$name-next.tmp" "$T/$name-next" # read whole, never empty
                rc=0
                "$E" -r "$URL" --timeout 1s -q "held-$name" Held -a "[$i]" -Q "$@" 2>"$T/$name-err" || rc=$?
                if [ "$rc" = 0 ]; then
                        echo "$i" >>"$T/$name-acked"
                elif [ "$rc" = 75 ] && grep -q "replicas confirmed it" "$T/$name-err"; then
                        echo "$i" >>"$T/$name-unconfirmed"
                fi
                i=$((i + 1))
        done
}
held plain &
HELD_PLAIN=$!
held wait --wait-replicas=1 --wait-timeout=2s &
HELD_WAIT=$!
on_exit 'kill "$HELD_PLAIN" "$HELD_WAIT" 2>/dev/null || true'
wait_for "5 jobs to run before the failover" 60 lines_at_least "$T/done" 5
wait_for "3 pushes confirmed by the replica" 60 lines_at_least "$T/wait-acked" 3

# The replica is cut off: it cannot reconnect, the master goes on acknowledging pushes. The
# sentinels promote no replica whose link has been down for more than 10 times down-after (plus
# the time the master is seen down): 30 s leaves room for a slow machine.
mcli "$RPORT" CONFIG SET masterauth wrong-password >/dev/null
cut=$(date +%s.%N)
mcli "$MPORT" CLIENT KILL TYPE replica >/dev/null
cut_off() { mcli "$MPORT" INFO replication | grep -q '^connected_slaves:0'; }
wait_for "the master to lose its replica" 30 cut_off
plain_cut=$(cat "$T/plain-next") wait_cut=$(cat "$T/wait-next")
# after_cut FILE FROM N: N numbers above FROM in FILE
after_cut() { [ "$(awk -v f="$2" '$1 > f' "$1" | wc -l)" -ge "$3" ]; }
wait_for "3 plain pushes after the cut" 60 after_cut "$T/plain-acked" "$plain_cut" 3
wait_for "a push with --wait-replicas=1 refused after the cut" 60 after_cut "$T/wait-unconfirmed" "$wait_cut" 1
plain_killed=$(tail -n1 "$T/plain-acked")
lines=$(grep -c "is reachable again" "$T/w.log" || true)
# If no failover comes, what the sentinels said is the first thing to read.
on_exit '[ -e "$T/promoted" ] || tail -n 25 "$T/s1/sentinel.log" >&2'
kill -9 "$MASTER_PID"
killed=$(date +%s.%N)
wait_for "the sentinels to promote the replica" 60 promoted
touch "$T/promoted"
failover=$(date +%s.%N)
wait_resumed "$lines"
after=$(tail -n1 "$T/acked")
acked_after() { [ "$(tail -n1 "$T/acked")" -gt "$((after + 10))" ]; }
wait_for "10 more enqueues on the new master" 60 acked_after
touch "$T/stop-enqueue"
wait "$ENQ" || true
wait "$HELD_PLAIN" "$HELD_WAIT" || true
mcli "$RPORT" LRANGE queue:held-plain 0 -1 >"$T/plain-kept"
mcli "$RPORT" LRANGE queue:held-wait 0 -1 >"$T/wait-kept"
drained() { [ "$(mcli "$RPORT" LLEN queue:default)" = 0 ] && [ -z "$(mcli "$RPORT" --scan --pattern 'jobs:inflight:*' | while read -r k; do mcli "$RPORT" LRANGE "$k" 0 -1; done)" ]; }
wait_for "the new master's queue to drain" 60 drained
stop_worker "$WORKER_PID"

python3 - "$T/acked" "$T/done" "$after" "$killed" "$failover" "$back" "$T" "$plain_cut" "$plain_killed" "$cut" <<'PY'
import collections, json, sys
acked = [int(l) for l in open(sys.argv[1]) if l.strip()]
runs = collections.Counter(int(l) for l in open(sys.argv[2]) if l.strip())
after = int(sys.argv[3])
killed, failover, back = map(float, sys.argv[4:7])
t, plain_cut, plain_killed, cut_at = sys.argv[7], int(sys.argv[8]), int(sys.argv[9]), float(sys.argv[10])

def numbers(name):
    return [int(l) for l in open("%s/%s" % (t, name)) if l.strip()]
def kept(name):  # the pushes the new master has
    return {json.loads(l)["args"][0] for l in open("%s/%s-kept" % (t, name)) if l.strip()}
held = {}
for name in ("plain", "wait"):
    k = kept(name)
    held[name] = (numbers(name + "-acked"), [i for i in numbers(name + "-acked") if i not in k],
                  numbers(name + "-unconfirmed"))
(p_acked, p_lost, _), (w_acked, w_lost, w_unconfirmed) = held["plain"], held["wait"]
cut = [i for i in p_acked if plain_cut < i <= plain_killed]
print("ok - replica cut off %.1f s before the kill; held queues: without --wait-replicas %d pushes acknowledged, %d lost "
      "(%d acknowledged while the replica was cut off); with --wait-replicas=1 %d acknowledged, %d lost, %d refused "
      "with 75 (unconfirmed)" % (killed - cut_at, len(p_acked), len(p_lost), len(cut), len(w_acked), len(w_lost),
                                 len(w_unconfirmed)))
if w_lost:
    sys.exit("FAIL: pushes acknowledged with --wait-replicas=1 were lost: %s" % w_lost[:10])
if [i for i in cut if i not in p_lost]:
    sys.exit("FAIL: pushes acknowledged while the replica was cut off survived the failover: %s" %
             [i for i in cut if i not in p_lost][:10])
lost = [i for i in acked if runs[i] == 0]
dups = [i for i, n in runs.items() if n > 1]
lost_after = [i for i in lost if i > after]
print("ok - failover %.1f s after SIGKILL, worker back %.2f s after the promotion was seen; %d enqueues acknowledged, "
      "%d lost (acknowledged by the old master, not replicated), %d run twice" %
      (failover - killed, back - failover, len(acked), len(lost), len(dups)))
if lost_after:
    sys.exit("FAIL: jobs enqueued on the new master did not run: %s" % lost_after[:10])
PY
