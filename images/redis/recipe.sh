# Redis from Debian's packages, as nonroot (65532): CatalogNodes' cache and job queue.
# Started with no configuration file, Redis refuses clients from other hosts (protected
# mode), so the entrypoint turns that off as the official image does; CKAN's pods reach it
# through its Service, and the node's NetworkPolicy admits only them.
IMAGE=ghcr.io/mediana-dev/redis
TAG=$(apt-cache show --no-all-versions redis-server | sed -n 's/^Version: \([0-9]*:\)\{0,1\}\([0-9]*\.[0-9]*\).*/\2/p')
DEBIAN=(redis-server)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.workingdir=/data
  --config.entrypoint=/usr/bin/redis-server --config.entrypoint=--protected-mode --config.entrypoint=no
  --config.exposedports=6379/tcp --config.label=org.opencontainers.image.title=redis)
assemble() {
  install -d -o "$NONROOT" -g "$NONROOT" "$1/data"
}
