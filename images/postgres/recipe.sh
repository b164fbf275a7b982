# PostgreSQL from Debian's packages, with the environment contract of the official image
# (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA), as nonroot (65532). The managed
# databases of CatalogNodes and ReusableSolutions run it; their backup and restore pods run
# pg_dump, pg_restore and tar from it (and `mediana backup`, copied in, which needs the CA roots
# for an object store behind a public certificate). Tagged with the major version (the code names the image by it; Debian moves the
# minor version on).
PG_MAJOR=15
IMAGE=ghcr.io/mediana-dev/postgres
TAG=$PG_MAJOR
DEBIAN=("postgresql-$PG_MAJOR" dash coreutils findutils tar ca-certificates)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/usr/local/bin/postgres-entrypoint
  --config.env="PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/bin:/bin"
  --config.env=PGDATA=/var/lib/postgresql/data --config.exposedports=5432/tcp
  --config.label=org.opencontainers.image.title=postgres)
assemble() {
  local root=$1
  ca_bundle "$root"
  install -D -m 0755 "$MEDIANA_REPO/images/postgres/entrypoint.sh" "$root/usr/local/bin/postgres-entrypoint"
  # The JIT (LLVM and Z3, 120 MB) is optional: without its provider PostgreSQL runs without JIT. The
  # locale archive (200 MB) is unused: the clusters are initialised with C.UTF-8, built into glibc.
  rm -f "$root"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$root"/usr/lib/x86_64-linux-gnu/libz3.so* "$root/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"*
  rm -rf "$root/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" "$root/usr/lib/locale/locale-archive"
  mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
  chown "$NONROOT:$NONROOT" "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
}
