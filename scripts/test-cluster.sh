#!/usr/bin/env bash
# `make test-cluster`: start the Redis and RabbitMQ clusters under var/cluster, run the cluster test
# against them, and remove them afterwards whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."

trap 'bash scripts/cluster.sh down' EXIT
bash scripts/cluster.sh up
set -a
# shellcheck disable=SC1091
source var/cluster/env
set +a
cargo build -p rookery-origin --bin origin
cargo test -p rookery-tests --features cluster --test cluster -- --nocapture
