#!/usr/bin/env bash
# `npm test`: lint, formatting, typecheck, generated-code checks and every test suite (server, web, docs, sdk, mcp).
# Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, default: the local servers) and Debian's
# chromium for the browser tests. Ends with one summary line "tests: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/ensure-deps.sh || exit 1

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
step() {
  local name=$1; shift
  echo "── $name" >&2
  if ! "$@"; then
    echo "✗ $name failed" >&2
    status=1
  fi
}

step lint npx eslint . --max-warnings=0
step "formatting (npm run format fixes it)" npx prettier --check . --log-level=warn
step typecheck npm run typecheck --workspaces --if-present
step "import rules" bash scripts/check-dependencies.sh
step "database types are current" node server/scripts/db-types.ts --verify
step "OpenAPI document, web and SDK API types are current" bash scripts/check-generated.sh

suite() {
  local name=$1 dir=$2
  [ -f "$dir/vitest.config.ts" ] || return 0
  step "$name tests" npx vitest run --root "$dir" --reporter=default --reporter=json --outputFile.json="$results/$name.json"
}
suite server server
suite web web
suite docs docs-site
suite sdk sdk
suite mcp mcp

node -e '
  const fs = require("node:fs"); const dir = process.argv[1];
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(dir)) {
    const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"));
    // A file that fails to load has no failed tests but must still count as a failure.
    passed += r.numPassedTests; failed += r.numFailedTests || r.numFailedTestSuites || 0; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
  console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit $status
