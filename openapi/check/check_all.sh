#!/usr/bin/env bash
# Every contract check, in the order CI runs them; fails on the first failing check.
#
#   1. openapi/openapi.json is valid OpenAPI 3.1 (openapi-spec-validator);
#   2. schemathesis over every operation, on its own fresh server;
#   3. on one more fresh server (with one dashboard origin in --cors-origins): Swagger UI in
#      headless Chromium, a dashboard page on another origin calling the API (CORS), then the generated
#      TypeScript client (tsc --noEmit, then its flow) and the generated Python client (pytest),
#      then, after `readiness demo --firms 5000`, the HTML report page in headless Chromium
#      through a share link (screenshot `report.png`), and the self-assessment pages filled in
#      by keyboard in both languages with axe-core on every page (screenshots in `assess/`).
#
# Installs what it needs idempotently: Debian's chromium and CJK fonts if missing, the pinned Python tools
# into a virtualenv (READINESS_VENV, default /var/tmp/readiness-venv), and the npm lock files
# with `npm ci`. Needs a built server: READINESS_BIN, or the debug build in $CARGO_TARGET_DIR.
# Artefacts (schemathesis reports, the server logs, the Swagger UI and report screenshots) go to
# READINESS_CHECK_ARTEFACTS (default: a new temporary directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
artefacts="${READINESS_CHECK_ARTEFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/readiness-checks.XXXXXX")}"
mkdir -p "$artefacts"

part() { printf '\n-- %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

part "tools"
# Chromium, and fonts with Chinese characters for the zh-Hans pages.
if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
venv="${READINESS_VENV:-/var/tmp/readiness-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
export PATH="$venv/bin:$PATH"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root/openapi/clients/typescript" && npm ci --no-audit --no-fund --loglevel=error)

part "openapi-spec-validator"
openapi-spec-validator "$root/openapi/openapi.json"

part "schemathesis"
SCHEMATHESIS_REPORT_DIR="$artefacts/schemathesis" "$here/run_schemathesis.sh"

# shellcheck source=server.sh
. "$here/server.sh"
dashboard_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The client flows read reports right after their submissions, and the dashboard check reads
# one just before them: every report reads what is committed (no staleness allowed).
start_server --cors-origins "http://127.0.0.1:$dashboard_port" --report-refresh-ms 0
trap 'cp "$server_scratch/server.log" "$artefacts/clients-server.log" 2>/dev/null || true; stop_server' EXIT

part "Swagger UI in headless Chromium"
(cd "$here" && SCREENSHOT="$artefacts/swagger-ui.png" node swagger_ui.mjs)

part "CORS: a dashboard on another origin in headless Chromium"
(cd "$here" && DASHBOARD_PORT="$dashboard_port" node cors.mjs)

part "TypeScript client"
(
  cd "$root/openapi/clients/typescript"
  npm run --silent generate
  npx tsc --noEmit
  npm run --silent flow
)

part "Python client"
"$root/openapi/clients/python/generate.sh" >"$artefacts/python-generate.log" 2>&1 || {
  cat "$artefacts/python-generate.log" >&2
  exit 1
}
python -m pytest -q -p no:cacheprovider "$root/openapi/clients/python"

part "Report page in headless Chromium"
bin="${READINESS_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/readiness}"
"$bin" demo --firms 5000 --database-url "sqlite://$server_scratch/readiness.db?mode=rwc" 2>/dev/null
(cd "$here" && SCREENSHOT="$artefacts/report.png" node report_page.mjs)

# `demo` made ai-readiness public and gave the result pages peers to compare with.
part "Self-assessment pages in headless Chromium (keyboard only, axe-core, both languages)"
(cd "$here" && ARTEFACTS="$artefacts/assess" node assess_pages.mjs)

part "contract checks passed; artefacts in $artefacts"
