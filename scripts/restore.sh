#!/bin/sh
# Restores a dump made by scripts/backup.sh into a NEW database. It never writes to an existing one:
# recovery is "restore beside, check, then switch" (see dokploy/README.md, Backups and recovery).
#
#   scripts/restore.sh <dump-file> <target-database>
#
# Connection: DATABASE_URL if set (any database on the server; the target name replaces its path),
# otherwise the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE). The role needs
# CREATEDB; the restored objects belong to it (--no-owner), as they did to the application role.
#
# Steps: check the .sha256 file beside the dump when there is one, check that pg_restore can read the
# dump, create the database (refusing if it exists), restore in one transaction (all or nothing). If the
# restore fails, the database this script created is dropped again.
set -eu

log() {
  printf '%s restore: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
  log "error: $*"
  exit 1
}

# The same connection string with another database in its path (query parameters are kept).
url_with_database() {
  scheme=${1%%://*}
  rest=${1#*://}
  query=''
  case $rest in
    *\?*)
      query="?${rest#*\?}"
      rest=${rest%%\?*}
      ;;
  esac
  authority=${rest%%/*}
  printf '%s://%s/%s%s' "$scheme" "$authority" "$2" "$query"
}

# psql against the server (not the target), quiet and strict.
admin_psql() {
  if [ -n "${DATABASE_URL:-}" ]; then
    psql --no-psqlrc --quiet --no-password -v ON_ERROR_STOP=1 --dbname="$DATABASE_URL" "$@"
  else
    psql --no-psqlrc --quiet --no-password -v ON_ERROR_STOP=1 "$@"
  fi
}

target_connection() {
  if [ -n "${DATABASE_URL:-}" ]; then
    url_with_database "$DATABASE_URL" "$target"
  else
    printf '%s' "$target"
  fi
}

[ $# -eq 2 ] || fail "usage: restore.sh <dump-file> <target-database>"
dump=$1
target=$2

[ -f "$dump" ] || fail "no such file: $dump"
case $target in
  '' | *[!A-Za-z0-9_]* | [0-9]*) fail "target database name must be letters, digits and underscores, not starting with a digit" ;;
esac
[ ${#target} -le 63 ] || fail "target database name is longer than 63 characters"
if [ -n "${DATABASE_URL:-}" ]; then
  case $DATABASE_URL in postgres://* | postgresql://*) ;; *) fail "DATABASE_URL must start with postgres:// or postgresql://" ;; esac
fi

if [ -f "$dump.sha256" ]; then
  (cd "$(dirname "$dump")" && sha256sum -c "$(basename "$dump").sha256" >/dev/null) || fail "checksum mismatch for $dump"
  log "checksum ok"
fi
pg_restore --list "$dump" >/dev/null || fail "pg_restore cannot read $dump"

exists=$(admin_psql --tuples-only --no-align --command="SELECT 1 FROM pg_database WHERE datname = '$target'")
[ -z "$exists" ] || fail "database $target already exists; pick a new name (this script never overwrites)"

admin_psql --command="CREATE DATABASE \"$target\""
log "created database $target"

if ! pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --no-password \
  --dbname="$(target_connection)" "$dump"; then
  log "restore failed; dropping the half-made database $target"
  admin_psql --command="DROP DATABASE IF EXISTS \"$target\"" || log "could not drop $target; drop it by hand"
  exit 1
fi

tables=$(psql --no-psqlrc --quiet --no-password --tuples-only --no-align --dbname="$(target_connection)" \
  --command="SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
log "restored $dump into $target ($tables tables)"
