#!/usr/bin/env bash
# Origin benchmarks for the newsfeed (see docs/benchmarks.md). Uses its own database (rookery_bench),
# Redis prefix (bench:) and RabbitMQ names (rookery_bench), and removes them at the end.
#
#   bash bench/origin.sh            # everything, ~4 minutes
#   DURATION=30s bash bench/origin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-8100}"
OUT="${OUT:-var/bench}"
mkdir -p "$OUT"

export DATABASE_URL="mysql://root@127.0.0.1:3306/rookery_bench"
export REDIS_PREFIX="bench:" AMQP_PREFIX="rookery_bench" RATE_LIMITS=off RUST_LOG=warn
export LISTEN_ADDR="127.0.0.1:$PORT" PUBLIC_URL="http://127.0.0.1:$PORT" ADMIN_ADDR="127.0.0.1:$((PORT + 1000))"
export ROOKERY_ENV=development
# Push to every follower of the 100,000-follower author (the hybrid path is measured separately).
export HYBRID_THRESHOLD=1000000
export TOKENS_FILE="$ROOT/$OUT/tokens.txt"
BASE="http://127.0.0.1:$PORT"

cleanup() {
  [ -n "${origin_pid:-}" ] && kill "$origin_pid" 2>/dev/null && wait "$origin_pid" 2>/dev/null
  mysql -uroot -e "DROP DATABASE IF EXISTS rookery_bench" || true
  redis-cli --scan --pattern 'bench:*' | xargs -r -n 1000 redis-cli del >/dev/null || true
  for q in $(rabbitmqctl -q list_queues name 2>/dev/null | grep '^rookery_bench' || true); do rabbitmqctl -q delete_queue "$q" >/dev/null; done
}
trap cleanup EXIT
cleanup

cargo build --release -p rookery-origin 2>&1 | tail -1
BIN=target/release/origin

echo "== seeding 10,000 users (20 follows each, skewed), 100,000 tweets, 2,000 tokens"
$BIN seed --users 10000 --follows-per-user 20 --tweets-per-user 10 --tokens 2000 --tokens-out "$TOKENS_FILE" 2>/dev/null | tail -2

$BIN serve > "$OUT/origin.log" 2>&1 &
origin_pid=$!
for _ in $(seq 1 100); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== warming: every user's timelines rebuilt into Redis, then one read per benchmark user"
$BIN feeds rebuild --all 2>/dev/null | tail -1
wrk -t2 -c"$CONNECTIONS" -d5s -s bench/feed.lua "$BASE/api/newsfeeds/" > /dev/null

run() { # name wrk-args...
  local name=$1; shift
  wrk --latency "$@" > "$OUT/$name.txt" 2>"$OUT/$name.err"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
  printf '%-28s %10s rps   p50 %8s   p99 %8s   non-2xx: %s\n' "$name" "$rps" "$p50" "$p99" "$(grep -c status "$OUT/$name.err" || true)"
  echo "$rps" > "$OUT/$name.rps"
}

echo "== max throughput, $CONNECTIONS connections, $DURATION each (wrk and the origin share the 2 cores)"
run trivial_healthz -t2 -c"$CONNECTIONS" -d"$DURATION" "$BASE/healthz"
run feed_warm -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/feed.lua "$BASE/api/newsfeeds/"
awk -v f="$(cat "$OUT/feed_warm.rps")" -v t="$(cat "$OUT/trivial_healthz.rps")" 'BEGIN {printf "feed / trivial rps ratio: %.2f\n", f / t}'

# ~70% of the feed's max rate: each connection pauses so that CONNECTIONS * 1000 / (delay + latency) ≈ 0.7 × max.
max=$(cat "$OUT/feed_warm.rps")
delay=$(awk -v c="$CONNECTIONS" -v m="$max" 'BEGIN {d = c * 1000 / (0.7 * m); printf "%d", d}')
echo "== feed at ~70% of max ($delay ms between requests per connection)"
DELAY_MS=$delay run feed_70pct -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/feed.lua "$BASE/api/newsfeeds/"

echo "== POST /api/tweets/ at its max rate (16 connections; the fanout runs in the same process)"
run tweet_post_max -t2 -c16 -d"$DURATION" -s bench/tweet.lua "$BASE/api/tweets/"
echo "== POST /api/tweets/ at ~100 tweets/s (8 connections, 80 ms apart) while the feed is read at ~1,000 rps"
DELAY_MS=$(( CONNECTIONS * 1000 / 1000 )) wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/feed.lua "$BASE/api/newsfeeds/" > "$OUT/background_feed.txt" 2>&1 &
bg=$!
DELAY_MS=80 run tweet_post_100 -t1 -c8 -d"$DURATION" -s bench/tweet.lua "$BASE/api/tweets/"
wait $bg

kill "$origin_pid"; wait "$origin_pid" 2>/dev/null || true; origin_pid=

echo "== fanout: an author with 100,000 followers, all with a live home timeline"
bash bench/fanout.sh "$BIN" "$OUT"
