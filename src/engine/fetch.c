/* SPDX-License-Identifier: MIT */
/* Reliable fetch: jobs move atomically from their queue into this process's in-flight list, and
 * in-flight lists of processes that stopped beating are put back in their queues.
 *
 * Redis keys (besides Sidekiq's queue:<q>, queues, retry, schedule, dead, processes, <identity>):
 *   jobs:inflight:<identity>:<queue>  list of the jobs of <queue> that process <identity> holds
 *                                     (newest at the left); a job leaves it only once it is done, in
 *                                     retry/dead, or pushed back to its queue.
 *   jobs:inflight                     hash: in-flight list key → the <identity> that owns it.
 *   jobs:alive:<identity>             "<boot-id> <pid-namespace> <pid>", set with PX 20000 by every
 *                                     heartbeat (5 s).
 * <identity> is Sidekiq's "hostname:pid:<12 hex>". Every heartbeat of every worker runs the recover
 * script: each list in jobs:inflight whose owner has no jobs:alive key any more is moved back to the
 * right end of queue:<queue> (so its jobs are the next ones taken) and forgotten. Owners on this very
 * host (same boot id and pid namespace) whose pid no longer exists are recovered at once, without
 * waiting for the key to expire: a worker restarted after kill -9 takes its jobs back in the first
 * heartbeat. A process stopping
 * cleanly recovers its own lists last, so a fetch reply lost in a dropped connection is not lost.
 *
 * Fetching: one Lua script moves up to N jobs (N = free slots) from the queues in strict order, or in
 * an order shuffled by weight on every call (Sidekiq's "-q critical,2 -q default"). While jobs are
 * short (10 ms on average), up to 4 more are held ready so that a slot that frees does not wait a
 * round trip, and the ends of jobs are recorded with the next fetch (ack.c); with longer jobs
 * nothing is held beyond what runs, so other workers get the rest. A payload larger than
 * MaxPayload= is never read: the script moves it whole, untouched, to a key of its own
 * (jobs:oversized:<jid>, kept as long as dead jobs are) and records in dead a small entry with the
 * reason, the key and the payload's first 256 bytes (as ASCII); the worker only hears its size (so one fetch costs
 * at most N × MaxPayload bytes). The big string is never copied or rewritten in Redis beyond the
 * one read that measures it. When every queue is
 * empty, the worker waits for a job without taking it (fetch_block()) on every queue at once, over
 * one connection per queue (BLMOVE watches one list; BLMPOP and BRPOP watch several but take the
 * job, whose reply could be lost with the connection): a job in any queue ends its wait at once and
 * the fetch script takes jobs in the configured order, as always. A wait that times out is renewed
 * without a fetch; by default each lasts 30 s (2 s per queue beyond 15 queues), so an idle worker
 * costs well under one round trip per second. Only the fetch script moves jobs, so only its reply
 * can be lost with a connection (see fetch_reconcile()). */

#include <signal.h>

#include "engine/worker-internal.h"
#include "redis/keys.h"

static const char fetch_script[] =
        "local id, max, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]\n"
        "local out = {}\n"
        "local function aside(q, src, j)\n"
        "  local size = #j\n"
        "  local why = 'payload of ' .. size .. ' bytes is larger than MaxPayload= (' .. limit .. ' bytes)'\n"
        "  local jid = 'oversized-' .. string.sub(redis.sha1hex(id .. ' ' .. now .. ' ' .. #out), 1, 14)\n"
        "  local key = '" REDIS_KEY_OVERSIZED_PREFIX "' .. jid\n"
        "  redis.call('LMOVE', src, key, 'RIGHT', 'LEFT')\n"
        "  redis.call('EXPIRE', key, ARGV[5])\n"
        "  redis.call('ZADD', '" REDIS_KEY_DEAD "', now, '{\"class\":\"JobsInvalidPayload\",\"args\":[],\"retry\":false,\"queue\":' ..\n"
        "      cjson.encode(q) .. ',\"jid\":\"' .. jid .. '\",\"payload_key\":\"' .. key .. '\",\"payload_bytes\":' .. size ..\n"
        "      ',\"payload_head\":' .. cjson.encode((string.gsub(string.sub(j, 1, 256), '[^ -~]', '?'))) ..\n"
        "      ',\"error_class\":\"JobsInvalidPayload\",\"error_message\":\"' .. why .. '\",\"failed_at\":' .. now .. '}')\n"
        "  redis.call('ZREMRANGEBYSCORE', '" REDIS_KEY_DEAD "', '-inf', tonumber(now) - tonumber(ARGV[5]))\n"
        "  redis.call('ZREMRANGEBYRANK', '" REDIS_KEY_DEAD "', 0, -(tonumber(ARGV[6]) + 1))\n"
        "  out[#out + 1] = q\n"
        "  out[#out + 1] = {size}\n"
        "end\n"
        "for i = 7, #ARGV do\n"
        "  local q = ARGV[i]\n"
        "  local src, dst = '" REDIS_KEY_QUEUE_PREFIX "' .. q, '" REDIS_KEY_INFLIGHT_PREFIX "' .. id .. ':' .. q\n"
        "  while #out < 2 * max do\n"
        "    local j = redis.call('LINDEX', src, -1)\n"
        "    if not j then break end\n"
        "    if #j > limit then\n"
        "      aside(q, src, j)\n"
        "    else\n"
        "      redis.call('LMOVE', src, dst, 'RIGHT', 'LEFT')\n"
        "      out[#out + 1] = q\n"
        "      out[#out + 1] = j\n"
        "    end\n"
        "  end\n"
        "  if #out >= 2 * max then break end\n"
        "end\n"
        "return out\n";

/* Owners of in-flight lists on this host: identity, pid pairs. */
static const char local_owners_script[] =
        "local prefix = ARGV[1]\n"
        "local h = redis.call('HGETALL', '" REDIS_KEY_INFLIGHT "')\n"
        "local seen, out = {}, {}\n"
        "for i = 2, #h, 2 do\n"
        "  local id = h[i]\n"
        "  if not seen[id] then\n"
        "    seen[id] = true\n"
        "    local v = redis.call('GET', '" REDIS_KEY_ALIVE_PREFIX "' .. id)\n"
        "    if v and string.sub(v, 1, #prefix) == prefix then\n"
        "      out[#out + 1] = id\n"
        "      out[#out + 1] = string.sub(v, #prefix + 1)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "return out\n";

static const char recover_script[] =
        "local forced = ARGV[1]\n"
        "local h = redis.call('HGETALL', '" REDIS_KEY_INFLIGHT "')\n"
        "local moved = 0\n"
        "for i = 1, #h, 2 do\n"
        "  local key, id = h[i], h[i + 1]\n"
        "  if id == forced or redis.call('EXISTS', '" REDIS_KEY_ALIVE_PREFIX "' .. id) == 0 then\n"
        "    local prefix = '" REDIS_KEY_INFLIGHT_PREFIX "' .. id .. ':'\n"
        "    if string.sub(key, 1, #prefix) == prefix then\n"
        "      local q = string.sub(key, #prefix + 1)\n"
        "      while true do\n"
        "        local j = redis.call('LMOVE', key, '" REDIS_KEY_QUEUE_PREFIX "' .. q, 'LEFT', 'RIGHT')\n"
        "        if not j then break end\n"
        "        moved = moved + 1\n"
        "      end\n"
        "      if moved > 0 then redis.call('SADD', '" REDIS_KEY_QUEUES "', q) end\n"
        "    end\n"
        "    redis.call('HDEL', '" REDIS_KEY_INFLIGHT "', key)\n"
        /* gone either way: out of Sidekiq's process set too (a live one re-registers at its next beat) */
        "    redis.call('DEL', '" REDIS_KEY_ALIVE_PREFIX "' .. id, id, id .. '" REDIS_KEY_WORK_SUFFIX "', id .. '" REDIS_KEY_WORKERS_SUFFIX "')\n"
        "    redis.call('SREM', '" REDIS_KEY_PROCESSES "', id)\n"
        "  end\n"
        "end\n"
        "return moved\n";

/* After a reconnect: members of our in-flight list of queue ARGV[2] that we do not hold (ARGV[3...],
 * counted, as a payload may be there twice) go back to the right end of their queue. */
static const char reconcile_script[] =
        "local key, q = ARGV[1], ARGV[2]\n"
        "local held = {}\n"
        "for i = 3, #ARGV do held[ARGV[i]] = (held[ARGV[i]] or 0) + 1 end\n"
        "local moved = 0\n"
        "for _, j in ipairs(redis.call('LRANGE', key, 0, -1)) do\n"
        "  local n = held[j]\n"
        "  if n and n > 0 then\n"
        "    held[j] = n - 1\n"
        "  else\n"
        "    redis.call('LREM', key, -1, j)\n"
        "    redis.call('RPUSH', '" REDIS_KEY_QUEUE_PREFIX "' .. q, j)\n"
        "    moved = moved + 1\n"
        "  end\n"
        "end\n"
        "if moved > 0 then redis.call('SADD', '" REDIS_KEY_QUEUES "', q) end\n"
        "return moved\n";

void fetcher_init(Fetcher *f) {
        *f = (Fetcher) {};
}

void fetcher_done(Fetcher *f) {
        /* Each connection answers its pending wait (NULL) as it closes, which clears f->idle: all of
         * them are closed before the array they point into is freed. */
        for (size_t i = 0; i < f->n_waits; i++)
                f->waits[i].redis = redis_async_free(f->waits[i].redis);
        for (size_t i = 0; i < f->n_waits; i++)
                free(f->waits[i].queue);
        free(f->waits);
        *f = (Fetcher) {};
}

char *fetch_inflight_key(JobsWorker *w, const char *queue) {
        return strdupf(REDIS_KEY_INFLIGHT_PREFIX "%s:%s", w->identity, queue);
}

/* Announce our lists and that we are alive (alive first: the recover script must never see our
 * lists without it). */
int fetch_register(JobsWorker *w) {
        const char *argv[2 + 2 * WORKER_QUEUES_MAX];
        char *keys[WORKER_QUEUES_MAX] = {};
        _cleanup_free_ char *alive = strdupf(REDIS_KEY_ALIVE_PREFIX "%s", w->identity);
        int argc = 0, r;

        if (!alive)
                return -ENOMEM;
        r = redis_async_command(w->redis, NULL, NULL, "SET %s %s PX %d", alive, w->alive_value, WORKER_ALIVE_TTL_MSEC);
        if (r < 0)
                return r;
        argv[argc++] = "HSET";
        argv[argc++] = REDIS_KEY_INFLIGHT;
        for (size_t i = 0; i < w->config.n_queues; i++) {
                keys[i] = fetch_inflight_key(w, w->config.queues[i].name);
                if (!keys[i]) {
                        r = -ENOMEM;
                        goto finish;
                }
                argv[argc++] = keys[i];
                argv[argc++] = w->identity;
        }
        r = redis_async_command_argv(w->redis, NULL, NULL, argc, argv, NULL);
finish:
        for (size_t i = 0; i < w->config.n_queues; i++)
                free(keys[i]);
        return r;
}

int fetch_recover(JobsWorker *w, bool all_own, redisCallbackFn *fn, void *privdata) {
        return redis_async_command(w->redis, fn, privdata, "EVAL %s 0 %s", recover_script, all_own ? w->identity : "");
}

static void on_forced_recover_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        redisReply *r = reply;

        if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                log_notice("Recovered %lld in-flight jobs of a worker of this host that is gone; they are back in their queues.",
                           r->integer);
        else if (r && r->type == REDIS_REPLY_ERROR)
                log_warning("Recovering in-flight jobs failed: %s", r->str);
}

static void on_local_owners_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        if (!r || r->type != REDIS_REPLY_ARRAY)
                return;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *id = r->element[i]->str;
                unsigned pid;

                if (!id || streq(id, w->identity) || parse_unsigned(r->element[i + 1]->str, &pid) < 0 || pid == 0 ||
                    (pid_t) pid == getpid())
                        continue;
                if (kill((pid_t) pid, 0) == 0 || errno != ESRCH)
                        continue; /* alive, or not ours to judge */
                log_notice("Worker %s (pid %u on this host) is gone; taking its in-flight jobs back now.", id, pid);
                (void) redis_async_command(w->redis, on_forced_recover_reply, w, "EVAL %s 0 %s", recover_script, id);
        }
}

int fetch_recover_local(JobsWorker *w) {
        /* Without a boot id, "same host" cannot be told apart from "same pid namespace inode". */
        if (strncmp(w->alive_prefix, "unknown ", 8) == 0)
                return 0;
        return redis_async_command(w->redis, on_local_owners_reply, w, "EVAL %s 0 %s", local_owners_script, w->alive_prefix);
}

static void on_reconcile_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        redisReply *r = reply;

        if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                log_notice("Put %lld job(s) back in their queue: they were in this worker's in-flight list but not "
                           "in its hands (a fetch reply lost with the connection).", r->integer);
        else if (r && r->type == REDIS_REPLY_ERROR)
                log_warning("Checking this worker's in-flight lists failed: %s", r->str);
}

/* A fetch whose reply was lost with the connection moved jobs into our lists that we never saw;
 * alive, we would hold them forever. Sent first on every new connection: any fetch comes after it
 * on the same connection, and the idle wait moves nothing. */
int fetch_reconcile(JobsWorker *w) {
        for (size_t i = 0; i < w->config.n_queues; i++) {
                const char *q = w->config.queues[i].name;
                _cleanup_free_ char *key = fetch_inflight_key(w, q);
                _cleanup_free_ const char **argv = calloc(5 + w->n_jobs, sizeof *argv);
                _cleanup_free_ size_t *len = calloc(5 + w->n_jobs, sizeof *len);
                int argc = 0, r;

                if (!key || !argv || !len)
                        return -ENOMEM;
                argv[argc] = "EVAL", len[argc++] = 4;
                argv[argc] = reconcile_script, len[argc++] = strlen(reconcile_script);
                argv[argc] = "0", len[argc++] = 1;
                argv[argc] = key, len[argc++] = strlen(key);
                argv[argc] = q, len[argc++] = strlen(q);
                for (JobsJob *j = w->jobs; j; j = j->next)
                        if (streq(j->queue, q))
                                argv[argc] = j->raw, len[argc++] = j->raw_len;
                r = redis_async_command_argv(w->redis, on_reconcile_reply, w, argc, argv, len);
                if (r < 0)
                        return r;
        }
        return 0;
}

static uint64_t xorshift(void) {
        static uint64_t s;

        if (s == 0 && random_bytes(&s, sizeof s) < 0)
                s = (uint64_t) now_usec(CLOCK_MONOTONIC) | 1;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
}

/* Queue order for this fetch: as configured, or Sidekiq's weighted shuffle ("critical,2" appears
 * twice in the pool, the pool is shuffled, duplicates dropped). Returns the count. */
static size_t queue_order(JobsWorker *w, const char **out) {
        const WorkerConfig *c = &w->config;
        size_t pool[WORKER_QUEUES_MAX * WORKER_QUEUE_WEIGHT_MAX], n = 0, m = 0;

        if (!worker_config_weighted(c)) {
                for (size_t i = 0; i < c->n_queues; i++)
                        out[i] = c->queues[i].name;
                return c->n_queues;
        }
        for (size_t i = 0; i < c->n_queues; i++)
                for (unsigned k = 0; k < MAX(c->queues[i].weight, 1u); k++)
                        pool[n++] = i;
        for (size_t i = n; i > 1; i--) {
                size_t k = xorshift() % i, t = pool[i - 1];
                pool[i - 1] = pool[k];
                pool[k] = t;
        }
        for (size_t i = 0; i < n; i++) {
                bool seen = false;
                for (size_t k = 0; k < m && !seen; k++)
                        seen = out[k] == c->queues[pool[i]].name;
                if (!seen)
                        out[m++] = c->queues[pool[i]].name;
        }
        return m;
}

static void fetch_block(JobsWorker *w);

static void on_fetch_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        JobsWorker *w = privdata;
        redisReply *r = reply;

        w->fetcher.in_flight = false;
        if (!r)
                return; /* connection lost: fetching resumes once it is back */
        if (r->type != REDIS_REPLY_ARRAY) {
                log_warning("Fetching jobs failed: %s", strna(redis_async_reply_error(r)));
                return; /* the next heartbeat kicks again */
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                redisReply *job = r->element[i + 1];

                if (job->type == REDIS_REPLY_STRING) {
                        work_job_start(w, r->element[i]->str, job->str, job->len);
                        continue;
                }
                /* Too big to take: the script moved it aside whole, with an entry in dead. */
                stats_count(&w->stats, false);
                log_error("A payload of %lld bytes in queue %s is larger than MaxPayload= (%zu bytes); it was moved to "
                          "a key of its own inside Redis, without being read; the dead set names it.",
                          job->type == REDIS_REPLY_ARRAY && job->elements == 1 ? job->element[0]->integer : -1LL,
                          r->element[i]->str, w->config.max_payload);
        }
        if (r->elements == 0)
                fetch_block(w);
        else
                worker_kick(w);
}

unsigned fetch_wait_timeout_sec(const JobsWorker *w) {
        if (w->config.idle_wait > 0)
                return (unsigned) MAX(w->config.idle_wait / USEC_PER_SEC, 1u);
        return MAX((unsigned) WORKER_WAIT_MIN_SEC, (unsigned) (WORKER_WAIT_PER_QUEUE_SEC * w->config.n_queues));
}

static void fetch_wait_send(FetchWait *wt);

/* A wait is over: a job came, the wait timed out, or its connection was lost. */
static void on_wait_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        FetchWait *wt = privdata;
        JobsWorker *w = wt->worker;
        redisReply *r = reply;
        Fetcher *f = &w->fetcher;

        wt->in_flight = false;
        if (r && r->type == REDIS_REPLY_ERROR)
                log_warning("Waiting for jobs in queue %s failed: %s", wt->queue, r->str);
        /* It lasted its whole timeout: it timed out, and the queue was empty then. Waiting again
         * costs the same round trip as a fetch, and a job pushed meanwhile ends the new wait at
         * once (the wait does not take it), so renewing never misses one. */
        if (r && r->type != REDIS_REPLY_ERROR && f->idle &&
            now_usec(CLOCK_MONOTONIC) - wt->sent >= fetch_wait_timeout_sec(w) * USEC_PER_SEC) {
                fetch_wait_send(wt);
                return;
        }
        /* A job may be there, or this queue went unwatched for a while: the fetch script looks. */
        f->idle = false;
        worker_kick(w);
}

/* Wait for a job without taking it: BLMOVE of the queue onto itself (right end to right end, so
 * nothing moves) with its reply switched off, so neither a job nor its bytes travel on this
 * connection and none can be lost with it; the fetch script then takes jobs as usual. */
static void fetch_wait_send(FetchWait *wt) {
        JobsWorker *w = wt->worker;
        _cleanup_free_ char *src = NULL;
        char timeout[16];
        int r;

        if (w->state != WORKER_RUNNING || !w->fetcher.idle || wt->in_flight || !redis_async_is_up(wt->redis))
                return;
        src = strdupf(REDIS_KEY_QUEUE_PREFIX "%s", wt->queue);
        if (!src)
                return (void) log_oom();
        snprintf(timeout, sizeof timeout, "%u", fetch_wait_timeout_sec(w));
        const char *argv[] = { "BLMOVE", src, src, "RIGHT", "RIGHT", timeout };
        r = redis_async_command_unanswered(wt->redis, on_wait_reply, wt, (int) ELEMENTSOF(argv), argv);
        if (r < 0)
                return;
        wt->in_flight = true;
        wt->sent = now_usec(CLOCK_MONOTONIC);
        redis_async_flush(wt->redis);
}

static void on_wait_state(RedisAsync *ra, bool up, const char *error, void *userdata) {
        FetchWait *wt = userdata;

        if (!up)
                return (void) log_debug("Idle wait connection for queue %s dropped (%s).", wt->queue, strna(error));
        fetch_wait_send(wt); /* if the worker is idle: this queue is watched again */
}

/* One connection per queue, each waiting on its own queue: BLMOVE watches one list, and a job in
 * any queue must end the idle wait at once. Made at the first idle wait, and again after the queues
 * changed (fetch_cancel() closes them). */
static int fetch_waits_open(JobsWorker *w) {
        Fetcher *f = &w->fetcher;
        int r;

        if (f->waits)
                return 0;
        f->waits = calloc(w->config.n_queues, sizeof *f->waits);
        if (!f->waits)
                return -ENOMEM;
        f->n_waits = w->config.n_queues;
        for (size_t i = 0; i < f->n_waits; i++) {
                _cleanup_free_ char *name = NULL;
                FetchWait *wt = &f->waits[i];

                wt->worker = w;
                wt->queue = strdup(w->config.queues[i].name);
                name = strdupf("Redis (wait on queue %s)", w->config.queues[i].name);
                if (!wt->queue || !name)
                        return -ENOMEM;
                r = redis_async_new(w->event, &w->url, name, on_wait_state, wt, &wt->redis);
                if (r < 0)
                        return r;
                redis_async_set_priority(wt->redis, w->priority);
        }
        return 0;
}

/* Every queue was empty: wait on each for a job (or arm those not yet waiting). */
static void fetch_block(JobsWorker *w) {
        int r;

        if (w->state != WORKER_RUNNING)
                return;
        r = fetch_waits_open(w);
        if (r < 0) {
                log_warning_errno(r, "Cannot open the connections that wait for jobs: %m");
                fetcher_done(&w->fetcher); /* the next kick fetches, and tries again */
                return;
        }
        w->fetcher.idle = true;
        for (size_t i = 0; i < w->fetcher.n_waits; i++)
                fetch_wait_send(&w->fetcher.waits[i]);
}

bool fetch_maybe(JobsWorker *w) {
        const char *argv[9 + WORKER_QUEUES_MAX];
        char max[16], limit[24], now[32], dead_age[24], dead_max[24];
        unsigned free_slots, prefetch;
        size_t n;
        int r;

        if (w->state != WORKER_RUNNING || w->fetcher.in_flight || w->fetcher.idle || !redis_async_is_up(w->redis))
                return false;
        /* Hold jobs ready only while jobs are short: a long one would keep them from other workers. */
        prefetch = worker_jobs_short(w) ? WORKER_PREFETCH_MAX : 0;
        free_slots = w->config.concurrency + prefetch;
        free_slots = free_slots > w->n_running + w->n_pending ? free_slots - w->n_running - w->n_pending : 0;
        /* While jobs are waiting ready, refill in batches rather than one round trip per job. */
        if (free_slots == 0 || (w->n_pending > 0 && free_slots < MAX(prefetch / 2, 1u)))
                return false;
        snprintf(max, sizeof max, "%u", MIN(free_slots, (unsigned) WORKER_FETCH_BATCH_MAX));
        argv[0] = "EVAL";
        argv[1] = fetch_script;
        argv[2] = "0";
        snprintf(limit, sizeof limit, "%zu", w->config.max_payload);
        snprintf(now, sizeof now, "%.6f", epoch_now());
        snprintf(dead_age, sizeof dead_age, "%d", RETRY_DEAD_TIMEOUT_SEC);
        snprintf(dead_max, sizeof dead_max, "%d", RETRY_DEAD_MAX_JOBS);
        argv[3] = w->identity;
        argv[4] = max;
        argv[5] = limit;
        argv[6] = now;
        argv[7] = dead_age;
        argv[8] = dead_max;
        n = queue_order(w, argv + 9);
        r = redis_async_command_argv(w->redis, on_fetch_reply, w, (int) (9 + n), argv, NULL);
        if (r >= 0)
                w->fetcher.in_flight = true;
        return r >= 0;
}

void fetch_cancel(JobsWorker *w) {
        /* Dropping the connections is the only way to end the waits; they move nothing. */
        fetcher_done(&w->fetcher);
}

void fetch_reset(JobsWorker *w) {
        for (size_t i = 0; i < w->fetcher.n_waits; i++) {
                redis_async_reset(w->fetcher.waits[i].redis);
                redis_async_retry_now(w->fetcher.waits[i].redis);
        }
}

const char *fetch_wait_elsewhere(const JobsWorker *w, const char *master) {
        for (size_t i = 0; i < w->fetcher.n_waits; i++) {
                const char *m = w->fetcher.waits[i].redis ? redis_async_master(w->fetcher.waits[i].redis) : "";
                if (m[0] && !streq(m, master))
                        return m;
        }
        return NULL;
}
