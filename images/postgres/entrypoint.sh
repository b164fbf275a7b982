#!/bin/sh
# The official image's contract, in short: on an empty PGDATA, initialise a cluster whose
# superuser is POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over TCP) and create
# POSTGRES_DB; then run the server in the foreground on every address. Any other command
# (pg_dump, psql, sh) runs as given.
set -eu
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
[ "$#" -eq 0 ] || shift
: "${PGDATA:?PGDATA is not set}" "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file=$(mktemp)
  trap 'rm -f "$password_file"' EXIT
  printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --username="$user" --pwfile="$password_file" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA"
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    # Single-user mode: nothing listens while the database is created.
    printf '%s\n' "CREATE DATABASE \"$database\" OWNER \"$user\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
