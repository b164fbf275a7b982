# MariaDB from Debian's packages, with the environment contract of the official image
# (MARIADB_ROOT_PASSWORD, MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD), as nonroot
# (65532): the database of reused solutions such as WordPress. Data in /var/lib/mysql (a
# volume), socket and temporary files in /tmp, so the root file system stays read-only.
IMAGE=ghcr.io/mediana-dev/mariadb
TAG=$(apt-cache show --no-all-versions mariadb-server-core | sed -n 's/^Version: \([0-9]*:\)\{0,1\}\([0-9]*\.[0-9]*\).*/\2/p')
DEBIAN=(mariadb-server-core mariadb-client-core dash coreutils sed grep)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/usr/local/bin/mariadb-entrypoint
  --config.exposedports=3306/tcp --config.label=org.opencontainers.image.title=mariadb)
assemble() {
  local root=$1
  install -D -m 0755 "$MEDIANA_REPO/images/mariadb/entrypoint.sh" "$root/usr/local/bin/mariadb-entrypoint"
  install -D -m 0644 "$MEDIANA_REPO/images/mariadb/my.cnf" "$root/etc/mysql/my.cnf"
  install -d -o "$NONROOT" -g "$NONROOT" "$root/var/lib/mysql"
}
