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
