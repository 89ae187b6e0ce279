#!/usr/bin/env python3
"""Reads Prometheus text dumps of the origin's /metrics for the benchmark scripts.

  prom.py value <dump> <series>              one sample's value (0 when absent)
  prom.py lag <before> <after>               fanout lag quantiles between two dumps (histogram deltas)
"""
import re
import sys

LAG = "rookery_fanout_delivery_lag_seconds"


def samples(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            out[name.strip()] = float(value)
    return out


def buckets(dump):
    found = []
    for name, value in dump.items():
        m = re.fullmatch(LAG + r'_bucket\{le="([^"]+)"\}', name)
        if m:
            found.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), value))
    return sorted(found)


def quantile(q, deltas, total):
    """Linear interpolation inside the bucket, as PromQL's histogram_quantile does."""
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, cumulative in deltas:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return lower


def main():
    command = sys.argv[1]
    if command == "value":
        value = samples(sys.argv[2]).get(sys.argv[3], 0.0)
        print(int(value) if value.is_integer() else repr(value))
    elif command == "lag":
        before, after = buckets(samples(sys.argv[2])), buckets(samples(sys.argv[3]))
        prior = dict(before)
        deltas = [(bound, value - prior.get(bound, 0.0)) for bound, value in after]
        total = deltas[-1][1] if deltas else 0
        if not total:
            print("lag_count=0")
            return
        print("lag_count=%d" % total)
        for q in (0.5, 0.9, 0.99, 0.999):
            print("lag_p%s=%.3f" % (str(q * 100).rstrip("0").rstrip(".").replace(".", "_"), quantile(q, deltas, total)))
        # The bucket holding the slowest delivery: the first bound every observation is under.
        worst = next(bound for bound, cumulative in deltas if cumulative >= total)
        print("lag_max_under=%s" % ("+Inf" if worst == float("inf") else "%g" % worst))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
