#!/bin/sh
# Starts Solr on 0.0.0.0:8983 with one core, SOLR_CORE (default ckan), in SOLR_HOME (the
# volume). The core's conf/ and solr.xml are the image's, copied at every start (a new image
# brings its schema; the index in data/ stays). SOLR_HEAP sizes the Java heap, SOLR_OPTS adds
# JVM options.
set -eu
home=${SOLR_HOME:-/var/solr}
core=${SOLR_CORE:-ckan}
mkdir -p "$home/$core/conf"
cp /opt/solr/conf/solr.xml "$home/solr.xml"
cp /opt/solr/core/* "$home/$core/conf/"
[ -f "$home/$core/core.properties" ] || echo "name=$core" >"$home/$core/core.properties"
# SerialGC: one small index needs no more, and it takes the least memory. The log goes to the
# console only (solr.log.dir is set to quiet Solr's warning); no reverse DNS of the pod.
# shellcheck disable=SC2086 # SOLR_OPTS is a list of options
exec /usr/lib/jvm/java-17-openjdk-amd64/bin/java "-Xms${SOLR_HEAP:-512m}" "-Xmx${SOLR_HEAP:-512m}" \
  -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  -Dsolr.log.dir=/tmp -Dsolr.dns.prevent.reverse.lookup=true \
  -Dlog4j.configurationFile=/opt/solr/conf/log4j2.xml -Dsolr.solr.home="$home" ${SOLR_OPTS:-} \
  -cp '/opt/solr/classes:/opt/solr/lib/*' mediana.solr.SolrLauncher "$home" 0.0.0.0 "${SOLR_PORT:-8983}" /tmp/solr.port
