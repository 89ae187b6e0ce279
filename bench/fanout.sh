#!/usr/bin/env bash
# Fanout benchmark: one author with 100,000 followers, every follower with a live home timeline in Redis.
# Measures the time from POST /api/tweets/ returning to the last follower's timeline holding the tweet,
# and deliveries per second. Called by bench/origin.sh (same database, prefixes and clean-up).
#   usage: bench/fanout.sh <origin binary> <output dir>
set -euo pipefail
BIN=$1 OUT=$2
FOLLOWERS="${FOLLOWERS:-100000}"
BASE="http://127.0.0.1:${PORT:-8100}"
ADMIN="http://${ADMIN_ADDR:-127.0.0.1:9100}"

$BIN seed --users "$FOLLOWERS" --follows-per-user 0 --tweets-per-user 0 --tokens 1 --tokens-out "$OUT/author.txt" --seed 9 2>/dev/null | tail -1
author_token=$(head -1 "$OUT/author.txt")
author=$(curl -fsS "$BASE/api/accounts/login_status/" -H "authorization: Bearer $author_token" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])' || true)
if [ -z "$author" ]; then
  # The server is not running yet: read the author's id from the database instead.
  author=$(mysql -uroot -N rookery_bench -e "SELECT s.user_id FROM sessions s ORDER BY s.id DESC LIMIT 1")
fi
echo "author $author; linking $FOLLOWERS followers"
mysql -uroot rookery_bench -e "
  INSERT INTO friendships (id, from_user_id, to_user_id, created_at)
    SELECT u.id, u.id, $author, u.created_at FROM users u
    WHERE u.id <> $author ORDER BY u.id DESC LIMIT $FOLLOWERS;
  UPDATE user_stats SET followers_count = (SELECT COUNT(*) FROM friendships WHERE to_user_id = $author) WHERE user_id = $author;"
followers=$(mysql -uroot -N rookery_bench -e "SELECT followers_count FROM user_stats WHERE user_id = $author")
echo "followers: $followers; creating their home timelines"
mysql -uroot -N rookery_bench -e "SELECT from_user_id FROM friendships WHERE to_user_id = $author" \
  | awk '{ key = "bench:tl:h:{" $1 "}"; printf "*4\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n$1\r\n0\r\n$1\r\n0\r\n", length(key), key }' \
  | redis-cli --pipe | tail -1

$BIN serve > "$OUT/origin-fanout.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -fsS "$ADMIN/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
# Warm the server up (connections to MySQL and Redis, the author's session) with reads, so the POST
# below measures the fanout and not a cold start.
for _ in 1 2 3; do
  curl -fsS "$BASE/api/newsfeeds/" -H "authorization: Bearer $author_token" >/dev/null
  curl -fsS "$BASE/api/tweets/?user_id=$author" -H "authorization: Bearer $author_token" >/dev/null
done

deliveries() { curl -fsS "$ADMIN/metrics" | awk '/^rookery_fanout_deliveries_total\{action="add"\}/ {print $2}' | head -1; }
# Let the fanout of earlier benchmark phases finish first, so only this tweet's deliveries are counted.
stable=0 last=-1
while [ $stable -lt 20 ]; do
  now=$(deliveries); now=${now:-0}
  if [ "$now" = "$last" ]; then stable=$((stable + 1)); else stable=0; last=$now; fi
  sleep 0.1
done
before=$(deliveries); before=${before:-0}
t0=$(date +%s%N)
tweet=$(curl -fsS -X POST "$BASE/api/tweets/" -H "authorization: Bearer $author_token" \
  -H 'content-type: application/json' -d '{"content": "a tweet for one hundred thousand followers"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t_posted=$(date +%s%N)
first=""
while true; do
  now=$(deliveries); now=${now:-0}
  done_count=$(awk -v a="$now" -v b="$before" 'BEGIN {printf "%d", a - b}')
  if [ -z "$first" ] && [ "$done_count" -gt 0 ]; then first=$(date +%s%N); fi
  if [ "$done_count" -ge "$followers" ]; then break; fi
  if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 120 ]; then echo "fanout incomplete after 120 s: $done_count" >&2; exit 1; fi
  sleep 0.02
done
t_done=$(date +%s%N)
holding=$(redis-cli EVAL "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do if redis.call('ZSCORE', k, ARGV[2]) then n = n + 1 end end return n" 0 'bench:tl:h:*' "$tweet")
awk -v t0="$t0" -v p="$t_posted" -v f="$first" -v d="$t_done" -v n="$followers" -v h="$holding" 'BEGIN {
  printf "POST returned after %.1f ms\n", (p - t0) / 1e6
  printf "last follower holds the tweet %.3f s after posting (%d of %d timelines hold it)\n", (d - t0) / 1e9, h, n
  printf "deliveries/s: %.0f end to end, %.0f from the first delivery on\n", n / ((d - t0) / 1e9), n / ((d - f) / 1e9)
}' | tee "$OUT/fanout.txt"
awk -v t0="$t0" -v d="$t_done" -v n="$followers" -v h="$holding" 'BEGIN {
  printf "fanout100k_s=%.3f\nfanout100k_holding=%d\nfanout100k_followers=%d\nfanout100k_deliveries_per_s=%.0f\n", (d - t0) / 1e9, h, n, n / ((d - t0) / 1e9)
}' >> "$OUT/results.env"
