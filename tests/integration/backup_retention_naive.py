#!/usr/bin/python3
"""Cross-check `kopro-backup plan-retention` against a naive implementation
written here with Python's zoneinfo and date.isocalendar() (a separate tz
reader and ISO-week computation from kopro's localtime_r/strftime).

usage: backup_retention_naive.py KOPRO_BACKUP N_HISTORIES SEED
Prints one line per mismatch and exits 1 if any.
"""
import datetime as dt
import random
import subprocess
import sys
from zoneinfo import ZoneInfo

ZONES = ["Europe/Brussels", "UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
ANCHORS = [
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.timezone.utc),   # spring forward, Brussels
    dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.timezone.utc),  # fall back
    dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.timezone.utc),    # New Year after ISO week 53
    dt.datetime(2021, 1, 1, 0, 0, tzinfo=dt.timezone.utc),    # 2020 had 53 weeks
]


def naive(times, counts, tz):
    """Keep reasons per index: newest of each of the N newest periods."""
    zone = ZoneInfo(tz)
    order = sorted(range(len(times)), key=lambda i: (times[i], i), reverse=True)
    def keys(i):
        local = times[i].astimezone(zone)
        iy, iw, _ = local.date().isocalendar()
        return {
            "daily": "daily %s" % local.strftime("%Y-%m-%d"),
            "weekly": "weekly %04d-W%02d" % (iy, iw),
            "monthly": "monthly %s" % local.strftime("%Y-%m"),
            "yearly": "yearly %s" % local.strftime("%Y"),
        }
    reasons = {i: [] for i in range(len(times))}
    for k, i in enumerate(order[: counts["last"]]):
        reasons[i].append("last")
    for rule in ("daily", "weekly", "monthly", "yearly"):
        seen = []
        for i in order:
            key = keys(i)[rule]
            if key not in seen:
                seen.append(key)
                if len(seen) <= counts[rule]:
                    reasons[i].append(key)
    ordered = ["last", "daily", "weekly", "monthly", "yearly"]
    out = []
    for i in range(len(times)):
        rs = sorted(reasons[i], key=lambda r: ordered.index(r.split(" ")[0]))
        out.append(rs)
    return out


def main():
    binary, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    bad = 0
    for h in range(n):
        t = rnd.choice(ANCHORS) - dt.timedelta(seconds=rnd.randrange(40 * 86400))
        times = []
        for _ in range(rnd.randrange(0, 40)):
            t += dt.timedelta(seconds=rnd.choice([60, 3600, 6 * 3600, 86400, 90000, 7 * 86400,
                                                  rnd.randrange(60 * 86400)]))
            times.append(t)
        rnd.shuffle(times)
        counts = {"last": rnd.choice([0, 0, 2]), "daily": rnd.randrange(8),
                  "weekly": rnd.randrange(6), "monthly": rnd.randrange(13),
                  "yearly": rnd.choice([0, 0, 2])}
        tz = rnd.choice(ZONES)
        args = [binary, "plan-retention", "--tz", tz]
        for rule in ("last", "daily", "weekly", "monthly", "yearly"):
            args += ["--keep-" + rule, str(counts[rule])]
        text = "".join(x.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n" for x in times)
        res = subprocess.run(args, input=text, capture_output=True, text=True)
        if res.returncode != 0:
            print("history %d: exit %d: %s" % (h, res.returncode, res.stderr.strip()))
            bad += 1
            continue
        want = naive(times, counts, tz)
        got = res.stdout.splitlines()
        for i, x in enumerate(times):
            stamp = x.strftime("%Y-%m-%dT%H:%M:%SZ")
            exp = ("keep %s %s" % (stamp, ", ".join(want[i]))) if want[i] else "forget " + stamp
            if i >= len(got) or got[i] != exp:
                print("history %d (%s, %s): got [%s], want [%s]" %
                      (h, tz, counts, got[i] if i < len(got) else "", exp))
                bad += 1
                break
    print("%d histories, %d mismatches" % (n, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
