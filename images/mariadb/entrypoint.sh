#!/bin/sh
# The official image's contract, in short: on an empty data directory, create the system
# tables, set the root password (MARIADB_ROOT_PASSWORD) and create MARIADB_DATABASE with
# MARIADB_USER / MARIADB_PASSWORD granted on it; then run the server in the foreground.
# Any other command (mariadb, mariadb-dump, sh) runs as given.
set -eu
if [ "${1:-mariadbd}" != mariadbd ]; then exec "$@"; fi
[ "$#" -eq 0 ] || shift
: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is not set}"
# A value inside '...' in SQL: backslashes and quotes doubled.
quoted() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"; }
# A name inside `...`.
named() { printf '%s' "$1" | sed -e 's/`/``/g'; }
if [ ! -d /var/lib/mysql/mysql ]; then
  # --force: no host name to resolve in a pod, and none needed (skip-name-resolve).
  mariadb-install-db --force --skip-test-db --skip-name-resolve --auth-root-authentication-method=normal
  {
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(quoted "$MARIADB_ROOT_PASSWORD")';"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$(named "$MARIADB_DATABASE")\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ]; then
      : "${MARIADB_PASSWORD:?MARIADB_USER is set without MARIADB_PASSWORD}"
      echo "CREATE USER '$(quoted "$MARIADB_USER")'@'%' IDENTIFIED BY '$(quoted "$MARIADB_PASSWORD")';"
      if [ -n "${MARIADB_DATABASE:-}" ]; then
        echo "GRANT ALL ON \`$(named "$MARIADB_DATABASE")\`.* TO '$(quoted "$MARIADB_USER")'@'%';"
      fi
    fi
  } | mariadbd --bootstrap --skip-networking
fi
exec mariadbd "$@"
