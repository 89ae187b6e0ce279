#!/usr/bin/env bash
# Origin benchmarks (`make bench`; docs/benchmarks.md): the machine's own limits, feed reads against the
# trivial endpoint, the write path with the fanout behind it in both deployments, and one author with
# 100,000 followers. Uses its own database (rookery_bench), Redis prefix (bench:) and RabbitMQ names
# (rookery_bench), and removes them at the end. Prints one summary table; raw output lands in var/bench/.
#
#   bash bench/origin.sh                       # everything, ~15 minutes
#   DURATION=30s BURST=60s bash bench/origin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-8100}"
OUT="${OUT:-var/bench}"
mkdir -p "$OUT"
: > "$OUT/results.env"

export DATABASE_URL="mysql://root@127.0.0.1:3306/rookery_bench"
export REDIS_PREFIX="bench:" AMQP_PREFIX="rookery_bench" RATE_LIMITS=off RUST_LOG=warn
export LISTEN_ADDR="127.0.0.1:$PORT" PUBLIC_URL="http://127.0.0.1:$PORT" ADMIN_ADDR="127.0.0.1:$((PORT + 1000))"
export WORKER_ADMIN_ADDR="127.0.0.1:$((PORT + 1100))"
export ROOKERY_ENV=development
# Push to every follower of the 100,000-follower author (the hybrid path is measured separately).
export HYBRID_THRESHOLD=1000000
export TOKENS_FILE="$ROOT/$OUT/tokens.txt"
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y -qq wrk >/dev/null; else
    echo "wrk is missing: apt-get install wrk" >&2; exit 1; fi
}

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

echo "== the machine's limits"
bash bench/limits.sh "$OUT"

echo "== seeding 10,000 users following 100 each (uniform), 100,000 tweets, 2,000 tokens"
$BIN seed --users 10000 --follows-per-user 100 --skew 0 --tweets-per-user 10 --tokens 2000 \
  --tokens-out "$TOKENS_FILE" 2>/dev/null | tail -2

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
  { echo "${name}_rps=$rps"; echo "${name}_p50=$p50"; echo "${name}_p99=$p99"; } >> "$OUT/results.env"
}

echo "== reads, $CONNECTIONS connections, $DURATION each (wrk and the origin share the 2 cores)"
run healthz -t2 -c"$CONNECTIONS" -d"$DURATION" "$BASE/healthz"
run feed -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/feed.lua "$BASE/api/newsfeeds/"
kill "$origin_pid"; wait "$origin_pid" 2>/dev/null || true; origin_pid=

echo "== the write path alone, then the fanout alone (origin worker started afterwards)"
bash bench/capacity.sh "$BIN" "$OUT"
echo "== writes and the fanout, consumers inside origin serve"
bash bench/burst.sh "$BIN" "$OUT" inline
echo "== writes and the fanout, RUN_CONSUMERS=off beside origin worker"
bash bench/burst.sh "$BIN" "$OUT" split

echo "== fanout: an author with 100,000 followers, all with a live home timeline"
bash bench/fanout.sh "$BIN" "$OUT"

python3 bench/summary.py "$OUT/results.env" | tee "$OUT/summary.md"
