#!/usr/bin/env bash
# The write path and the fanout behind it, in one deployment (docs/benchmarks.md):
#   inline  one `origin serve` running the consumers (the default deployment);
#   split   `origin serve` with RUN_CONSUMERS=off beside one `origin worker`.
# Phases: POST /api/tweets/ as fast as 64 connections can for $BURST (authors with ~100 followers each),
# then at about 1,000 tweets/s (HALF_RATE, half the goal's rate) with 32 connections. For each: POST throughput and latency, the fanout's
# lag (post to follower timeline, from the delivery histogram), the backlog sampled every 0.5 s, and how
# long the fanout needs after posting stops. Called by bench/origin.sh with the database seeded and every
# timeline live; writes `<mode>_*` lines to <out>/results.env.
#   usage: bench/burst.sh <origin binary> <output dir> <inline|split>
set -euo pipefail
BIN=$1 OUT=$2 MODE=$3
. "$(dirname "$0")/processes.sh"

if [ "$MODE" = split ]; then
  RUN_CONSUMERS=off $BIN serve > "$OUT/$MODE-serve.log" 2>&1 & pids+=($!)
  ADMIN_ADDR=$WORKER_ADMIN_ADDR $BIN worker > "$OUT/$MODE-worker.log" 2>&1 & pids+=($!)
  FANOUT_ADMIN="http://$WORKER_ADMIN_ADDR"
else
  $BIN serve > "$OUT/$MODE-serve.log" 2>&1 & pids+=($!)
  FANOUT_ADMIN=$ADMIN
fi
for _ in $(seq 1 200); do
  curl -fsS "$ADMIN/readyz" >/dev/null 2>&1 && curl -fsS "$FANOUT_ADMIN/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

metric() { curl -fsS "$1/metrics" > "$OUT/.m" && python3 bench/prom.py value "$OUT/.m" "$2"; }
deliveries() { metric "$FANOUT_ADMIN" 'rookery_fanout_deliveries_total{action="add"}'; }
backlog() { # outbox rows + messages ready in the plan and deliver queues, as the server last sampled them
  curl -fsS "$ADMIN/metrics" > "$OUT/.b" || { echo 0; return; }
  awk -v p="${AMQP_PREFIX}" '
    $1 == "rookery_outbox_backlog" {n += $2}
    $1 == "rookery_queue_depth{queue=\"" p ".fanout.plan\"}" || $1 == "rookery_queue_depth{queue=\"" p ".fanout.deliver\"}" {n += $2}
    END {printf "%d", n}' "$OUT/.b"
}

# Waits until the fanout is idle: the delivery counter still for 2 s and no backlog.
settle() {
  local stable=0 last=-1 current
  while [ $stable -lt 20 ]; do
    current=$(deliveries)
    if [ "$current" = "$last" ] && [ "$(backlog)" = 0 ]; then stable=$((stable + 1)); else stable=0; last=$current; fi
    sleep 0.1
  done
}

# phase <name> <wrk args...>: posts, then waits for every delivery the posted tweets owe.
phase() {
  local name=$1; shift
  settle
  local first_id before t0 t_stop t_done expected tweets
  first_id=$(mysql -uroot -N rookery_bench -e "SELECT COALESCE(MAX(id), 0) FROM tweets")
  curl -fsS "$FANOUT_ADMIN/metrics" > "$OUT/$name.before.prom"
  before=$(python3 bench/prom.py value "$OUT/$name.before.prom" 'rookery_fanout_deliveries_total{action="add"}')
  : > "$OUT/$name.backlog"
  touch "$OUT/.sampling"
  ( while [ -f "$OUT/.sampling" ]; do echo "$(now) $(backlog)" >> "$OUT/$name.backlog"; sleep 0.5; done ) &
  local sampler=$!
  t0=$(now)
  wrk --latency "$@" -s bench/tweet.lua "$BASE/api/tweets/" > "$OUT/$name.txt" 2> "$OUT/$name.err"
  t_stop=$(now)
  read -r expected tweets < <(mysql -uroot -N rookery_bench -e "
    SELECT COALESCE(SUM(s.followers_count), 0), COUNT(*) FROM tweets t JOIN user_stats s ON s.user_id = t.user_id
    WHERE t.id > $first_id")
  local target
  target=$(awk -v b="$before" -v e="$expected" 'BEGIN {printf "%d", b + e}')
  while :; do
    local done_now; done_now=$(deliveries)
    if awk -v d="$done_now" -v t="$target" 'BEGIN {exit !(d >= t)}'; then break; fi
    if awk -v a="$(now)" -v s="$t_stop" 'BEGIN {exit !(a - s > 300)}'; then echo "$name: fanout incomplete after 300 s" >&2; break; fi
    sleep 0.05
  done
  t_done=$(now)
  # Two more samples after the last delivery, then stop sampling.
  sleep 1
  rm -f "$OUT/.sampling"; wait "$sampler" 2>/dev/null || true
  curl -fsS "$FANOUT_ADMIN/metrics" > "$OUT/$name.after.prom"
  local refused
  refused=$(grep -c 'status 503' "$OUT/$name.err" || true)
  {
    echo "${name}_tweets=$tweets"
    echo "${name}_refused=$refused"
    echo "${name}_other_errors=$(grep -v 'status 503' "$OUT/$name.err" | grep -c status || true)"
    awk '/Requests\/sec/ {print "'"$name"'_rps=" $2}' "$OUT/$name.txt"
    awk '$1=="50%" {print "'"$name"'_p50=" $2} $1=="99%" {print "'"$name"'_p99=" $2}' "$OUT/$name.txt"
    awk -v t0="$t0" -v s="$t_stop" -v d="$t_done" -v n="$tweets" -v e="$expected" 'BEGIN {
      printf "'"$name"'_posted_per_s=%.0f\n", n / (s - t0)
      printf "'"$name"'_drain_s=%.2f\n", d - s
      printf "'"$name"'_deliveries=%d\n", e
      printf "'"$name"'_deliveries_per_s=%.0f\n", e / (d - t0)
    }'
    awk '{ if ($2 > m) m = $2 } END { printf "'"$name"'_backlog_max=%d\n", m }' "$OUT/$name.backlog"
    python3 bench/prom.py lag "$OUT/$name.before.prom" "$OUT/$name.after.prom" | sed "s/^/${name}_/"
  } >> "$OUT/results.env"
  grep "^${name}_" "$OUT/results.env" | tr '\n' ' '; echo
}

phase "${MODE}_max" -t2 -c64 -d"$BURST"
# Half the goal's 2,000 tweets/s: 32 connections, each pausing so that 32 * 1000 / delay ≈ HALF_RATE.
delay=$(awk -v r="${HALF_RATE:-1000}" 'BEGIN {d = 32 * 1000 / r; printf "%d", d < 1 ? 1 : d}')
DELAY_MS=$delay phase "${MODE}_half" -t2 -c32 -d"$BURST"
