#!/usr/bin/env bash
# Ingest benchmark: healthz rate vs durable submission rate, on SQLite and PostgreSQL.
# Installs wrk if missing, builds the release binary, then runs bench/ingest.py.
#   bench/ingest.sh [--backends sqlite,postgres] [--seconds 10] [--connections 64]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/readiness-target}"

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL must run on 127.0.0.1:5432 (see .ci/run)" >&2
  exit 1
fi
cargo build --release -p readiness-api --bin readiness
export READINESS_BIN="$CARGO_TARGET_DIR/release/readiness"
exec python3 bench/ingest.py "$@"
