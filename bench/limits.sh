#!/usr/bin/env bash
# The machine's own limits, measured in the same run as Rookery's figures (docs/benchmarks.md):
#   - MariaDB: single-row durable transactions per second (mysqlslap, autocommit INSERTs, 16 and 64 clients);
#   - Redis: pipelined EVALs per second of a ZADD plus a trim on one key (redis-benchmark -P 100), and
#     plain pipelined ZADDs per second.
# Uses its own schema (rookery_slap) and key (bench:slap), removed at the end.
#   usage: bench/limits.sh <output dir>
set -euo pipefail
OUT=$1
QUERIES="${SLAP_QUERIES:-100000}"

cleanup() {
  mysql -uroot -e "DROP DATABASE IF EXISTS rookery_slap" 2>/dev/null || true
  redis-cli DEL bench:slap >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

best=0
for clients in 16 64; do
  secs=$(mysqlslap -uroot -h127.0.0.1 --create-schema=rookery_slap --concurrency="$clients" --iterations=1 \
      --number-of-queries="$QUERIES" \
      --create="CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB" \
      --query="INSERT INTO t (v) VALUES (1)" 2>/dev/null \
    | awk '/Average number of seconds to run all queries/ {print $(NF-1)}')
  rate=$(awk -v q="$QUERIES" -v s="$secs" 'BEGIN {printf "%d", q / s}')
  echo "mysqlslap: $clients clients, $QUERIES autocommit INSERTs in $secs s: $rate commits/s"
  [ "$rate" -gt "$best" ] && best=$rate
done
echo "mysql_commits_per_s=$best" >> "$OUT/results.env"

script="redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1]) redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -801) return 1"
eval_rate=$(redis-benchmark -P 100 -n 2000000 -r 100000000 -q EVAL "$script" 1 bench:slap __rand_int__ 2>/dev/null \
  | tr '\r' '\n' | awk '/requests per second/ {for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1)} END {printf "%d", v}')
redis-cli DEL bench:slap >/dev/null
zadd_rate=$(redis-benchmark -P 100 -n 4000000 -r 100000000 -q ZADD bench:slap __rand_int__ __rand_int__ 2>/dev/null \
  | tr '\r' '\n' | awk '/requests per second/ {for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1)} END {printf "%d", v}')
echo "redis-benchmark -P 100: EVAL (ZADD + trim, one key) $eval_rate/s, ZADD $zadd_rate/s"
echo "redis_evals_per_s=$eval_rate" >> "$OUT/results.env"
echo "redis_zadds_per_s=$zadd_rate" >> "$OUT/results.env"
