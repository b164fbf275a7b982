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
  # printf, not echo: dash's echo would turn the doubled backslashes back into one.
  {
    # install-db also makes root@127.0.0.1, root@::1 and root@<host name> without a password.
    printf '%s\n' "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';" "FLUSH PRIVILEGES;"
    root_password=$(quoted "$MARIADB_ROOT_PASSWORD")
    printf '%s\n' "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_password';"
    # As in the official image, root may also connect over TCP (MARIADB_ROOT_HOST, default %).
    root_host=$(quoted "${MARIADB_ROOT_HOST:-%}")
    printf '%s\n' "CREATE USER 'root'@'$root_host' IDENTIFIED BY '$root_password';" \
      "GRANT ALL ON *.* TO 'root'@'$root_host' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      printf '%s\n' "CREATE DATABASE IF NOT EXISTS \`$(named "$MARIADB_DATABASE")\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ]; then
      : "${MARIADB_PASSWORD:?MARIADB_USER is set without MARIADB_PASSWORD}"
      printf '%s\n' "CREATE USER '$(quoted "$MARIADB_USER")'@'%' IDENTIFIED BY '$(quoted "$MARIADB_PASSWORD")';"
      if [ -n "${MARIADB_DATABASE:-}" ]; then
        printf '%s\n' "GRANT ALL ON \`$(named "$MARIADB_DATABASE")\`.* TO '$(quoted "$MARIADB_USER")'@'%';"
      fi
    fi
  } | mariadbd --bootstrap --skip-networking
fi
exec mariadbd "$@"
