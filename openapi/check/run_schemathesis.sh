#!/usr/bin/env bash
# Property-based tests of every operation in openapi/openapi.json against a live server on a
# fresh SQLite file, with every check schemathesis has (`--checks all`): no server error,
# every status, content type, header and body as documented, every request the document
# allows accepted and every one it forbids refused. `schemathesis.toml` holds the settings and
# `hooks.py` the rules JSON Schema cannot state (each is documented there).
#
# The server keeps its rate limiter, with a limit high enough that the run is never limited
# (the limiter itself is tested in the Rust suite). The main pass sends the admin key, which
# may call every operation; shorter passes send no key, a collector key and an analyst key.
#
# Needs the Python tools of requirements.txt on PATH (see check_all.sh) and a built server
# (READINESS_BIN, or the debug build). SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED
# override the defaults.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=server.sh
. "$here/server.sh"

# Private targets are allowed so that a valid webhook registration can name 127.0.0.1.
start_server --rate-limit-per-minute 1000000 --webhooks-allow-private

# Margins listing every size band and industry, which valid weighted reports use (hooks.py).
python3 - "$root/openapi/openapi.json" >"$server_scratch/every-category.json" <<'PY'
import json, sys
schemas = json.load(open(sys.argv[1]))["components"]["schemas"]
margins = {dimension: {code: 1000 for code in schemas[name]["enum"]}
           for dimension, name in (("size_band", "SizeBand"), ("industry", "IndustryCode"))}
print(json.dumps({"name": "every-category", "margins": margins}))
PY
curl -fsS -o /dev/null -X POST "$READINESS_URL/api/v1/populations" \
  -H "Authorization: Bearer $READINESS_ADMIN_KEY" -H "Content-Type: application/json" \
  --data-binary "@$server_scratch/every-category.json"

report_dir="${SCHEMATHESIS_REPORT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")}"
mkdir -p "$report_dir"

# One pass: NAME, examples per operation, the phases, then the key to send (none when empty).
pass() {
  local name="$1" examples="$2" phases="$3" key="$4"
  local auth=()
  [ -n "$key" ] && auth=(--header "Authorization: Bearer $key")
  printf '\n--- schemathesis as %s, up to %s examples per operation\n' "$name" "$examples"
  SCHEMATHESIS_HOOKS="$here/hooks.py" schemathesis --config-file "$here/schemathesis.toml" \
    run "$root/openapi/openapi.json" \
    --url "$READINESS_URL" \
    "${auth[@]}" \
    --checks all \
    --seed "${SCHEMATHESIS_SEED:-20261128}" \
    --max-examples "$examples" \
    --phases "$phases" \
    --workers 1 \
    --no-color \
    --report junit,ndjson \
    --report-dir "$report_dir/$name" \
    --suppress-health-check too_slow,filter_too_much
}

# The admin key reaches every operation's logic; the other passes check the refusals (401
# without a key, 403 with a key of too small a role) and what each role may do. The analyst
# pass leaves out the coverage phase: an analyst reads the same reports as an admin, whose
# pass already tried every parameter's boundaries (on a debug build, again would take over
# ten minutes for nothing new).
status=0
all=examples,coverage,fuzzing
pass admin "${SCHEMATHESIS_MAX_EXAMPLES:-50}" "$all" "$READINESS_ADMIN_KEY" || status=1
pass anonymous 10 "$all" "" || status=1
pass collector 10 "$all" "$READINESS_COLLECTOR_KEY" || status=1
pass analyst 10 examples,fuzzing "$READINESS_ANALYST_KEY" || status=1
cp "$server_scratch/server.log" "$report_dir/server.log"
echo "schemathesis reports and the server log: $report_dir"
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed; the server's errors and warnings:" >&2
  grep -E "\"level\":\"(ERROR|WARN)\"" "$server_scratch/server.log" | tail -n 20 >&2 || true
fi
exit "$status"
