# SPDX-License-Identifier: MIT
# Helpers for the jobsctl tests, sourced after lib.sh: Sidekiq-format test data written with redis-cli.

C="$BIN/jobsctl"

# job_json JID CLASS [QUEUE] [EXTRA_FIELDS]: a payload as Sidekiq 7 writes it (float seconds).
job_json() {
        local jid=$1 class=$2 queue=${3:-default} extra=${4:-}
        printf '{"retry":true,"queue":"%s","class":"%s","args":[1,"two"],"jid":"%s","created_at":1700000000.123456,"enqueued_at":1700000000.2%s}' \
                "$queue" "$class" "$jid" "${extra:+,$extra}"
}

# failed_json JID CLASS [QUEUE] [RETRY_COUNT]: a job after failures, as Sidekiq's JobRetry leaves it.
failed_json() {
        local jid=$1 class=$2 queue=${3:-default} count=${4:-2}
        job_json "$jid" "$class" "$queue" "\"error_message\":\"undefined method for nil\",\"error_class\":\"NoMethodError\",\"failed_at\":1700000001.5,\"retry_count\":$count,\"retried_at\":1700000100.25"
}

# jid N: a 24-hex jid made from a number, so tests can name jobs.
jid() { printf '%024x' "$1"; }

zcard() { redis_cli ZCARD "$1"; }
llen() { redis_cli LLEN "queue:$1"; }

# dump_except KEY...: every key and its content except the given ones, to prove nothing else changed.
dump_except() {
        local k skip
        for k in $(redis_cli --scan | sort); do
                skip=0
                for s in "$@"; do [ "$k" = "$s" ] && skip=1; done
                [ $skip = 1 ] && continue
                case $(redis_cli TYPE "$k") in
                string) echo "$k=$(redis_cli GET "$k")" ;;
                list) echo "$k=$(redis_cli LRANGE "$k" 0 -1)" ;;
                set) echo "$k=$(redis_cli SMEMBERS "$k" | sort)" ;;
                zset) echo "$k=$(redis_cli ZRANGE "$k" 0 -1 WITHSCORES)" ;;
                hash) echo "$k=$(redis_cli HGETALL "$k")" ;;
                esac
        done
}

# private_system_bus: a dbus-daemon of the test's own as $DBUS_SYSTEM_BUS_ADDRESS.
private_system_bus() {
        for tool in dbus-daemon busctl; do
                command -v $tool >/dev/null || fail "$tool is needed (package dbus-daemon / systemd)"
        done
        /usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || fail "python3-dbus and python3-gi are needed"
        cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
        dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/dbus.log" &
        bus_pid=$!
        on_exit "kill $bus_pid; wait $bus_pid"
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
        wait_for "the private bus" 20 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" list
}

# fake_systemd_start CONFIG.json: the stand-in for systemd's manager (fake-systemd.py) on that bus;
# units it starts are logged to $T/started.log.
fake_systemd_start() {
        /usr/bin/python3 "$JOBS_SOURCE_DIR/tests/integration/fake-systemd.py" "$DBUS_SYSTEM_BUS_ADDRESS" "$1" "$T/started.log" &
        fake_pid=$!
        on_exit "kill $fake_pid; wait $fake_pid"
        wait_for "the stand-in systemd" 30 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freedesktop.systemd1
}
