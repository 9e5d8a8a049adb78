/* SPDX-License-Identifier: MIT */
/* The poller for `retry` and `schedule`: on its own timer, at Sidekiq's cadence (the cluster as a whole
 * polls about every 5 s or PollIntervalSec=, each process n × 5 s on average, randomised), moving due jobs to their queues.
 * The number of processes comes from the heartbeat's pipeline (SCARD processes), so polling costs one
 * round trip per poll and nothing else. */

#include "engine/poller.h"
#include "engine/worker-internal.h"
#include "redis/keys.h"

/* Sidekiq's poller: due members of retry, then schedule, one at a time, into their queue with a fresh
 * enqueued_at. The payload is edited as text, so every other byte (unknown fields, big integers) is
 * kept exactly; a payload that is not a JSON object goes to dead, and so does a job whose queue name
 * is not valid (job_queue_is_valid(): it would make keys like "queue:../../x" nobody reads), with
 * the reason in error_class/error_message. */
static const char poll_script[] =
        "local function skip_string(j, p)\n"
        "  local q = p + 1\n"
        "  while true do\n"
        "    local r = string.find(j, '[\"\\\\]', q)\n"
        "    if not r then return nil end\n"
        "    if string.sub(j, r, r) == '\\\\' then q = r + 2 else return r end\n"
        "  end\n"
        "end\n"
        "local function toplevel_value(j, key)\n"
        "  local depth, i = 0, 1\n"
        "  while true do\n"
        "    local p = string.find(j, '[\"{}%[%]]', i)\n"
        "    if not p then return nil end\n"
        "    local c = string.sub(j, p, p)\n"
        "    if c == '\"' then\n"
        "      local q = skip_string(j, p)\n"
        "      if not q then return nil end\n"
        "      if depth == 1 and string.sub(j, p + 1, q - 1) == key then\n"
        "        local _, ce = string.find(j, '^%s*:%s*', q + 1)\n"
        "        if ce then\n"
        "          local vs = ce + 1\n"
        "          if string.sub(j, vs, vs) == '\"' then\n"
        "            local ve = skip_string(j, vs)\n"
        "            if ve then return vs, ve end\n"
        "          else\n"
        "            local s, e = string.find(j, '^[-+%w%.]+', vs)\n"
        "            if s then return s, e end\n"
        "          end\n"
        "        end\n"
        "      end\n"
        "      i = q + 1\n"
        "    elseif c == '{' or c == '[' then depth = depth + 1; i = p + 1\n"
        "    else depth = depth - 1; i = p + 1 end\n"
        "  end\n"
        "end\n"
        "local function set_field(j, key, value)\n"
        "  local vs, ve = toplevel_value(j, key)\n"
        "  if vs then return string.sub(j, 1, vs - 1) .. value .. string.sub(j, ve + 1) end\n"
        "  return (string.gsub(j, '}%s*$', ',\"' .. key .. '\":' .. value .. '}', 1))\n"
        "end\n"
        "local function queue_ok(q)\n"
        "  return #q <= tonumber(ARGV[3]) and string.find(q, '^[A-Za-z0-9_.:-]+$') ~= nil\n"
        "end\n"
        "local now, max = ARGV[1], tonumber(ARGV[2])\n"
        "local moved = 0\n"
        "for _, set in ipairs({'" REDIS_KEY_RETRY "', '" REDIS_KEY_SCHEDULE "'}) do\n"
        "  while moved < max do\n"
        "    local jobs = redis.call('ZRANGE', set, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1)\n"
        "    if #jobs == 0 then break end\n"
        "    local j = jobs[1]\n"
        "    redis.call('ZREM', set, j)\n"
        "    local ok, o = pcall(cjson.decode, j)\n"
        "    if ok and type(o) == 'table' and (o.queue == nil or type(o.queue) == 'string') then\n"
        "      local q = o.queue or 'default'\n"
        "      if not queue_ok(q) then\n"
        "        j = set_field(j, 'error_class', '\"JobsInvalidPayload\"')\n"
        "        j = set_field(j, 'error_message', ARGV[4])\n"
        "        j = set_field(j, 'failed_at', now)\n"
        "        redis.call('ZADD', '" REDIS_KEY_DEAD "', now, j)\n"
        "      else\n"
        "        j = set_field(j, 'enqueued_at', now)\n"
        "        redis.call('SADD', '" REDIS_KEY_QUEUES "', q)\n"
        "        redis.call('LPUSH', '" REDIS_KEY_QUEUE_PREFIX "' .. q, j)\n"
        "      end\n"
        "    else\n"
        "      redis.call('ZADD', '" REDIS_KEY_DEAD "', now, j)\n"
        "    end\n"
        "    moved = moved + 1\n"
        "  end\n"
        "end\n"
        "return moved\n";

/* The reason recorded in a job whose queue name is not one (a JSON string, inserted as text). */
#define POLL_BAD_QUEUE_REASON "\"field \\\"queue\\\" is not a valid queue name (1-128 characters of A-Z a-z 0-9 _ . : -)\""

usec_t poll_interval_usec(usec_t average, uint64_t n_processes, double r) {
        usec_t avg;

        /* Sidekiq 6.4 (Scheduled::Poller#random_poll_interval): an empty process set counts as one;
         * below ten processes the wait is avg × rand + avg / 2, from ten on avg × rand. */
        n_processes = MIN(MAX(n_processes, (uint64_t) 1), (uint64_t) POLL_PROCESSES_MAX);
        if (!(r >= 0.0)) /* also NaN */
                r = 0.0;
        if (r >= 1.0)
                r = 1.0 - 1e-9;
        avg = n_processes * average;
        if (n_processes < POLL_SMALL_CLUSTER)
                return (usec_t) ((double) avg * r) + avg / 2;
        return (usec_t) ((double) avg * r);
}

void poller_init(Poller *p) {
        *p = (Poller) {};
}

void poller_done(Poller *p) {
        p->timer = sd_event_source_disable_unref(p->timer);
        p->in_flight = false;
}

void poller_connection_lost(Poller *p) {
        p->in_flight = false;
}

static double random_unit(void) {
        uint32_t x;

        if (random_bytes(&x, sizeof x) < 0)
                x = (uint32_t) now_usec(CLOCK_MONOTONIC);
        return x / 4294967296.0;
}

static void on_poll_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        w->poller.in_flight = false;
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                log_debug("Moved %lld due jobs from retry/schedule to their queues.", r->integer);
        else if (r && r->type == REDIS_REPLY_ERROR)
                log_warning("Polling retry/schedule failed: %s", r->str);
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int poll_arm(JobsWorker *w) {
        usec_t t = poll_interval_usec(w->config.poll_average, w->poller.n_processes, random_unit());
        int r;

        if (w->poller.timer) {
                r = sd_event_source_set_time_relative(w->poller.timer, t);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->poller.timer, SD_EVENT_ONESHOT);
                return r;
        }
        r = sd_event_add_time_relative(w->event, &w->poller.timer, CLOCK_MONOTONIC, t, 0, on_poll_timer, w);
        if (r >= 0)
                (void) sd_event_source_set_priority(w->poller.timer, w->priority);
        return r;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JobsWorker *w = userdata;
        char now[32];
        int r;

        if (w->state == WORKER_RUNNING && !w->poller.in_flight && redis_async_is_up(w->redis)) {
                snprintf(now, sizeof now, "%.6f", epoch_now());
                r = redis_async_command(w->redis, on_poll_reply, w, "EVAL %s 0 %s %d %d %s", poll_script, now,
                                        WORKER_POLL_BATCH_MAX, JOB_QUEUE_MAX, POLL_BAD_QUEUE_REASON);
                if (r >= 0)
                        w->poller.in_flight = true;
        }
        r = poll_arm(w);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the next poll of retry/schedule: %m");
        return 0;
}

void poller_set_processes(JobsWorker *w, uint64_t n) {
        int r;

        w->poller.n_processes = n;
        if (w->poller.timer) {
                usec_t at, now;

                /* The cluster shrank so much that the wait chosen for the old size is longer than any
                 * the new size would choose (e.g. the last of many processes): draw a new one. */
                if (sd_event_source_get_time(w->poller.timer, &at) < 0 ||
                    sd_event_now(w->event, CLOCK_MONOTONIC, &now) < 0 ||
                    at <= now || at - now <= poll_interval_usec(w->config.poll_average, n, 1.0))
                        return;
        }
        /* The first count is known: the first poll comes one interval later (Sidekiq waits 10-15 s for its
         * heartbeat to register before counting; ours registered in the same pipeline). */
        r = poll_arm(w);
        if (r < 0)
                log_warning_errno(r, "Cannot start polling retry/schedule: %m");
}
