#!/usr/bin/env bash
# Fails when a committed generated file no longer matches its source: the OpenAPI document (from the
# route schemas), the web apps' API types and the SDK's types and operation table (from the OpenAPI document).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node server/scripts/export-openapi.ts --check
tmp=$(mktemp --suffix=.d.ts)
trap 'rm -f "$tmp"' EXIT
npx openapi-typescript server/openapi.json -o "$tmp" >/dev/null 2>&1
if ! cmp -s "$tmp" web/src/shared/api/schema.d.ts; then
  echo "web/src/shared/api/schema.d.ts is stale: run \`npm run generate:api -w web\`" >&2
  exit 1
fi
node sdk/scripts/generate.ts --check
