# Sourced by the benchmark scripts that start origin processes: where they listen, and stopping every
# process they started (on exit, whatever happens).
BURST="${BURST:-30s}"
BASE="http://127.0.0.1:${PORT:-8100}"
ADMIN="http://${ADMIN_ADDR:-127.0.0.1:9100}"
WORKER_ADMIN_ADDR="${WORKER_ADMIN_ADDR:-127.0.0.1:9200}"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
now() { date +%s.%N; }
