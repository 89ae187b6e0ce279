#!/usr/bin/env bash
# Runs, entirely under var/cluster/, a Redis Cluster (3 masters, 3 replicas) and a 3-node RabbitMQ cluster
# beside the machine's own Redis (6379) and RabbitMQ (5672, node rabbit@localhost), which it never stops,
# restarts or reconfigures. For the tests of what the origin does when a node fails.
#
#   up                        start both clusters; if they are already up and healthy, say so. Prints
#                             REDIS_CLUSTER_URLS=... and AMQP_URL=... on stdout (progress goes to stderr)
#                             and writes them to var/cluster/env
#   down                      stop every process started here, whatever state it is in, remove var/cluster
#   status                    the state of both clusters; exits non-zero unless both are healthy
#   kill-redis-master [PORT]  SIGKILL a Redis master (the lowest-port one unless PORT) and print its port
#   restart-redis PORT        start that Redis node again, once a replica has taken over its slots if it
#                             was a master (nothing is persisted); it rejoins as a replica. Waits until
#                             the whole cluster is healthy again
#   kill-rabbit N             SIGKILL RabbitMQ node N (1-3) and print its name, rookery-cN@localhost
#   restart-rabbit N...       start those RabbitMQ nodes again; waits until all three run in the cluster
#
# Redis: ports 7100-7105 (cluster bus 17100-17105). RabbitMQ: AMQP 5701-5703, distribution 25701-25703,
# nodes rookery-c1..3@localhost registered with the machine's epmd. Run as root: the RabbitMQ nodes run as
# the rabbitmq user, like the machine's own, and share its Erlang cookie, so a plain
# `rabbitmqctl -n rookery-c1@localhost ...` reaches them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SELF=$ROOT/scripts/$(basename "$0")
export PATH="$PATH:/usr/sbin:/sbin"
BASE=$ROOT/var/cluster
REDIS_PORTS=(7100 7101 7102 7103 7104 7105)
RABBIT_NODES=(1 2 3)
# The machine's own services: whatever listens on these is never signalled, whatever else goes wrong.
PROTECTED_PORTS=(6379 5672 25672 4369 15672)

log() { echo "$*" >&2; }
die() { log "cluster.sh: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

listener_pids() { # port
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

# A killed process whose parent does not reap it stays a zombie; it is gone for our purposes. But its main
# thread turns zombie while the other threads still exit and hold its sockets: all threads count.
alive() { # pid
  local task state
  for task in /proc/"$1"/task/*/stat; do
    state=$(sed -n 's/^.*) \([A-Za-z]\).*/\1/p' "$task" 2>/dev/null) || continue
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && return 0
  done
  return 1
}

protected_pids() {
  local p
  for p in "${PROTECTED_PORTS[@]}"; do listener_pids "$p"; done
}

# Signals only processes that are ours and do not serve the machine's own services.
signal() { # signal pid...
  local sig=$1 pid protected
  shift
  protected=" $(protected_pids | tr '\n' ' ') "
  for pid in "$@"; do
    [[ $protected == *" $pid "* ]] && continue
    kill "-$sig" "$pid" 2>/dev/null || true
  done
}

wait_gone() { # seconds pid... ; returns non-zero if some are still alive
  local deadline=$((SECONDS + $1)) pid left
  shift
  while :; do
    left=0
    for pid in "$@"; do
      if alive "$pid"; then left=1; fi
    done
    [ $left = 0 ] && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# Whoever holds a port after ours are stopped is not ours; the kernel may take a moment to let go, though.
port_free() { # port
  local _
  for _ in $(seq 1 25); do port_open "$1" || return 0; sleep 0.2; done
  return 1
}

# TERM, then KILL what is left: a graceful stop takes a second or two, a hung process must not block.
stop_pids() { # pid...
  [ $# -gt 0 ] || return 0
  signal TERM "$@"
  wait_gone 10 "$@" && return 0
  signal KILL "$@"
  wait_gone 5 "$@" || log "some processes would not die: $*"
}

# ---------------------------------------------------------------------------------------------- Redis

redis_dir() { echo "$BASE/redis/$1"; }
rcli() { timeout 5 redis-cli -h 127.0.0.1 -p "$@" 2>/dev/null; }
# (Whole outputs are captured and then matched: `... | grep -q` or `| head` can end a pipeline with SIGPIPE.)
redis_role() { local out; out=$(rcli "$1" role) || return 1; echo "${out%%$'\n'*}"; }
is_redis_port() { [[ " ${REDIS_PORTS[*]} " == *" $1 "* ]]; }

is_our_redis() { # pid port
  local cmdline
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = redis-server ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline =~ 127\.0\.0\.1:$2( |$) ]]
}

# The redis-server serving a port: by its pidfile, else by whoever listens on the port or its bus port.
# (The loops below end in `if`, not `&&`: a while loop takes its last command's status, and a failed
# pipeline would end the script under set -e.)
redis_pids() { # port
  local port=$1 pid
  {
    pid=$(cat "$(redis_dir "$port")/redis.pid" 2>/dev/null || true)
    [ -n "$pid" ] && echo "$pid"
    listener_pids "$port"
    listener_pids $((port + 10000))
  } | sort -u | while read -r pid; do
    if is_our_redis "$pid" "$port" && alive "$pid"; then echo "$pid"; fi
  done
  return 0
}

redis_start() { # port
  local dir
  dir=$(redis_dir "$1")
  mkdir -p "$dir"
  # The replica validity factor 0 lets a replica take over however long its master has been gone, and the
  # diskless sync delay 0 spares five seconds per full sync: failover in tests should be fast, not careful.
  redis-server --port "$1" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --cluster-replica-validity-factor 0 --repl-diskless-sync-delay 0 \
    --save "" --appendonly no --maxmemory 256mb >/dev/null 9<&-
}

redis_wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until [ "$(rcli "$1" ping)" = PONG ]; do
    if [ $SECONDS -ge $deadline ]; then
      log "Redis on port $1 did not come up; see $(redis_dir "$1")/redis.log"
      return 1
    fi
    sleep 0.2
  done
}

# Healthy: every node answers with cluster_state:ok and all slots served, three masters, each with a
# replica whose replication link is up.
redis_healthy() {
  local port info repl masters=0
  for port in "${REDIS_PORTS[@]}"; do
    [ -f "$(redis_dir "$port")/nodes.conf" ] || return 1
    info=$(rcli "$port" cluster info) || return 1
    grep -q '^cluster_state:ok' <<<"$info" || return 1
    grep -q '^cluster_slots_ok:16384' <<<"$info" || return 1
    repl=$(rcli "$port" info replication) || return 1
    if grep -q '^role:master' <<<"$repl"; then
      masters=$((masters + 1))
      grep -Eq '^connected_slaves:[1-9]' <<<"$repl" || return 1
    else
      grep -q '^master_link_status:up' <<<"$repl" || return 1
    fi
  done
  [ $masters = 3 ]
}

redis_wait_healthy() { # seconds
  local deadline=$((SECONDS + $1))
  until redis_healthy; do
    [ $SECONDS -ge $deadline ] && { log "the Redis cluster did not become healthy in $1 s"; return 1; }
    sleep 0.5
  done
}

redis_all_pids() {
  local port
  for port in "${REDIS_PORTS[@]}"; do redis_pids "$port"; done
}

redis_down() {
  local pids
  mapfile -t pids < <(redis_all_pids)
  stop_pids "${pids[@]}"
  rm -rf "$BASE/redis"
}

redis_up() {
  local port nodes=()
  redis_down
  for port in "${REDIS_PORTS[@]}"; do
    port_free "$port" && port_free $((port + 10000)) && continue
    die "port $port or $((port + 10000)) is taken by a process this script did not start"
  done
  log "starting the Redis cluster on ports ${REDIS_PORTS[0]}-${REDIS_PORTS[-1]}"
  for port in "${REDIS_PORTS[@]}"; do redis_start "$port"; done
  for port in "${REDIS_PORTS[@]}"; do redis_wait_port "$port" 30; done
  for port in "${REDIS_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
    >"$BASE/redis/create.log" 2>&1; then
    tail -20 "$BASE/redis/create.log" >&2
    die "redis-cli --cluster create failed"
  fi
  redis_wait_healthy 60
}

# Nothing is persisted: a master started again before a replica took over its slots comes back empty, and
# its replica then copies the emptiness. So wait for the failover (a few seconds) while one is possible.
redis_wait_failed_over() { # port seconds
  local id deadline=$((SECONDS + $2)) other line
  id=$(awk '/myself/ {print $1}' "$(redis_dir "$1")/nodes.conf")
  while :; do
    line=""
    for other in "${REDIS_PORTS[@]}"; do
      [ "$other" = "$1" ] && continue
      line=$(rcli "$other" cluster nodes | awk -v id="$id" '$1 == id') && [ -n "$line" ] && break
    done
    # Fields past the eighth are the slots it still serves; none means a replica took over (or it had none).
    [ -n "$line" ] && [ "$(awk '{print NF}' <<<"$line")" -le 8 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      log "no replica took over the slots of $1 in $2 s: starting it anyway (those slots come back empty)"
      return 0
    fi
    sleep 0.2
  done
}

redis_masters() { # ports of the live masters
  local port
  for port in "${REDIS_PORTS[@]}"; do
    if [ "$(redis_role "$port")" = master ]; then echo "$port"; fi
  done
  return 0
}

# -------------------------------------------------------------------------------------------- RabbitMQ

rabbit_node() { echo "rookery-c$1@localhost"; }
rabbit_dir() { echo "$BASE/rabbitmq/$1"; }
# rabbitmqctl run as root drops to the rabbitmq user (Debian's wrapper), whose home holds the cookie.
# With fd 9 closed like the servers: an Erlang CLI starts epmd when none runs, and epmd would keep the lock.
rctl() { timeout 60 rabbitmqctl -q "$@" 9<&-; }

# beam.smp's command line does not carry the node name, so each node is started with a marker argument.
rabbit_marker() { echo "-rookery_cluster_node $1"; }

is_our_beam() { # pid n
  local cmdline
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = beam.smp ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *" $(rabbit_marker "$2") "* ]]
}

# The beam.smp of node n: by its pidfile, its ports, its marker.
rabbit_pids() { # n
  local n=$1 pid
  {
    pid=$(cat "$(rabbit_dir "$n")/rabbit.pid" 2>/dev/null || true)
    [ -n "$pid" ] && echo "$pid"
    listener_pids $((5700 + n))
    listener_pids $((25700 + n))
    pgrep -f -- "$(rabbit_marker "$n") " || true
  } | sort -u | while read -r pid; do
    if is_our_beam "$pid" "$n" && alive "$pid"; then echo "$pid"; fi
  done
  return 0
}

rabbit_prepare() { # n
  local dir
  dir=$(rabbit_dir "$1")
  mkdir -p "$dir/mnesia" "$dir/log"
  # The memory watermark is absolute, as a fraction of this shared machine's RAM would be gigabytes per
  # node; the quorum queue WAL is kept well under it, as its default (512 MB) is held in memory.
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$((5700 + $1))
cluster_name = rookery-cluster
vm_memory_high_watermark.absolute = 512MB
disk_free_limit.absolute = 50MB
raft.wal_max_size_bytes = 64000000
CONF
  # No plugins: the management listener would clash with the machine's own on 15672.
  echo '[].' >"$dir/enabled_plugins"
  # Stands in for /etc/rabbitmq/rabbitmq-env.conf, which names the machine's node and would be read too.
  : >"$dir/rabbitmq-env.conf"
  chown -R rabbitmq:rabbitmq "$BASE/rabbitmq"
}

rabbit_start() { # n
  local n=$1 dir node marker inherited
  dir=$(rabbit_dir "$n")
  node=$(rabbit_node "$n")
  marker=$(rabbit_marker "$n")
  [ -f "$dir/rabbitmq.conf" ] || die "$dir is missing: run up"
  # A killed node leaves its pidfile; the wait for the new one must not take it for a node that died.
  rm -f "$dir/rabbit.pid"
  # In a subshell with the caller's RabbitMQ and Erlang settings cleared: only these apply. The wrapper
  # runs the server as the rabbitmq user with HOME=/var/lib/rabbitmq (the cookie rabbitmqctl uses).
  (
    mapfile -t inherited < <(compgen -e | grep '^RABBITMQ_' || true)
    unset ERL_FLAGS ERL_AFLAGS ERL_ZFLAGS "${inherited[@]}"
    export RABBITMQ_NODENAME=$node RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf \
      RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config \
      RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
      RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_PID_FILE=$dir/rabbit.pid \
      RABBITMQ_DIST_PORT=$((25700 + n)) ERL_CRASH_DUMP=$dir/log/erl_crash.dump ERL_EPMD_ADDRESS=127.0.0.1 \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} $marker"
    rabbitmq-server -detached >>"$dir/log/startup.log" 2>&1 9<&-
  ) || die "rabbitmq-server would not start node $n; see $dir/log"
}

# Booted: its AMQP listener is open (among the last boot steps) and rabbitmqctl agrees.
rabbit_wait_booted() { # n seconds
  local n=$1 deadline=$((SECONDS + $2)) dir pid
  dir=$(rabbit_dir "$n")
  until port_open $((5700 + n)); do
    pid=$(cat "$dir/rabbit.pid" 2>/dev/null || true)
    if [ $SECONDS -ge $deadline ] || { [ -n "$pid" ] && ! alive "$pid"; }; then
      tail -20 "$dir/log/$(rabbit_node "$n").log" >&2 2>/dev/null || true
      log "RabbitMQ node $(rabbit_node "$n") did not come up; see $dir/log"
      return 1
    fi
    sleep 0.5
  done
  rctl -n "$(rabbit_node "$n")" await_startup --timeout 60 >/dev/null
}

# The nodes running in the cluster, as the first node that answers sees them.
rabbit_running() {
  local n json
  for n in "${RABBIT_NODES[@]}"; do
    port_open $((25700 + n)) || continue
    # Bounded: a node that hangs (rather than dies) stalls the others' answers for the net tick time.
    json=$(timeout 15 rabbitmqctl -q -n "$(rabbit_node "$n")" cluster_status --formatter json \
      2>/dev/null 9<&-) || continue
    grep -o '"running_nodes":\[[^]]*\]' <<<"$json" | grep -o 'rookery-c[0-9]*@[^"]*' | sort || true
    return 0
  done
  return 1
}

rabbit_healthy() {
  local n
  for n in "${RABBIT_NODES[@]}"; do
    [ -f "$(rabbit_dir "$n")/rabbitmq.conf" ] || return 1
    port_open $((5700 + n)) || return 1
  done
  [ "$(rabbit_running 2>/dev/null | wc -l)" = ${#RABBIT_NODES[@]} ]
}

rabbit_wait_clustered() { # seconds
  local deadline=$((SECONDS + $1))
  until rabbit_healthy; do
    if [ $SECONDS -ge $deadline ]; then
      log "the RabbitMQ cluster did not reach ${#RABBIT_NODES[@]} running nodes in $1 s"
      return 1
    fi
    sleep 1
  done
}

rabbit_all_pids() {
  local n
  for n in "${RABBIT_NODES[@]}"; do rabbit_pids "$n"; done
}

rabbit_down() {
  local pids
  mapfile -t pids < <(rabbit_all_pids)
  stop_pids "${pids[@]}"
  rm -rf "$BASE/rabbitmq"
}

rabbit_start_all() {
  local n port
  rabbit_down
  for n in "${RABBIT_NODES[@]}"; do
    for port in $((5700 + n)) $((25700 + n)); do
      port_free "$port" || die "port $port is taken by a process this script did not start"
    done
  done
  log "starting RabbitMQ nodes $(rabbit_node 1) .. $(rabbit_node "${RABBIT_NODES[-1]}")"
  for n in "${RABBIT_NODES[@]}"; do rabbit_prepare "$n"; done
  for n in "${RABBIT_NODES[@]}"; do rabbit_start "$n"; done
}

rabbit_form_cluster() {
  local n first
  first=$(rabbit_node "${RABBIT_NODES[0]}")
  for n in "${RABBIT_NODES[@]}"; do rabbit_wait_booted "$n" 120; done
  for n in "${RABBIT_NODES[@]:1}"; do
    log "joining $(rabbit_node "$n") to $first"
    # join_cluster logs spurious errors about tracking tables of the stopped node: kept out of sight.
    if ! { rctl -n "$(rabbit_node "$n")" stop_app && rctl -n "$(rabbit_node "$n")" join_cluster "$first" &&
      rctl -n "$(rabbit_node "$n")" start_app; } >>"$(rabbit_dir "$n")/log/join.log" 2>&1; then
      tail -20 "$(rabbit_dir "$n")/log/join.log" >&2
      die "$(rabbit_node "$n") could not join $first"
    fi
  done
  rabbit_wait_clustered 60
}

# ------------------------------------------------------------------------------------------- commands

env_lines() {
  local urls="" port n
  for port in "${REDIS_PORTS[@]}"; do urls+=",redis://127.0.0.1:$port"; done
  echo "REDIS_CLUSTER_URLS=${urls#,}"
  urls=""
  for n in "${RABBIT_NODES[@]}"; do urls+=",amqp://guest:guest@127.0.0.1:$((5700 + n))/%2f"; done
  echo "AMQP_URL=${urls#,}"
}

cmd_up() {
  local redis_ok=false rabbit_ok=false
  redis_healthy && redis_ok=true
  rabbit_healthy && rabbit_ok=true
  if $redis_ok && $rabbit_ok; then
    log "the Redis and RabbitMQ clusters are already up and healthy"
  else
    mkdir -p "$BASE"
    # RabbitMQ boots slowly: start its nodes first and build the Redis cluster meanwhile.
    $rabbit_ok || rabbit_start_all
    $redis_ok || redis_up
    $rabbit_ok || rabbit_form_cluster
    log "the Redis and RabbitMQ clusters are up"
  fi
  env_lines >"$BASE/env"
  env_lines
}

cmd_down() {
  local pids
  # All at once: a hung process costs the TERM timeout once, not once per cluster.
  mapfile -t pids < <(redis_all_pids; rabbit_all_pids)
  stop_pids "${pids[@]}"
  rm -rf "$BASE"
  log "the Redis and RabbitMQ clusters are down"
}

cmd_status() {
  local port n ok=0 running state
  for port in "${REDIS_PORTS[@]}"; do
    state=down
    [ "$(rcli "$port" ping)" = PONG ] &&
      state="$(redis_role "$port"), $(rcli "$port" cluster info | grep '^cluster_state' | tr -d '\r')"
    echo "redis $port: $state"
  done
  state="NOT healthy"
  redis_healthy && state=healthy || ok=1
  echo "redis cluster: $state"
  for n in "${RABBIT_NODES[@]}"; do
    state=down
    port_open $((5700 + n)) && state=up
    echo "rabbitmq $(rabbit_node "$n"): $state"
  done
  running=$(rabbit_running 2>/dev/null | paste -sd ' ' || true)
  echo "rabbitmq running nodes: ${running:-none}"
  state="NOT healthy"
  rabbit_healthy && state=healthy || ok=1
  echo "rabbitmq cluster: $state"
  return $ok
}

cmd_kill_redis_master() { # [port]
  local port=${1:-} pids masters
  masters=" $(redis_masters | tr '\n' ' ')"
  if [ -z "$port" ]; then
    port=$(awk '{print $1}' <<<"$masters")
    [ -n "$port" ] || die "no live Redis master"
  else
    [[ $masters == *" $port "* ]] || die "$port is not a live Redis master"
  fi
  mapfile -t pids < <(redis_pids "$port")
  [ ${#pids[@]} -gt 0 ] || die "no redis-server process found for port $port"
  signal KILL "${pids[@]}"
  wait_gone 5 "${pids[@]}" || die "redis-server on port $port did not die"
  echo "$port"
}

cmd_restart_redis() { # port
  local port=${1:?usage: cluster.sh restart-redis PORT}
  is_redis_port "$port" || die "$port is not one of ${REDIS_PORTS[*]}"
  [ -f "$(redis_dir "$port")/nodes.conf" ] || die "no cluster state for port $port: run up"
  if [ -n "$(redis_pids "$port")" ]; then
    log "redis $port is already running"
  else
    redis_wait_failed_over "$port" 20
    redis_start "$port"
    redis_wait_port "$port" 30
  fi
  redis_wait_healthy 60
  log "redis $port is back: $(redis_role "$port")"
}

check_node() {
  [[ " ${RABBIT_NODES[*]} " == *" $1 "* ]] || die "no RabbitMQ node '$1' (1-${#RABBIT_NODES[@]})"
}

cmd_kill_rabbit() { # n
  local n=${1:?usage: cluster.sh kill-rabbit N} pids
  check_node "$n"
  mapfile -t pids < <(rabbit_pids "$n")
  [ ${#pids[@]} -gt 0 ] || die "$(rabbit_node "$n") is not running"
  signal KILL "${pids[@]}"
  wait_gone 5 "${pids[@]}" || die "$(rabbit_node "$n") did not die"
  rabbit_node "$n"
}

cmd_restart_rabbit() { # n...
  local n
  [ $# -gt 0 ] || die "usage: cluster.sh restart-rabbit N..."
  for n in "$@"; do check_node "$n"; done
  # Started together: a node that was not the last to stop waits at boot for its peers.
  for n in "$@"; do
    if [ -n "$(rabbit_pids "$n")" ]; then
      log "$(rabbit_node "$n") is already running"
    else
      rabbit_start "$n"
    fi
  done
  for n in "$@"; do rabbit_wait_booted "$n" 120; done
  rabbit_wait_clustered 60
  for n in "$@"; do log "$(rabbit_node "$n") is back in the cluster"; done
}

[ "$(id -u)" = 0 ] || die "run as root: the RabbitMQ nodes are started as the rabbitmq user"
if ! command -v redis-server >/dev/null || ! command -v rabbitmq-server >/dev/null; then
  die "redis-server and rabbitmq-server must be installed"
fi

cmd=${1:-}
[ $# -gt 0 ] && shift
# One command at a time (tests may call up concurrently): a lock on this file, which outlives var/cluster.
# The servers are started with fd 9 closed, or the daemons would hold the lock for as long as they run.
if [ "$cmd" != status ]; then
  exec 9<"$SELF"
  flock -w 300 9 || die "another cluster.sh command has held the lock for 5 minutes"
fi
case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill-redis-master) cmd_kill_redis_master "$@" ;;
  restart-redis) cmd_restart_redis "$@" ;;
  kill-rabbit) cmd_kill_rabbit "$@" ;;
  restart-rabbit) cmd_restart_rabbit "$@" ;;
  *) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
