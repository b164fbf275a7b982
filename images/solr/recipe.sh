# Solr 9 with CKAN's schema: Maven Central's Solr jars and our launcher (jars.sh) on Debian's
# Java 17 runtime, as nonroot (65532). A CatalogNode's search StatefulSet runs it; its core
# "ckan" lives under /var/solr (the volume), and its conf/ comes from the image at every start,
# so a new image brings its schema. Tagged SOLR_VERSION-ckanX.Y: the CKAN line of the schema.
# The variant is the previous CKAN line's (a node upgrading from it runs it until its web
# moves): the same schema under that line's name, which CKAN checks at start (2.11 knows
# names up to ckan-2.11; the fields are the same).
VARIANTS=(2.11)
SOLR_DIR=$("$MEDIANA_REPO/images/solr/jars.sh")
SOLR_VERSION=${SOLR_DIR##*/solr-}
CKAN_SCHEMA=${VERSION:-$(sed -n 's/^<schema name="ckan-\([0-9.]*\)".*/\1/p' "$MEDIANA_REPO/images/solr/core/schema.xml")}
IMAGE=ghcr.io/mediana-dev/solr
TAG=$SOLR_VERSION-ckan$CKAN_SCHEMA
DEBIAN=(openjdk-17-jre-headless dash coreutils)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/opt/solr/entrypoint.sh
  --config.env=SOLR_HOME=/var/solr --config.env=SOLR_HEAP=512m --config.exposedports=8983/tcp
  --config.label=org.opencontainers.image.title=solr)
assemble() {
  local root=$1 here=$MEDIANA_REPO/images/solr
  mkdir -p "$root/opt/solr"
  cp -r "$SOLR_DIR/lib" "$SOLR_DIR/classes" "$here/conf" "$here/core" "$root/opt/solr/"
  sed -i "s/^<schema name=\"ckan-[0-9.]*\"/<schema name=\"ckan-$CKAN_SCHEMA\"/" "$root/opt/solr/core/schema.xml"
  install -m 0755 "$here/entrypoint.sh" "$root/opt/solr/entrypoint.sh"
  mkdir -p "$root/var/solr"
  chown "$NONROOT:$NONROOT" "$root/var/solr"
}
