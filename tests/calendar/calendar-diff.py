#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test of the calendar evaluator against systemd-analyze.

Generates random OnCalendar= expressions (most valid, some not) with time zones, runs them through
`systemd-analyze calendar --iterations=N --base-time=@S` and through calendar-spec-eval, in batches
that share a host time zone ($TZ) and a base time, and compares, expression by expression: accepted
or refused, the normalized form, and every elapse (to the second: systemd-analyze prints no more;
fractions are covered by the unit test). calendar-spec-eval also checks prev() against each series.

Prints one line per disagreement and a summary; exits 1 if any disagreement was found."""

import argparse
import calendar
import os
import random
import subprocess
import sys
import time

ZONES = [
    "UTC", "Europe/Berlin", "America/New_York", "Europe/London", "Europe/Dublin", "Australia/Lord_Howe",
    "Asia/Kolkata", "Pacific/Chatham", "America/Santiago", "Asia/Tehran", "America/Sao_Paulo",
    "Pacific/Apia", "Africa/Casablanca", "America/St_Johns", "Asia/Kathmandu", "America/Havana",
    "Europe/Moscow", "Australia/Adelaide", "America/Los_Angeles", "Asia/Gaza", "Antarctica/Troll",
    "America/Godthab", "Asia/Beirut", "Pacific/Kiritimati", "Etc/GMT+5",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SHORTHANDS = ["minutely", "hourly", "daily", "monthly", "weekly", "yearly", "annually", "quarterly",
              "semiannually", "semi-annually", "biannually", "bi-annually", "anually"]


def case(rng, s):
    return rng.choice([s, s.lower(), s.upper()]) if rng.random() < 0.2 else s


def weekdays(rng):
    items = []
    for _ in range(rng.randint(1, 3)):
        a = rng.randrange(7)
        name = lambda i: case(rng, DAYS[i] if rng.random() < 0.3 else DAYS[i][:3])
        if rng.random() < 0.4:
            b = rng.randrange(a, 7) if rng.random() < 0.95 else rng.randrange(7)
            items.append(name(a) + rng.choice(["..", "..", "-"]) + name(b))
        else:
            items.append(name(a))
    return ",".join(items) + ("," if rng.random() < 0.03 else "")


def num(rng, v, width):
    return str(v).zfill(width) if rng.random() < 0.5 else str(v)


def seconds_value(rng, lo, hi):
    v = rng.randint(lo, hi)
    if rng.random() < 0.3:
        digits = rng.randint(1, 8)
        return f"{v}.{rng.randrange(10 ** digits):0{digits}d}"
    return str(v)


def chain(rng, lo, hi, width=2, star=0.3, seconds=False):
    """A component list for values lo..hi; now and then a value outside, to test refusals."""
    if rng.random() < star:
        return "*"
    out = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        slo, shi = lo, hi
        if rng.random() < 0.03:
            shi = hi + rng.randint(1, 5)
        if seconds:
            a = seconds_value(rng, slo, shi)
            b = seconds_value(rng, int(float(a)), shi)
            rep = seconds_value(rng, 0, max(1, (shi - slo) // 3)) if rng.random() < 0.7 else str(rng.randint(1, 20))
            if float(rep) == 0:
                rep = "1"
        else:
            a = rng.randint(slo, shi)
            b = rng.randint(a, shi) if rng.random() < 0.95 else rng.randint(slo, shi)
            rep = str(rng.randint(1, max(1, (shi - slo) // 2)))
            a, b = num(rng, a, width), num(rng, b, width)
        kind = rng.random()
        if kind < 0.5:
            out.append(str(a))
        elif kind < 0.7:
            out.append(f"{a}..{b}")
        elif kind < 0.85:
            out.append(f"{a}/{rep}")
        else:
            out.append(f"{a}..{b}/{rep}")
    return ",".join(out)


def year_chain(rng):
    if rng.random() < 0.5:
        return "*"
    if rng.random() < 0.1:
        return chain(rng, 0, 99, width=2, star=0)  # two-digit years
    return chain(rng, 1995, 2120, width=4, star=0)


def expression(rng, zone_names, zones):
    r = rng.random()
    if r < 0.08:
        e = case(rng, rng.choice(SHORTHANDS))
    elif r < 0.1:
        e = f"@{rng.randint(0, 5_000_000_000)}"
    else:
        parts = []
        if rng.random() < 0.35:
            parts.append(weekdays(rng))
        if rng.random() < 0.7:
            eom = rng.random() < 0.2
            day = chain(rng, 1, 28 if eom else 31, star=0.3)
            month = chain(rng, 1, 12, star=0.4)
            sep = "~" if eom else "-"
            if rng.random() < 0.6:
                parts.append(f"{year_chain(rng)}-{month}{sep}{day}")
            else:
                parts.append(f"{month}{sep}{day}")
        if rng.random() < 0.85 or not parts:
            t = f"{chain(rng, 0, 23, star=0.3)}:{chain(rng, 0, 59, star=0.3)}"
            if rng.random() < 0.6:
                t += ":" + chain(rng, 0, 59, star=0.2, seconds=True)
            parts.append(t)
        e = " ".join(parts)
    z = rng.random()
    if z < zones * 0.3:
        e += " UTC"
    elif z < zones:
        e += " " + rng.choice(ZONES)
    elif z < zones + 0.05 and zone_names:
        e += " " + rng.choice(zone_names)  # the host zone's own abbreviation (CET, EST, ...)
    return e


def base_time(rng):
    if rng.random() < 0.5:
        # near a DST change: March/April or October/November, any year
        year = rng.randint(1990, 2110)
        month = rng.choice([3, 4, 10, 11, 9, 2])
        day = rng.randint(1, 28)
        t = time.struct_time((year, month, day, rng.randrange(24), rng.randrange(60), rng.randrange(60), 0, 0, 0))
        return calendar.timegm(t)
    return rng.randint(0, 4_000_000_000)


def parse_analyze(out, err, exprs):
    """expr -> ("OK", normalized, [elapses]) or ("REJECT",)."""
    blocks = []
    cur = None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("Original form: "):
            cur = {"orig": s[15:], "norm": None, "el": []}
            blocks.append(cur)
        elif s.startswith("Normalized form: "):
            if cur is None or cur["norm"] is not None:
                cur = {"orig": s[17:], "norm": None, "el": []}
                blocks.append(cur)
            cur["norm"] = s[17:]
        elif s.startswith("Next elapse: ") or s.startswith("Iter. #"):
            v = s.split(": ", 1)[1]
            cur["el"].append(v)
        elif s.startswith("(in UTC): "):
            cur["el"][-1] = s[10:]
        elif s == "":
            cur = None
    res = {}
    i = 0
    for b in blocks:
        while i < len(exprs) and exprs[i] != b["orig"]:
            res[exprs[i]] = ("REJECT",)
            i += 1
        if i >= len(exprs):
            raise RuntimeError(f"cannot match systemd-analyze output block {b}")
        # without an "(in UTC)" line the local zone has offset 0 (systemd's in_utc_timezone()), but
        # it may print another abbreviation ("+00", "GMT"): compare the wall-clock part only
        el = [v.rsplit(" ", 1)[0] if v != "never" else v for v in b["el"]]
        # a failure to compute an elapse names the expression on stderr (refusals to parse don't
        # print a block at all)
        if any(f"'{exprs[i]}'" in line and "Failed to parse" not in line for line in err.splitlines()):
            el.append("error")  # (not seen with 252: see below)
        res[exprs[i]] = ("OK", b["norm"], el)
        i += 1
    while i < len(exprs):
        res[exprs[i]] = ("REJECT",)
        i += 1
    # when its search gives up (EDEADLK) systemd-analyze prints no block for the expression at all
    for line in err.splitlines():
        if line.startswith("Failed to determine next elapse for '"):
            e = line[len("Failed to determine next elapse for '"):].rsplit("': ", 1)[0]
            if e in res:
                res[e] = ("ERROR",)
    return res


def run_batch(args, host_zone, base, exprs, iterations):
    env = dict(os.environ, TZ=host_zone, LC_ALL="C", SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
    a = subprocess.run([args.analyze, "calendar", f"--iterations={iterations}", f"--base-time=@{base}",
                        "--", *exprs], env=env, capture_output=True, text=True)
    if a.returncode not in (0, 1):
        raise RuntimeError(f"systemd-analyze failed ({a.returncode}): {a.stderr[:500]}")
    ref = parse_analyze(a.stdout, a.stderr, exprs)
    req = "".join(f"{base * 1000000} {iterations} {e}\n" for e in exprs)
    m = subprocess.run([args.eval], input=req, env=env, capture_output=True, text=True)
    if m.returncode != 0:
        raise RuntimeError(f"calendar-spec-eval failed ({m.returncode}): {m.stderr[:2000]}")
    mine = m.stdout.splitlines()
    if len(mine) != len(exprs):
        raise RuntimeError(f"calendar-spec-eval answered {len(mine)} of {len(exprs)} lines: {m.stderr[:2000]}")
    results = []
    for e, line in zip(exprs, mine):
        f = line.split("\t")
        r = ref[e]
        prev_bad = [x for x in f if x.startswith("PREV-MISMATCH")]
        f = [x for x in f if not x.startswith("PREV-MISMATCH")]
        if r[0] != "REJECT" and f[0] == "REJECT" and "time zone abbreviation" in f[1]:
            ok = True  # refused by design: the host zone's own abbreviation (see jobs-schedule(5))
            compared = -1
        elif r[0] == "REJECT":
            ok = f[0] == "REJECT"
            compared = 0
        elif r[0] == "ERROR":
            ok = f[0] == "OK" and f[-1].startswith("error")
            compared = 0
        else:
            el = ["error" if x.startswith("error") else x.rsplit(" ", 1)[0] if x != "never" else x
                  for x in f[2:]]
            if len(el) > 1 and el[-1] == "never":
                el.pop()  # systemd-analyze says "never" only when there is no elapse at all
            ok = f[0] == "OK" and f[1] == r[1] and el == r[2]
            compared = len([x for x in r[2] if x not in ("never", "error")])
        results.append((e, r, f, ok and not prev_bad, compared, prev_bad))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--analyze", default="systemd-analyze")
    ap.add_argument("--eval", required=True)
    ap.add_argument("--zones", type=float, default=0.4,
                    help="share of expressions with a zone suffix (systemd-analyze forks for each of their elapses)")
    ap.add_argument("--zone-iterations", type=int, default=2,
                    help="iterations for expressions with an IANA zone (each costs systemd-analyze a fork; "
                         "the same evaluation with $TZ set is covered by the other batches)")
    ap.add_argument("--show", type=int, default=30, help="disagreements printed at most")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    rng = random.Random(seed)
    print(f"seed {seed}, {args.count} expressions, {args.iterations} iterations each "
          f"({args.zone_iterations} with an IANA zone suffix)", flush=True)

    total = accepted = rejected = elapses = bad = by_design = 0
    done = 0
    while done < args.count:
        host_zone = rng.choice(ZONES + ["UTC"] * 3)
        abbrevs = {"Europe/Berlin": ["CET", "CEST"], "America/New_York": ["EST", "EDT"],
                   "Europe/London": ["GMT", "BST"], "America/Los_Angeles": ["PST", "PDT"]}.get(host_zone, [])
        base = base_time(rng)
        n = min(args.batch, args.count - done)
        exprs = list(dict.fromkeys(expression(rng, abbrevs, args.zones) for _ in range(n)))
        done += n
        zoned = [e for e in exprs if e.rsplit(" ", 1)[-1] in ZONES and not e.endswith(" UTC")]
        local = [e for e in exprs if e not in zoned]
        results = run_batch(args, host_zone, base, local, args.iterations) if local else []
        if zoned:
            results += run_batch(args, host_zone, base, zoned, args.zone_iterations)
        for e, r, f, ok, compared, prev_bad in results:
            total += 1
            if compared < 0:
                by_design += 1
            elif r[0] == "REJECT":
                rejected += 1
            else:
                accepted += 1
                elapses += compared
            if not ok:
                bad += 1
                if bad <= args.show:
                    print(f"DISAGREE TZ={host_zone} base=@{base} '{e}'\n  systemd: {r}\n  ours:    {f}"
                          + (f"\n  prev: {prev_bad}" if prev_bad else ""), flush=True)
    print(f"{total} expressions ({accepted} accepted by both, {rejected} refused by both, {by_design} accepted "
          f"by systemd and refused by design: host zone abbreviation), "
          f"{elapses} elapses compared, {bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
