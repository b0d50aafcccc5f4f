#!/bin/sh
# Backs up the Subscribe Flow database with pg_dump (custom format) and prunes old dumps.
#
#   scripts/backup.sh              take one backup now, then delete dumps older than the retention
#   scripts/backup.sh --schedule   run forever: once a day at BACKUP_AT (UTC); take one at start if the
#                                  newest dump is older than a day (this is what the backup service runs)
#   scripts/backup.sh --check      exit 0 if the newest dump is younger than BACKUP_MAX_AGE_HOURS
#                                  (the backup service's healthcheck)
#
# Connection: DATABASE_URL if set, otherwise the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE). Settings (environment):
#   BACKUP_DIR             where dumps go (default ./backups)
#   BACKUP_RETENTION_DAYS  dumps older than this many days are deleted after a successful backup (7)
#   BACKUP_AT              time of the daily backup, HH:MM in UTC (03:00)
#   BACKUP_MAX_AGE_HOURS   --check fails when the newest dump is older than this (26)
#   BACKUP_NAME            file name prefix (the database name, else "subscribe-flow")
#
# Each dump is written to a temporary name, checked with `pg_restore --list` and only then renamed to
# <name>-<UTC timestamp>.dump (with a .sha256 file beside it), so a dump that exists is a complete one.
# Old dumps are pruned only after a new one succeeded: while backups fail, the last good ones are kept.
# On success the path of the new dump is the only line written to standard output.
#
# POSIX sh on purpose: the backup image (postgres:*-alpine) has busybox sh, not bash.
set -eu

BACKUP_DIR=${BACKUP_DIR:-./backups}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-7}
BACKUP_AT=${BACKUP_AT:-03:00}
BACKUP_MAX_AGE_HOURS=${BACKUP_MAX_AGE_HOURS:-26}

log() {
  printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
  log "error: $*"
  exit 1
}

is_count() {
  case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}

# The database name, for the file name: from DATABASE_URL's path or PGDATABASE.
database_name() {
  if [ -n "${DATABASE_URL:-}" ]; then
    rest=${DATABASE_URL#*://}
    rest=${rest%%\?*}
    case $rest in */*) name=${rest#*/} ;; *) name='' ;; esac
  else
    name=${PGDATABASE:-}
  fi
  # Keep file names tame whatever the database is called.
  name=$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_')
  printf '%s' "${name:-subscribe-flow}"
}

# Path of the most recently written complete dump in BACKUP_DIR, or nothing.
newest_dump() {
  newest='' newest_time=0
  for file in "$BACKUP_DIR"/*.dump; do
    [ -f "$file" ] || continue
    time=$(date -r "$file" +%s)
    if [ "$time" -ge "$newest_time" ]; then
      newest=$file newest_time=$time
    fi
  done
  printf '%s' "$newest"
}

# Age of a file in seconds.
age_seconds() {
  now=$(date +%s)
  modified=$(date -r "$1" +%s)
  echo $((now - modified))
}

backup_once() {
  is_count "$BACKUP_RETENTION_DAYS" || fail "BACKUP_RETENTION_DAYS must be a whole number of days"
  mkdir -p "$BACKUP_DIR"
  name=${BACKUP_NAME:-$(database_name)}
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  final="$BACKUP_DIR/$name-$stamp.dump"
  partial="$BACKUP_DIR/.$name-$stamp.dump.partial"
  trap 'rm -f "$partial"' EXIT

  log "dumping database $name"
  if [ -n "${DATABASE_URL:-}" ]; then
    pg_dump --format=custom --compress=6 --no-password --file="$partial" --dbname="$DATABASE_URL"
  else
    pg_dump --format=custom --compress=6 --no-password --file="$partial"
  fi
  # A dump that pg_restore cannot read is not a backup.
  pg_restore --list "$partial" >/dev/null || fail "pg_restore cannot read the new dump"
  mv "$partial" "$final"
  trap - EXIT
  (cd "$BACKUP_DIR" && sha256sum "$(basename "$final")" >"$(basename "$final").sha256")
  log "wrote $final ($(wc -c <"$final" | tr -d ' ') bytes)"

  prune
  printf '%s\n' "$final"
}

# Deletes dumps (and their checksums) older than the retention. Called only after a successful backup.
prune() {
  minutes=$((BACKUP_RETENTION_DAYS * 24 * 60))
  find "$BACKUP_DIR" -maxdepth 1 -type f \( -name '*.dump' -o -name '*.dump.sha256' \) -mmin +"$minutes" -print |
    while IFS= read -r old; do
      rm -f "$old"
      log "pruned $old"
    done
  # Leftovers of interrupted runs.
  find "$BACKUP_DIR" -maxdepth 1 -type f -name '.*.dump.partial' -mmin +60 -exec rm -f {} \;
}

check() {
  is_count "$BACKUP_MAX_AGE_HOURS" || fail "BACKUP_MAX_AGE_HOURS must be a whole number of hours"
  newest=$(newest_dump)
  [ -n "$newest" ] || fail "no dump in $BACKUP_DIR yet"
  age=$(age_seconds "$newest")
  [ "$age" -le $((BACKUP_MAX_AGE_HOURS * 3600)) ] || fail "newest dump $newest is $((age / 3600)) hours old"
  log "newest dump $newest is $((age / 60)) minutes old"
}

# Seconds from now until the next BACKUP_AT (UTC), computed without GNU date extensions.
seconds_until_next_run() {
  hours=${BACKUP_AT%%:*}
  minutes=${BACKUP_AT#*:}
  if ! is_count "$hours" || ! is_count "$minutes"; then fail "BACKUP_AT must look like HH:MM"; fi
  # Drop one leading zero so that 08 and 09 are not read as octal numbers.
  hours=${hours#0}
  minutes=${minutes#0}
  if [ "$hours" -ge 24 ] || [ "$minutes" -ge 60 ]; then fail "BACKUP_AT must look like HH:MM"; fi
  now=$(date -u +%s)
  target=$((now - now % 86400 + hours * 3600 + minutes * 60))
  [ "$target" -gt "$now" ] || target=$((target + 86400))
  echo $((target - now))
}

schedule() {
  # Stop promptly on `docker compose stop`: sleep runs in the background and the trap ends the loop.
  trap 'log "stopping"; exit 0' TERM INT
  seconds_until_next_run >/dev/null
  newest=$(newest_dump)
  if [ -z "$newest" ] || [ "$(age_seconds "$newest")" -gt 86400 ]; then
    run_backup
  fi
  while :; do
    wait_for=$(seconds_until_next_run)
    log "next backup in $((wait_for / 60)) minutes ($BACKUP_AT UTC)"
    sleep "$wait_for" &
    wait $!
    run_backup
  done
}

# One backup in a separate process (so that `set -e` applies inside it). A failed backup must not end
# the loop: the healthcheck reports it and the next run retries.
run_backup() {
  sh "$0" >/dev/null || log "backup failed; next attempt at $BACKUP_AT UTC"
}

case ${1:-} in
  '') backup_once ;;
  --schedule) schedule ;;
  --check) check ;;
  -h | --help) sed -n '2,23p' "$0" ;;
  *) fail "unknown argument: $1 (try --help)" ;;
esac
