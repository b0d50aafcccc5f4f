#!/usr/bin/env bash
# `npm start`: everything a developer needs on a machine with PostgreSQL and Redis on localhost.
# Installs dependencies, creates .env with a fresh signing secret if there is none, creates and migrates
# the database, builds the web apps when they are missing, seeds the demo organization, then runs the
# API, worker and cron processes until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/ensure-deps.sh
if [ ! -f .env ]; then
  secret=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')
  printf '# Local settings for npm start (git-ignored). See .env.example for every variable.\nTOKEN_SECRET=%s\n' "$secret" > .env
  echo "Created .env with a new TOKEN_SECRET" >&2
fi
exec node scripts/dev-stack.ts
