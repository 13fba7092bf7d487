#!/usr/bin/env bash
# Generates the Python client from openapi/openapi.json into ./generated/readiness_client.
# Needs openapi-python-client (openapi/check/requirements.txt) on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$here/generated"
openapi-python-client generate \
  --path "$here/../../openapi.json" \
  --config "$here/config.yml" \
  --meta none \
  --output-path "$here/generated/readiness_client"
