#!/usr/bin/env bash
# The two halves of the push pipeline measured apart (docs/benchmarks.md):
#   1. the write path alone: POST /api/tweets/ as fast as 64 connections can, `origin serve` with
#      RUN_CONSUMERS=off and no worker (events queue up in RabbitMQ);
#   2. the fanout alone: an `origin worker` started afterwards delivers that backlog with nothing else
#      running; deliveries per second from its start to the last delivery.
# Called by bench/origin.sh with the database seeded and every timeline live; writes `write_alone_*` and
# `fanout_alone_*` lines to <out>/results.env.
#   usage: bench/capacity.sh <origin binary> <output dir>
set -euo pipefail
BIN=$1 OUT=$2
. "$(dirname "$0")/processes.sh"

RUN_CONSUMERS=off $BIN serve > "$OUT/alone-serve.log" 2>&1 & pids+=($!)
for _ in $(seq 1 200); do curl -fsS "$ADMIN/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
first_id=$(mysql -uroot -N rookery_bench -e "SELECT COALESCE(MAX(id), 0) FROM tweets")
wrk --latency -t2 -c64 -d"$BURST" -s bench/tweet.lua "$BASE/api/tweets/" > "$OUT/write_alone.txt" 2> "$OUT/write_alone.err"
read -r expected tweets < <(mysql -uroot -N rookery_bench -e "
  SELECT COALESCE(SUM(s.followers_count), 0), COUNT(*) FROM tweets t JOIN user_stats s ON s.user_id = t.user_id
  WHERE t.id > $first_id")
# Let the relay publish everything first, so the worker's time is the fanout's alone.
for _ in $(seq 1 600); do
  curl -fsS "$ADMIN/metrics" > "$OUT/.c"
  [ "$(python3 bench/prom.py value "$OUT/.c" rookery_outbox_backlog)" = 0 ] && break
  sleep 0.1
done

t0=$(now)
ADMIN_ADDR=$WORKER_ADMIN_ADDR $BIN worker > "$OUT/alone-worker.log" 2>&1 & pids+=($!)
while :; do
  if curl -fsS "http://$WORKER_ADMIN_ADDR/metrics" > "$OUT/.c" 2>/dev/null; then
    done_now=$(python3 bench/prom.py value "$OUT/.c" 'rookery_fanout_deliveries_total{action="add"}')
    awk -v d="$done_now" -v e="$expected" 'BEGIN {exit !(d >= e)}' && break
  fi
  awk -v a="$(now)" -v s="$t0" 'BEGIN {exit !(a - s > 600)}' && { echo "the worker did not finish in 600 s" >&2; break; }
  sleep 0.05
done
t1=$(now)
{
  echo "write_alone_tweets=$tweets"
  awk '/Requests\/sec/ {print "write_alone_rps=" $2} $1=="50%" {print "write_alone_p50=" $2} $1=="99%" {print "write_alone_p99=" $2}' "$OUT/write_alone.txt"
  echo "write_alone_errors=$(grep -c status "$OUT/write_alone.err" || true)"
  awk -v t0="$t0" -v t1="$t1" -v e="$expected" 'BEGIN {
    printf "fanout_alone_deliveries=%d\nfanout_alone_s=%.2f\nfanout_alone_deliveries_per_s=%.0f\n", e, t1 - t0, e / (t1 - t0)
  }'
} >> "$OUT/results.env"
grep -E "^(write|fanout)_alone_" "$OUT/results.env" | tr '\n' ' '; echo
