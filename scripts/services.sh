#!/usr/bin/env bash
# Makes sure MariaDB/MySQL, Redis and RabbitMQ answer on their local ports, starting any that do not
# (with the commands this machine's services are installed with). Idempotent; exits non-zero if a
# service cannot be brought up.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  for _ in $(seq 1 "$3"); do port_open "$2" && return 0; sleep 1; done
  echo "$1 did not come up on port $2" >&2
  return 1
}

if ! port_open 3306; then
  echo "starting MariaDB"
  # A server that was just shut down may still be exiting; start-stop-daemon would take it for a running
  # one and start nothing. Wait for it to be gone first (a server that is starting up is waited for below).
  for _ in $(seq 1 150); do pgrep -x mariadbd >/dev/null || break; sleep 0.2; done
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_port MariaDB 3306 60
fi

if ! port_open 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379 30
fi

if ! port_open 5672; then
  # The node may be up with its application stopped (rabbitmqctl stop_app); else start the node.
  if rabbitmqctl -q start_app >/dev/null 2>&1; then
    echo "started the RabbitMQ application"
  else
    echo "starting RabbitMQ"
    rabbitmq-server -detached
  fi
  wait_port RabbitMQ 5672 120
fi
echo "MariaDB, Redis and RabbitMQ are up"
