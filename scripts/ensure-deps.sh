#!/usr/bin/env bash
# Installs the workspace's dependencies when node_modules is missing or older than package-lock.json.
# Expects Node 24 on PATH (run it through scripts/node24.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "Installing dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund >&2
fi
