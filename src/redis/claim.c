/* SPDX-License-Identifier: MIT */
/* Claim one occurrence of a schedule entry and push its job, in one atomic Redis step. */

#include <inttypes.h>

#include "redis/claim.h"

/* KEYS: claim, record, entries set, "queues", queue list, run-now counter.
 * ARGV: occurrence, host, jid, claimed_at, claim ttl, queue, payload, entry, class, calendars,
 *       entries max, record ttl, the occurrence before this one (0: unknown): when it is later than
 *       the last one claimed, occurrences were missed and the reply names the last one so the
 *       caller can count them (a second round trip only then); and "1" when a WAIT follows.
 * WAIT counts the replicas that have this connection's last write (since Redis 7.2; 7.0 counts
 * from its last command of any kind). A run that finds the occurrence held writes nothing, so it
 * then sets a key's expiry to what it is (a write that changes nothing): the replicas that have
 * that also have the claim and job another run wrote before, and a retry of a run whose WAIT fell
 * short waits for those.
 * Occurrences are compared as numbers (microseconds fit a double exactly until the year 2255)
 * but stored as the strings given. EVAL sends the ~1.5 KB text each time: still one write and
 * one round trip, and unlike EVALSHA never a second one after a restart or SCRIPT FLUSH. */
static const char claim_script[] =
        "local occ = tonumber(ARGV[1])\n"
        "local function barrier(key, ttl)\n"
        "  if ARGV[14] ~= '1' then return end\n"
        "  local ms = redis.call('PTTL', key)\n"
        "  if ms > 0 then redis.call('PEXPIRE', key, ms) else redis.call('EXPIRE', key, ttl) end\n"
        "end\n"
        "if tonumber(redis.call('GET', KEYS[6]) or '0') > 0 then\n"
        "  redis.call('DECR', KEYS[6])\n"
        "  redis.call('SADD', KEYS[4], ARGV[6])\n"
        "  redis.call('LPUSH', KEYS[5], ARGV[7])\n"
        "  return {2}\n"
        "end\n"
        "local held = redis.call('GET', KEYS[1])\n"
        "if held then\n"
        "  barrier(KEYS[1], ARGV[5])\n"
        "  local nl = string.find(held, '\\n', 1, true) or (#held + 1)\n"
        "  return {0, string.sub(held, 1, nl - 1), string.sub(held, nl + 1), ARGV[1]}\n"
        "end\n"
        "local rec = redis.call('HMGET', KEYS[2], 'last', 'host', 'jid')\n"
        "local last = rec[1] and tonumber(rec[1])\n"
        "if last and last >= occ then\n"
        "  barrier(KEYS[2], ARGV[12])\n"
        "  return {0, rec[2] or '', rec[3] or '', rec[1]}\n"
        "end\n"
        "redis.call('SET', KEYS[1], ARGV[2] .. '\\n' .. ARGV[3], 'EX', ARGV[5])\n"
        "redis.call('SADD', KEYS[4], ARGV[6])\n"
        "redis.call('LPUSH', KEYS[5], ARGV[7])\n"
        "redis.call('HSET', KEYS[2], 'last', ARGV[1], 'host', ARGV[2], 'jid', ARGV[3], 'claimed_at', ARGV[4],\n"
        "           'queue', ARGV[6], 'class', ARGV[9], 'calendars', ARGV[10])\n"
        "redis.call('HDEL', KEYS[2], 'outcome', 'duration_usec', 'finished_at')\n"
        "redis.call('HINCRBY', KEYS[2], 'missed', 0)\n"
        "redis.call('EXPIRE', KEYS[2], ARGV[12])\n"
        "redis.call('ZADD', KEYS[3], ARGV[4], ARGV[8])\n"
        "redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[11]) + 1))\n"
        "if last and tonumber(ARGV[13]) > last then return {1, rec[1]} end\n"
        "return {1}\n";

bool claim_record_key(char *buf, size_t n, const char *entry) {
        int k = snprintf(buf, n, REDIS_KEY_ENTRY_PREFIX "%s", entry);
        return k > 0 && (size_t) k < n;
}

int redis_claim_add_missed(Redis *r, const char *entry, unsigned n) {
        char key[512];

        if (!claim_record_key(key, sizeof key, entry))
                return -ENAMETOOLONG;
        return redis_command(r, NULL, "HINCRBY %s " CLAIM_FIELD_MISSED " %u", key, n);
}

bool claim_run_now_key(char *buf, size_t n, const char *entry) {
        int k = snprintf(buf, n, REDIS_KEY_RUN_NOW_PREFIX "%s", entry);
        return k > 0 && (size_t) k < n;
}

static int copy_string(const redisReply *e, char *buf, size_t n) {
        if (e->type != REDIS_REPLY_STRING || e->len >= n)
                return -EPROTO;
        memcpy(buf, e->str, e->len);
        buf[e->len] = 0;
        return 0;
}

int redis_claim_push(Redis *r, const ClaimRequest *req, RedisWait *wait, ClaimResult *ret) {
        enum { N_ARGS = 3 + 6 + 14, PAYLOAD = 15 };
        char claim[512], record[512], list[256], manual[512], occ[32], at[64], ttl[32], emax[32], rttl[32];
        char earlier[32];
        const char *argv[N_ARGS];
        size_t len[N_ARGS];
        _cleanup_reply_ redisReply *reply = NULL;
        bool waits = wait && wait->replicas > 0;
        int k;

        if ((size_t) snprintf(claim, sizeof claim, REDIS_KEY_CLAIM_PREFIX "%s:%" PRIu64, req->entry, req->occurrence) >= sizeof claim ||
            !claim_record_key(record, sizeof record, req->entry) ||
            !claim_run_now_key(manual, sizeof manual, req->entry) ||
            (size_t) snprintf(list, sizeof list, "queue:%s", req->queue) >= sizeof list)
                return -ENAMETOOLONG;
        snprintf(occ, sizeof occ, "%" PRIu64, req->occurrence);
        snprintf(at, sizeof at, "%.6f", req->now);
        snprintf(ttl, sizeof ttl, "%lld", req->ttl_sec);
        snprintf(emax, sizeof emax, "%u", CLAIM_ENTRIES_MAX);
        snprintf(rttl, sizeof rttl, "%lld", CLAIM_RECORD_TTL_SEC);
        snprintf(earlier, sizeof earlier, "%" PRIu64, req->previous);

        const char *args[] = { "EVAL", claim_script, "6", claim, record, REDIS_KEY_ENTRIES, "queues", list, manual,
                               occ, req->host, req->jid, at, ttl, req->queue, NULL /* payload */, req->entry,
                               req->class, strempty(req->calendars), emax, rttl, earlier, waits ? "1" : "0" };
        _Static_assert(ELEMENTSOF(args) == N_ARGS, "argument count");
        for (size_t i = 0; i < N_ARGS; i++) {
                argv[i] = args[i];
                len[i] = args[i] ? strlen(args[i]) : 0;
        }
        argv[PAYLOAD] = req->payload;
        len[PAYLOAD] = req->payload_len;

        k = redis_append_argv(r, N_ARGS, argv, len);
        if (k >= 0)
                k = redis_append_wait(r, wait);
        if (k >= 0)
                k = redis_get_reply(r, &reply);
        k = redis_finish_wait(r, k, wait);
        if (k < 0)
                return k;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 || reply->element[0]->type != REDIS_REPLY_INTEGER)
                return -EPROTO;
        *ret = (ClaimResult) { .claimed = reply->element[0]->integer >= 1,
                               .manual = reply->element[0]->integer == 2 };
        if (ret->claimed) {
                if (reply->elements == 2 && (reply->element[1]->type != REDIS_REPLY_STRING ||
                                             parse_u64(reply->element[1]->str, &ret->missed_after) < 0))
                        return -EPROTO;
                return 0;
        }
        if (reply->elements != 4 || copy_string(reply->element[1], ret->holder_host, sizeof ret->holder_host) < 0 ||
            copy_string(reply->element[2], ret->holder_jid, sizeof ret->holder_jid) < 0 ||
            reply->element[3]->type != REDIS_REPLY_STRING ||
            parse_u64(reply->element[3]->str, &ret->holder_occurrence) < 0)
                return -EPROTO;
        return 0;
}
