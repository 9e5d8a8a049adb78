#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Counts the fleet test's jobs per occurrence and says whether each occurrence ran exactly once.

Input: the handlers' records ("run|start|done HOST TIME PAYLOAD", one per line, from the Redis list
fleet:runs), the schedule's entries ("NAME PERIOD_S RANDOMIZED_DELAY_S PERSISTENT"), the counted
window and the times of the timer gap. Prints a table of counts per entry and exits 1 when an
occurrence has more than one job, an occurrence that some host's timer was due to fire has none,
or a job that started never finished.

The occurrence a job stands for is the one Redis recorded for its jid in the claim keys
(jobs:claim:<entry>:<occurrence usec> = "host\njid", dumped as "KEY HOST JID" lines); a job without
a claim stands for its entry's latest scheduled elapse at or before its created_at, which is what the
claim computes for these schedules (every period divides a minute, and each entry's random delay
plus AccuracySec= stays well below its period). Both are printed when they disagree."""

import argparse
import json
import math
import sys
from collections import defaultdict

CLAIM_PREFIX = "jobs:claim:"
# Seconds a timer may fire after its elapse besides RandomizedDelaySec=: AccuracySec=1s plus a
# loaded machine's delay in starting the service.
SLACK = 2.0


def last_counted(w1, period, delay):
    """The last occurrence counted in a window ending at w1 (before it stops the timers, fleet.sh waits
    until some host's timer has fired for it)."""
    return math.floor((w1 - delay - SLACK) / period) * period


def floor_occurrence(payload, period):
    return math.floor(payload["created_at"] / period) * period


def read_claims(path):
    """jid -> (entry, occurrence seconds, host) from "KEY HOST JID" lines."""
    claims = {}
    for line in open(path):
        f = line.split()
        if len(f) != 3 or not f[0].startswith(CLAIM_PREFIX):
            continue
        entry, _, occ = f[0][len(CLAIM_PREFIX):].rpartition(":")
        claims[f[2]] = (entry, int(occ) / 1e6, f[1])
    return claims


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", required=True)
    ap.add_argument("--last", type=float, metavar="W1",
                    help="only print NAME LAST DELAY per entry: its last occurrence counted in a window ending at W1")
    ap.add_argument("--runs")
    ap.add_argument("--window", nargs=2, type=float)
    ap.add_argument("--gap", help="STOP0 STOP1 START0 START1 (epoch seconds, 0 = none)")
    ap.add_argument("--load", help="file of jids enqueued by hand (not schedule occurrences)")
    ap.add_argument("--claims", help="the claim keys: KEY HOST JID per line")
    a = ap.parse_args()

    entries = {}
    for line in open(a.entries):
        f = line.split()
        if f:
            entries[f[0]] = (int(f[1]), float(f[2]), f[3] == "yes")
    if a.last is not None:
        for name, (period, delay, _) in entries.items():
            print(name, last_counted(a.last, period, delay), delay)
        return 0
    if not (a.runs and a.window and a.gap):
        ap.error("--runs, --window and --gap are needed to count")
    w0, w1 = a.window
    stop0, stop1, start0, start1 = (float(x) for x in a.gap.split())

    jobs = {}  # jid -> {"entry", "occ", "key", "payload", "starts": [host], "dones": [host]}
    bad = 0
    for n, line in enumerate(open(a.runs), 1):
        f = line.rstrip("\n").split(" ", 3)
        if len(f) != 4:
            print(f"runs:{n}: not 'EVENT HOST TIME PAYLOAD': {line!r}")
            bad += 1
            continue
        ev, host, _, raw = f
        try:
            p = json.loads(raw)
        except ValueError as e:
            print(f"runs:{n}: payload is not JSON ({e}): {raw!r}")
            bad += 1
            continue
        j = jobs.setdefault(p["jid"], {"payload": p, "starts": [], "dones": []})
        if ev in ("start", "run"):
            j["starts"].append(host)
        if ev in ("done", "run"):
            j["dones"].append(host)

    load = set()
    if a.load:
        load = {x.strip() for x in open(a.load) if x.strip()}

    # Every job that started must have finished somewhere (the killed host's runs are re-run).
    unfinished = [jid for jid, j in jobs.items() if j["starts"] and not j["dones"]]
    for jid in unfinished:
        print(f"job {jid} ({jobs[jid]['payload'].get('args')}) started on {jobs[jid]['starts']} and never finished")
    lost_load = sorted(load - {jid for jid, j in jobs.items() if j["dones"]})
    for jid in lost_load:
        print(f"load job {jid} never ran to the end")
    reruns = {jid: j for jid, j in jobs.items() if len(j["starts"]) > 1}

    claims = read_claims(a.claims) if a.claims else {}
    ok_claims = True
    counts = defaultdict(lambda: defaultdict(list))  # entry -> occ -> [jid]
    source = defaultdict(int)
    for jid, j in jobs.items():
        p = j["payload"]
        args = p.get("args") or []
        name = args[0] if args else None
        if jid in load or name not in entries:
            continue
        period = entries[name][0]
        occ = floor_occurrence(p, period)
        if jid in claims:
            c_entry, c_occ, c_host = claims[jid]
            source["claim"] += 1
            if c_entry != name or c_occ != occ:
                print(f"  job {jid}: claimed for {c_entry} {c_occ} by {c_host}; created_at {p['created_at']:.3f} says {name} {occ}")
            occ = c_occ
        else:
            source["created_at"] += 1
        counts[name][occ].append(jid)
    # Once jobs-enqueue claims occurrences, a schedule job without a claim bypassed it.
    if claims and source["created_at"]:
        print(f"  {source['created_at']} schedule jobs have no claim in Redis")
        ok_claims = False
    # A claim whose job never ran is an occurrence lost.
    ran = {jid for jid, j in jobs.items() if j["dones"]}
    for jid, (c_entry, c_occ, c_host) in sorted(claims.items(), key=lambda kv: kv[1][1]):
        if c_entry in entries and jid not in ran:
            print(f"  {c_entry} occurrence {c_occ}: claimed by {c_host} as job {jid}, which never ran")
            ok_claims = False

    ok = not bad and not unfinished and not lost_load and ok_claims
    print(f"jobs' occurrence read from: " + (", ".join(f"{k} {v}" for k, v in sorted(source.items())) or "-"))
    print(f"claim keys in Redis: {len(claims)}")
    claimed = defaultdict(set)  # entry -> occurrences with a claim key
    for c_entry, c_occ, _ in claims.values():
        claimed[c_entry].add(c_occ)
    print(f"{'entry':<14} {'period':>6} {'counted':>7} {'claimed':>7} {'exactly1':>8} {'missing':>7} {'dup':>4} {'gap(0/1)':>8}  jobs per occurrence")
    totals = defaultdict(int)
    for name, (period, delay, persistent) in entries.items():
        first = math.ceil(w0 / period) * period
        last = last_counted(w1, period, delay)
        occs = range(int(first), int(last) + 1, period)
        hist = defaultdict(int)
        exact = missing = dup = excused = 0
        catch_up = None
        if start0 > 0:
            catch_up = math.floor(start0 / period) * period if persistent else None
        for o in occs:
            c = len(counts[name].get(o, []))
            hist[c] += 1
            in_gap = False
            if start0 > 0:
                if persistent:
                    in_gap = stop0 - SLACK < o < catch_up
                else:
                    in_gap = stop0 - delay - SLACK < o <= start1
            if c > 1:
                dup += 1
                print(f"  {name} occurrence {o}: {c} jobs: {counts[name][o]}")
            elif in_gap:
                excused += 1
            elif c == 1:
                exact += 1
            else:
                missing += 1
                print(f"  {name} occurrence {o}: no job")
        # jobs standing for an instant that is not an occurrence of the entry
        for o, jids in counts[name].items():
            if (o - first) % period and first <= o <= last:
                print(f"  {name}: {len(jids)} jobs for {o}, not an occurrence of the entry")
                ok = False
        h = " ".join(f"{k}x{v}" for k, v in sorted(hist.items()))
        n_claimed = sum(1 for o in occs if o in claimed[name])
        print(f"{name:<14} {period:>5}s {len(occs):>7} {n_claimed:>7} {exact:>8} {missing:>7} {dup:>4} {excused:>8}  {h}")
        totals["counted"] += len(occs)
        totals["exact"] += exact
        totals["missing"] += missing
        totals["dup"] += dup
        totals["excused"] += excused
        if dup or missing:
            ok = False
        if catch_up is not None:
            jids = counts[name].get(catch_up, [])
            how = []
            for jid in jids:
                p = jobs[jid]["payload"]
                late = p["created_at"] >= start0
                how.append(f"{jid} created {p['created_at']:.3f} ({'after the restart: a catch-up' if late else 'before the restart'})"
                           f" run on {','.join(jobs[jid]['dones'])}")
            print(f"  catch-up of {name} for occurrence {catch_up} (timers restarted at {start0:.3f}): "
                  f"{len(jids)} job(s) {'; '.join(how)}")
            if len(jids) != 1:
                ok = False
    print(f"{'all':<14} {'':>6} {totals['counted']:>7} {'':>7} {totals['exact']:>8} {totals['missing']:>7} {totals['dup']:>4} {totals['excused']:>8}")
    by_host = defaultdict(int)
    for j in jobs.values():
        for h in j["dones"]:
            by_host[h] += 1
    print("jobs run per host: " + " ".join(f"{h}={c}" for h, c in sorted(by_host.items())))
    print(f"jobs run more than once (a host died or stopped while running them): {len(reruns)}"
          + "".join(f"\n  {jid} {j['payload'].get('args')} started on {j['starts']}, done on {j['dones']}"
                    for jid, j in sorted(reruns.items())))
    print("verdict: " + ("exactly one job per occurrence, none missing" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
