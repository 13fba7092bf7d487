#!/usr/bin/env bash
# Property-based tests of every operation in openapi/openapi.json against a live server on a
# fresh SQLite file: no server error, every status, content type and body as documented.
#
# The server keeps its rate limiter, with a limit high enough that the run is never limited
# (the limiter itself is tested in the Rust suite). Requests carry the admin key, which may
# call every operation.
#
# Needs the Python tools of requirements.txt on PATH (see check_all.sh) and a built server
# (READINESS_BIN, or the debug build). SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED
# override the defaults.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=server.sh
. "$here/server.sh"

start_server --rate-limit-per-minute 1000000

report_dir="${SCHEMATHESIS_REPORT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")}"
mkdir -p "$report_dir"
set +e
schemathesis run "$root/openapi/openapi.json" \
  --url "$READINESS_URL" \
  --header "Authorization: Bearer $READINESS_ADMIN_KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --seed "${SCHEMATHESIS_SEED:-20261128}" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
  --phases examples,coverage,fuzzing \
  --workers 1 \
  --no-color \
  --report junit,ndjson \
  --report-dir "$report_dir" \
  --suppress-health-check too_slow,filter_too_much
status=$?
set -e
cp "$server_scratch/server.log" "$report_dir/server.log"
echo "schemathesis reports and the server log: $report_dir"
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); the server's errors and warnings:" >&2
  grep -E "\"level\":\"(ERROR|WARN)\"" "$server_scratch/server.log" | tail -n 20 >&2 || true
fi
exit "$status"
