#!/usr/bin/env bash
# Checks the import rules in .dependency-cruiser.cjs: no run-time import cycles, the composition root
# imported only by entry points, modules reached only through their index.ts, web apps never importing
# the server (nor do the SDK and the MCP server). The server and the web apps are cruised apart because the web resolves its own alias.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
npx depcruise server/src sdk/src mcp/src --config .dependency-cruiser.cjs --output-type err
DEPCRUISE_TSCONFIG=web/tsconfig.json npx depcruise web/src web/admin web/preferences --config .dependency-cruiser.cjs --output-type err
