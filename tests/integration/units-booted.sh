#!/bin/bash
# SPDX-License-Identifier: MIT
# The generated units in a real systemd: boot a throw-away container whose root is a tmpfs over the
# host's /usr (systemd-nspawn --volatile=yes), load the units, and check what systemd makes of them:
# the exact argv ExecStart= passes (quoting of JSON with quotes, $, %, backslashes, UTF-8), the timers
# under jobs.target, a timer firing, the real jobs-enqueue in the service's sandbox (and retried while
# Redis is down), a drop-in for every service, and jobs-generator run by systemd on daemon-reload
# skipping a broken entry with a message in the journal. Skipped (77) where no container can be booted.
. "$(dirname "$0")/lib.sh"

J="$BIN/jobsctl"
[ "$(id -u)" = 0 ] && command -v systemd-nspawn >/dev/null && [ -x /usr/lib/systemd/systemd ] &&
        [ -x /usr/bin/python3 ] || { echo "SKIP: needs root, systemd-nspawn and systemd in /usr"; exit 77; }

chmod 755 "$T" # the services run as a dynamic user and must reach the bind-mounted files
cat >"$T/argv-dump" <<'X'
#!/usr/bin/python3
import json, sys
print("ARGV=" + json.dumps(sys.argv[1:]), flush=True)
X
chmod 755 "$T/argv-dump"
cat >"$T/test.schedule" <<'X'
[Job]
Name=quoting
Class=Quote::Me
Queue=q.1
Args=["it's", "$HOME", "${X}", "100%", "%n", "back\\slash", "tab\t", "caf\u00e9 ü", "\"q\"", ";", "'", \
      {"a b": [1, 2.5, null, true]}]
Retry=0
OnCalendar=*-*-* 02:00 Europe/London

[Job]
Name=tick
Class=Tick
Every=5s
X
expect_exit 0 "$J" generate --enqueue-path=/mnt/jobs-test/argv-dump --source-path=/mnt/jobs-test/test.schedule \
        "$T/test.schedule" "$T/units"

# the real jobs-enqueue, in the real sandbox, against a Redis on a socket the container can reach
cp "$BIN/jobs-enqueue" "$T/jobs-enqueue"
cat >"$T/real.schedule" <<'X'
[Job]
Name=real
Class=RealJob
Queue=real
Args=["x", 1]
Retry=3
OnCalendar=yearly
X
expect_exit 0 "$J" generate --enqueue-path=/mnt/jobs-test/jobs-enqueue --source-path=/mnt/jobs-test/real.schedule \
        "$T/real.schedule" "$T/real"
rm "$T/real/jobs.target" "$T/real/jobs.target.wants/"*
redis_start redis --unixsocketperm 777
chmod 755 "$T/redis"

mkdir "$T/etc-jobs"
cat >"$T/etc-jobs/host.schedule" <<'X'
[Job]
Name=host-local
Class=HostLocal
OnCalendar=*-*-* 04:00 Asia/Tokyo

[Job]
Name=broken
Class=Broken
Args=[1,
Every=1h
X
cp "$BIN/jobs-generator" "$T/jobs-generator"

# --- boot ----------------------------------------------------------------------------------------
systemd-nspawn --directory=/ --volatile=yes --register=no --keep-unit --quiet \
        --machine="jobs-test-$$" --bind-ro="$T:/mnt/jobs-test" -b systemd.firstboot=off \
        </dev/null >"$T/console.log" 2>&1 &
NSPAWN=$!
stop_container() {
        [ -n "${INIT:-}" ] && nsenter -t "$INIT" -a systemctl poweroff 2>/dev/null
        local deadline=$((SECONDS + 30))
        while kill -0 "$NSPAWN" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        kill -9 "$NSPAWN" 2>/dev/null
        wait "$NSPAWN" 2>/dev/null
}
on_exit stop_container
# nspawn has two children for a moment: its short-lived outer child and the container's PID 1,
# which is the one running systemd.
init_pid() {
        local p
        for p in $(pgrep -P "$NSPAWN"); do
                [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && INIT=$p && return 0
        done
        return 1
}
wait_for "the container's PID 1" 60 init_pid
C() { nsenter -t "$INIT" -a "$@"; }
# "starting" is enough: the manager takes our commands while the rest of the host's units boot.
booted() { s=$(C systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ] || [ "$s" = starting ]; }
deadline=$((SECONDS + 180))
until booted; do
        if [ "$SECONDS" -ge "$deadline" ]; then
                { echo "# is-system-running: $(C systemctl is-system-running 2>&1)"
                  C systemctl list-jobs --no-pager 2>&1 | head -20 | sed 's/^/# /'
                  tail -30 "$T/console.log" | sed 's/^/# console: /'; } >&2
                fail "timed out after 180s waiting for the container's service manager"
        fi
        sleep 0.05
done
ok "container booted"

C cp -r /mnt/jobs-test/units/. /run/systemd/system/
C systemctl daemon-reload
C systemctl start jobs-quoting.service
argv=$(C journalctl -u jobs-quoting -o cat --no-pager | sed -n 's/^ARGV=//p')
python3 - "$argv" <<'X' || fail "ExecStart= argv: $argv"
import json, sys
argv = json.loads(sys.argv[1])
# the Args= text of the schedule, continuation joined, whitespace between tokens dropped
text = r"""["it's","$HOME","${X}","100%","%n","back\\slash","tab\t","caf\u00e9 ü","\"q\"",";","'",{"a b":[1,2.5,null,true]}]"""
args = ["it's", "$HOME", "${X}", "100%", "%n", "back\\slash", "tab\t", "café ü", "\"q\"", ";", "'",
        {"a b": [1, 2.5, None, True]}]
assert json.loads(text) == args
want = ["--queue", "q.1", "--retry", "0", "--args", text, "--trigger-time", "start", "--entry", "quoting", "--calendar", "*-*-* 02:00 Europe/London", "Quote::Me"]
if argv != want:
    print("got ", argv, "\nwant", want, file=sys.stderr)
    sys.exit(1)
X
ok "systemd passes ExecStart='s arguments exactly as the schedule wrote them"

C systemctl start jobs.target
timers=$(C systemctl list-timers --no-pager --no-legend 'jobs-*')
assert_contains "$timers" "jobs-quoting.timer"
assert_contains "$timers" "jobs-tick.timer"
fired() { C journalctl -u jobs-tick -o cat --no-pager | grep -q '^ARGV=\["--queue", "default", "--retry", "true", "--args", "\[\]", "--trigger-time", "start", "--entry", "tick", "--calendar", "[^"]*", "Tick"\]'; }
wait_for "the Every=5s timer to fire" 30 fired
ok "timers run under jobs.target and fire"

# --- the sandboxed service enqueues for real; while Redis is down it fails and is retried ---------
C cp -r /mnt/jobs-test/real/. /run/systemd/system/
C sh -c 'mkdir -p /etc/default && echo "REDIS_URL=unix:///mnt/jobs-test/redis/redis.sock" >/etc/default/jobs'
# an ASan build's leak checker needs ptrace, which the sandbox rightly forbids
C mkdir -p /run/systemd/system/jobs-real.service.d
C sh -c 'printf "[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n" >/run/systemd/system/jobs-real.service.d/asan.conf'
C systemctl daemon-reload
C systemctl start jobs-real.service || fail "jobs-real.service: $(C journalctl -u jobs-real -o cat --no-pager | tail -5)"
raw=$(redis_cli LINDEX queue:real 0)
python3 - "$raw" <<'X' || fail "payload: $raw"
import json, sys
d = json.loads(sys.argv[1])
assert d["class"] == "RealJob" and d["queue"] == "real" and d["args"] == ["x", 1] and d["retry"] == 3, d
X
assert_eq "$(redis_cli SMEMBERS queues)" "real" "queues set"
assert_contains "$(C journalctl -u jobs-real -o verbose --no-pager)" "JOBS_ENTRY=real"
ok "the sandboxed service runs jobs-enqueue: the job is in Redis in Sidekiq's format"

redis_stop
C systemctl start --no-block jobs-real.service
restarting() { C systemctl show -p SubState --value jobs-real.service | grep -q auto-restart; }
wait_for "jobs-real.service to fail and wait for its restart" 30 restarting
redis_start redis --unixsocketperm 777
landed() { [ "$(redis_cli LLEN queue:real)" = 1 ]; }
wait_for "the retried enqueue to land" 40 landed
ok "a fire while Redis is down fails, is retried, and lands once Redis is back"

# one drop-in directory changes every generated service (what jobs-schedule(5) tells admins)
C mkdir -p /run/systemd/system/jobs-.service.d
C sh -c 'printf "[Service]\nEnvironment=JOBS_TEST=1\n" >/run/systemd/system/jobs-.service.d/50-test.conf'
C systemctl daemon-reload
assert_contains "$(C systemctl show -p DropInPaths jobs-tick.service)" "/run/systemd/system/jobs-.service.d/50-test.conf"
assert_contains "$(C systemctl show -p Environment jobs-quoting.service)" "JOBS_TEST=1"
ok "a jobs-.service.d/ drop-in applies to every generated service"

# --- jobs-generator run by systemd ---------------------------------------------------------------
C mkdir -p /etc/systemd/system-generators
C sh -c 'printf "#!/bin/sh\nJOBS_SCHEDULE_DIR=/mnt/jobs-test/etc-jobs exec /mnt/jobs-test/jobs-generator \"\$@\"\n" \
        >/etc/systemd/system-generators/jobs-generator && chmod 755 /etc/systemd/system-generators/jobs-generator'
C systemctl daemon-reload
C systemctl restart jobs.target
timers=$(C systemctl list-timers --no-pager --no-legend 'jobs-*')
assert_contains "$timers" "jobs-host-local.timer"
[[ "$timers" != *jobs-broken* ]] || fail "broken entry generated: $timers"
assert_eq "$(C readlink /run/systemd/generator/jobs.target.wants/jobs-host-local.timer)" "../jobs-host-local.timer"
log=$(C journalctl -b -t jobs-generator -o cat --no-pager)
assert_contains "$log" "/mnt/jobs-test/etc-jobs/host.schedule:9: Args=[1,: not valid JSON"
assert_contains "$log" "(entry skipped)"
ok "jobs-generator under systemd: host-local timer wired, broken entry skipped with a journal message"
