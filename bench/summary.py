#!/usr/bin/env python3
"""Prints the summary table of `make bench` from the key=value lines its scripts wrote."""
import sys

r = {}
with open(sys.argv[1]) as f:
    for line in f:
        key, _, value = line.strip().partition("=")
        if key:
            r[key] = value


def num(key):
    value = r.get(key, "")
    try:
        return float(value)
    except ValueError:
        return None


def ratio(a, b):
    x, y = num(a), num(b)
    return "%.2f" % (x / y) if x is not None and y else "n/a"


def verdict(ok):
    return "met" if ok else "not met"


rows = [("measurement", "result", "goal")]
rows.append(("MariaDB durable commits/s (mysqlslap, best of 16/64 clients)", r.get("mysql_commits_per_s", "?"), "machine limit"))
rows.append(("Redis pipelined EVAL (ZADD + trim) /s, -P 100", r.get("redis_evals_per_s", "?"), "machine limit"))
rows.append(("Redis pipelined ZADD /s, -P 100", r.get("redis_zadds_per_s", "?"), "machine limit"))
rows.append(("GET /healthz rps (32 conns)", "%s (p99 %s)" % (r.get("healthz_rps"), r.get("healthz_p99")), ""))
rows.append(("GET /api/newsfeeds/ rps (32 conns)", "%s (p99 %s)" % (r.get("feed_rps"), r.get("feed_p99")), ""))
feed = num("feed_rps") or 0
healthz = num("healthz_rps") or 1
rows.append(("feed / healthz", ratio("feed_rps", "healthz_rps"), "≥ 0.35: " + verdict(feed / healthz >= 0.35)))
if "write_alone_rps" in r:
    rows.append(("POST alone (64 conns, no consumers): tweets/s", "%s (p50 %s, p99 %s)" % (
        r.get("write_alone_rps"), r.get("write_alone_p50"), r.get("write_alone_p99")), ""))
    rows.append(("  POST alone / MariaDB commits/s", ratio("write_alone_rps", "mysql_commits_per_s"), ""))
    rows.append(("fanout alone (origin worker draining that backlog): deliveries/s", "%s (%s in %s s)" % (
        r.get("fanout_alone_deliveries_per_s"), r.get("fanout_alone_deliveries"), r.get("fanout_alone_s")), ""))
    rows.append(("  fanout alone / Redis EVAL/s", ratio("fanout_alone_deliveries_per_s", "redis_evals_per_s"), "≥ 0.6"))
for mode, label in (("inline", "consumers in serve"), ("split", "serve + origin worker")):
    p = mode + "_max_"
    h = mode + "_half_"
    if p + "tweets" not in r:
        continue
    posted = num(p + "posted_per_s") or 0
    lag99 = num(p + "lag_p99")
    drain = num(p + "drain_s")
    rows.append((f"[{label}] POST max (64 conns): tweets accepted/s", "%.0f (%s refused 503, p50 %s, p99 %s)" % (
        posted, r.get(p + "refused"), r.get(p + "p50"), r.get(p + "p99")), "≥ 2,000: " + verdict(posted >= 2000)))
    rows.append((f"[{label}]   tweets accepted / MariaDB commits/s", ratio(p + "posted_per_s", "mysql_commits_per_s"), ""))
    rows.append((f"[{label}]   post → follower timeline lag p50 / p90 / p99 / p99.9 (s)", "%s / %s / %s / %s (all under %s s)" % (
        r.get(p + "lag_p50"), r.get(p + "lag_p90"), r.get(p + "lag_p99"), r.get(p + "lag_p99_9"), r.get(p + "lag_max_under")),
        "p99 ≤ 2 s: " + verdict(lag99 is not None and lag99 <= 2)))
    rows.append((f"[{label}]   backlog max (outbox rows + queued messages)", r.get(p + "backlog_max", "?"), "bounded"))
    rows.append((f"[{label}]   last delivery after posting stopped (s)", r.get(p + "drain_s", "?"),
                 "≤ 2 s: " + verdict(drain is not None and drain <= 2)))
    dps = num(p + "deliveries_per_s") or 0
    rows.append((f"[{label}]   deliveries/s end to end", "%.0f (%s deliveries)" % (dps, r.get(p + "deliveries")),
                 "≥ 200,000: " + verdict(dps >= 200000)))
    rows.append((f"[{label}]   deliveries/s / Redis EVAL/s", ratio(p + "deliveries_per_s", "redis_evals_per_s"),
                 "≥ 0.6: " + verdict((num(p + "deliveries_per_s") or 0) >= 0.6 * (num("redis_evals_per_s") or 1e18))))
    half_p99 = r.get(h + "p99", "?")
    rows.append((f"[{label}] POST offered at ~1,000/s (32 conns)", "%s tweets/s accepted (%s refused), p50 %s, p99 %s, lag p99 %s s" % (
        r.get(h + "posted_per_s"), r.get(h + "refused"), r.get(h + "p50"), half_p99, r.get(h + "lag_p99")), "p99 ≤ 20 ms"))
if "fanout100k_s" in r:
    s = num("fanout100k_s")
    rows.append(("100,000-follower author: last follower holds the tweet (s)", "%s (%s of %s timelines, %s deliveries/s)" % (
        r["fanout100k_s"], r.get("fanout100k_holding"), r.get("fanout100k_followers"), r.get("fanout100k_deliveries_per_s")),
        "≤ 1 s: " + verdict(s is not None and s <= 1)))

width = [max(len(str(row[i])) for row in rows) for i in range(3)]
for n, row in enumerate(rows):
    print("| " + " | ".join(str(c).ljust(width[i]) for i, c in enumerate(row)) + " |")
    if n == 0:
        print("|" + "|".join("-" * (w + 2) for w in width) + "|")
