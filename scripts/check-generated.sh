#!/usr/bin/env bash
# Fails when a committed generated file no longer matches its source: the OpenAPI document (from the
# route schemas) and the SDK's types and operation table (from the OpenAPI document), which the web apps
# use too (they keep no copy of their own).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
node server/scripts/export-openapi.ts --check
node sdk/scripts/generate.ts --check
