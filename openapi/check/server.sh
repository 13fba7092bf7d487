# Sourced by the checks in this folder: starts the `readiness` server on a fresh SQLite file on
# a free port, creates one key of each role, and stops the server when the shell exits.
#
# After `start_server`, these are set: READINESS_URL, READINESS_ADMIN_KEY,
# READINESS_ANALYST_KEY, READINESS_COLLECTOR_KEY.
# READINESS_BIN names the binary (default: the debug build in $CARGO_TARGET_DIR or target/).
# Extra arguments are passed to `readiness serve`.

server_scratch=""
server_pid=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  if [ -n "$server_scratch" ]; then
    rm -rf "$server_scratch"
    server_scratch=""
  fi
}

start_server() {
  local root bin port url log
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  bin="${READINESS_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/readiness}"
  if [ ! -x "$bin" ]; then
    echo "no readiness binary at $bin; run 'cargo build -p readiness-api' or set READINESS_BIN" >&2
    return 1
  fi
  server_scratch="$(mktemp -d "${TMPDIR:-/tmp}/readiness-check.XXXXXX")"
  url="sqlite://$server_scratch/readiness.db?mode=rwc"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  trap stop_server EXIT
  READINESS_ADMIN_KEY="$("$bin" keys create --role admin --name check-admin --database-url "$url")"
  READINESS_ANALYST_KEY="$("$bin" keys create --role analyst --name check-analyst --database-url "$url")"
  READINESS_COLLECTOR_KEY="$("$bin" keys create --role collector --name check-collector --database-url "$url")"
  log="$server_scratch/server.log"
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$url" --log-format json "$@" >"$log" 2>&1 &
  server_pid=$!
  READINESS_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if curl -fsS "$READINESS_URL/readyz" >/dev/null 2>&1; then
      export READINESS_URL READINESS_ADMIN_KEY READINESS_ANALYST_KEY READINESS_COLLECTOR_KEY
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server exited; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the server did not become ready on $READINESS_URL; its log:" >&2
  cat "$log" >&2
  return 1
}
