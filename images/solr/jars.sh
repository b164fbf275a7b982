#!/usr/bin/env bash
# Solr 9 from Maven Central's jars plus our launcher, compiled, once, into a cache; prints the
# directory (lib/*.jar and classes/). The Solr image (recipe.sh) copies it in, and the CKAN
# test peers (tests/ckan/ckan.sh) run it on the host.
#
#   images/solr/jars.sh            build it if missing, print ${MEDIANA_CACHE}/solr-VERSION
#   images/solr/jars.sh --print    print the directory only
#
# A stamp written last names the pom and launcher it was built from, so a warm run is one file
# read and editing either rebuilds. Needs java, javac (11 or newer) and mvn.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOLR_VERSION=$(sed -n 's:.*<solr.version>\(.*\)</solr.version>.*:\1:p' "$here/pom.xml")
SOLR_DIR=${MEDIANA_CACHE:-$HOME/.cache/mediana}/solr-$SOLR_VERSION
LAUNCHER=$here/src/main/java/mediana/solr/SolrLauncher.java
log() { printf '[solr-jars %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

[[ ${1:-} != --print ]] || { echo "$SOLR_DIR"; exit 0; }
spec="solr=$SOLR_VERSION $(cat "$here/pom.xml" "$LAUNCHER" | sha256sum | cut -c1-16)"
mkdir -p "$(dirname "$SOLR_DIR")"
exec 9>"$SOLR_DIR.lock"
flock 9
if [[ $(cat "$SOLR_DIR/.mediana-complete" 2>/dev/null) == "$spec" ]]; then echo "$SOLR_DIR"; exit 0; fi

for tool in java javac mvn; do command -v "$tool" >/dev/null || die "$tool not found (a Java 11+ JDK and Maven are needed)"; done
tmp=$SOLR_DIR.build.$$ build_log=$SOLR_DIR.maven.log started=$SECONDS
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/classes"
log "resolving Solr $SOLR_VERSION jars with Maven (solr-core + solr-test-framework)"
# -B: batch mode (no colours, no prompts). Only the dependency plugin runs; nothing is built.
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$build_log" 2>&1 \
  || { tail -30 "$build_log" >&2; die "mvn dependency:copy-dependencies (log: $build_log)"; }
# Native TLS libraries for other platforms are never used (Solr serves plain HTTP here).
rm -f "$tmp"/lib/netty-tcnative-boringssl-static-*-{osx,windows,linux-aarch_64}*.jar
javac -nowarn -encoding UTF-8 --release 11 -cp "$tmp/lib/*" -d "$tmp/classes" "$LAUNCHER" >>"$build_log" 2>&1 \
  || { tail -30 "$build_log" >&2; die "javac SolrLauncher.java (log: $build_log)"; }
echo "$spec" >"$tmp/.mediana-complete"
# Built aside and swapped in whole: a half-done build is never taken for a complete one.
rm -rf "$SOLR_DIR"
mv "$tmp" "$SOLR_DIR"
log "Solr $SOLR_VERSION: $(find "$SOLR_DIR/lib" -name '*.jar' | wc -l) jars ($((SECONDS - started)) s)"
echo "$SOLR_DIR"
