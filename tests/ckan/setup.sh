#!/usr/bin/env bash
# Installs what tests/ckan/ckan.sh needs to run real CKAN test peers, once, into a cache:
#
#   ${MEDIANA_CACHE:-$HOME/.cache/mediana}/ckan-2.12.0/
#     venv/          Python venv: ckan[requirements]==2.12.0, ckanext-dcat==2.4.4, gunicorn
#     wsgi.py        the WSGI entry point gunicorn serves (the wheel ships none)
#     solr-9.10.1/   lib/*.jar (Solr 9 from Maven Central) + classes/ (our launcher)
#
# and, from Debian's packages and only when missing: postgresql, libpq-dev (pg_config, for
# building psycopg2) and build-essential (gcc, for psycopg2 and a few other sdists).
#
# Idempotent: every part is marked done by a stamp file written last, whose content names
# exactly what was installed, so a warm run is a few file checks (well under a second) and a
# change of version or of the launcher rebuilds only that part. Safe to run concurrently (flock).
# Unattended: no prompts (CI runs it with CI=true and no stdin).
#
#   tests/ckan/setup.sh           install what is missing
#   tests/ckan/setup.sh --print   print CKAN_CACHE=<dir> (no install)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CKAN_VERSION=2.12.0
DCAT_VERSION=2.4.4
GUNICORN_VERSION=27.0.1
SOLR_VERSION=$(sed -n 's:.*<solr.version>\(.*\)</solr.version>.*:\1:p' "$here/solr/pom.xml")
CACHE_ROOT=${MEDIANA_CACHE:-$HOME/.cache/mediana}
CACHE=$CACHE_ROOT/ckan-$CKAN_VERSION
VENV=$CACHE/venv
SOLR_DIR=$CACHE/solr-$SOLR_VERSION

if [[ ${1:-} == --print ]]; then
  echo "CKAN_CACHE=$CACHE"
  exit 0
fi

log() { printf '[ckan-setup %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
# A failure in one part waits for the other (a background job) before exiting, so nothing of
# this run goes on writing into the cache after it.
die() { log "FAILED: $*"; wait 2>/dev/null; exit 1; }
started=$SECONDS

command -v flock >/dev/null || die "flock not found (Debian package util-linux)"
mkdir -p "$CACHE"
# One setup at a time per cache: two `ckan.sh up` started together must not both build the venv.
exec 9>"$CACHE/.setup.lock"
flock 9

# --- 1. Debian packages, only those missing -------------------------------------------------
# dpkg -s says whether a package is installed; initdb/pg_ctl live under /usr/lib/postgresql/N/bin.
missing=()
for pkg in postgresql libpq-dev build-essential; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  [[ " ${missing[*]-} " == *" postgresql "* ]] || missing+=(postgresql)
fi
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$CACHE/apt.log" 2>&1 || { tail -20 "$CACHE/apt.log" >&2; die "apt-get update (log: $CACHE/apt.log)"; }
  # Debian's postgresql package creates its own "main" cluster (port 5432), and starts it where
  # an init system runs; ckan.sh never uses it: it runs clusters of its own.
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$CACHE/apt.log" 2>&1 \
    || { tail -20 "$CACHE/apt.log" >&2; die "apt-get install ${missing[*]} (log: $CACHE/apt.log)"; }
  log "Debian packages installed ($((SECONDS - started)) s)"
fi

# Tools from the machine itself (this kind ships them; nothing here installs a JDK).
for tool in java javac mvn curl; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH (a Java 17 JDK, Maven and curl are required)"
done
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
((java_major >= 11)) || die "Solr $SOLR_VERSION needs Java 11 or newer; java is $java_major"

# --- 2. Solr 9: jars from Maven Central + the compiled launcher --------------------------------
# Runs in the background while pip works (Maven mostly waits on downloads, pip on gcc), which
# takes about a minute off a cold setup.
build_solr() {
  local solr_spec t tmp
  # The stamp holds a hash of the pom and the launcher source, so editing either rebuilds.
  solr_spec="solr=$SOLR_VERSION $(cat "$here/solr/pom.xml" "$here/solr/src/main/java/mediana/solr/SolrLauncher.java" | sha256sum | cut -c1-16)"
  [[ $(cat "$SOLR_DIR/.mediana-complete" 2>/dev/null) != "$solr_spec" ]] || return 0
  t=$SECONDS
  tmp=$CACHE/.solr-build.$$
  rm -rf "$tmp" && mkdir -p "$tmp/classes"
  log "resolving Solr $SOLR_VERSION jars with Maven (solr-core + solr-test-framework)"
  # -B: batch mode (no colours, no prompts). Only the dependency plugin runs; nothing is built.
  mvn -B -q -f "$here/solr/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$CACHE/maven.log" 2>&1 \
    || { tail -30 "$CACHE/maven.log" >&2; rm -rf "$tmp"; die "mvn dependency:copy-dependencies (log: $CACHE/maven.log)"; }
  # Native TLS libraries for other platforms are never used (plain HTTP on loopback).
  rm -f "$tmp"/lib/netty-tcnative-boringssl-static-*-{osx,windows,linux-aarch_64}*.jar
  log "compiling the Solr launcher"
  javac -nowarn -encoding UTF-8 --release 11 -cp "$tmp/lib/*" -d "$tmp/classes" \
    "$here/solr/src/main/java/mediana/solr/SolrLauncher.java" >>"$CACHE/maven.log" 2>&1 \
    || { tail -30 "$CACHE/maven.log" >&2; rm -rf "$tmp"; die "javac SolrLauncher.java (log: $CACHE/maven.log)"; }
  echo "$solr_spec" >"$tmp/.mediana-complete"
  # Built aside and swapped in whole: a half-done build is never taken for a complete one.
  rm -rf "$SOLR_DIR.old"
  [[ ! -e $SOLR_DIR ]] || mv "$SOLR_DIR" "$SOLR_DIR.old"
  mv "$tmp" "$SOLR_DIR"
  rm -rf "$SOLR_DIR.old"
  log "Solr $SOLR_VERSION ready: $(ls "$SOLR_DIR/lib" | wc -l) jars ($((SECONDS - t)) s)"
}
build_solr &
solr_build=$!

# --- 3. Python venv with CKAN, ckanext-dcat and gunicorn ----------------------------------
PY=${MEDIANA_PYTHON:-python3}
command -v "$PY" >/dev/null || die "$PY not found (CKAN $CKAN_VERSION needs Python 3.10 or newer)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "CKAN $CKAN_VERSION needs Python 3.10 or newer; $PY is $("$PY" -V 2>&1)"
venv_spec="ckan[requirements]==$CKAN_VERSION ckanext-dcat==$DCAT_VERSION gunicorn==$GUNICORN_VERSION python=$("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [[ $(cat "$VENV/.mediana-complete" 2>/dev/null) != "$venv_spec" ]]; then
  t=$SECONDS
  # A venv is not relocatable (its scripts hold absolute paths), so it is built in place; the
  # stamp written last tells a complete one from one interrupted half-way.
  rm -rf "$VENV"
  log "creating venv $VENV ($("$PY" -V 2>&1))"
  "$PY" -m venv "$VENV" || die "python -m venv $VENV"
  log "pip install ckan[requirements]==$CKAN_VERSION ckanext-dcat==$DCAT_VERSION gunicorn==$GUNICORN_VERSION (builds psycopg2 from source)"
  # ckan's wheel declares no dependencies of its own: they come only with the [requirements]
  # extra, which pins them exactly.
  "$VENV/bin/pip" install -q --no-input --disable-pip-version-check \
    "ckan[requirements]==$CKAN_VERSION" "ckanext-dcat==$DCAT_VERSION" "gunicorn==$GUNICORN_VERSION" \
    >"$CACHE/pip.log" 2>&1 || { tail -30 "$CACHE/pip.log" >&2; die "pip install (log: $CACHE/pip.log)"; }
  "$VENV/bin/python" -c 'import ckan.cli.cli, ckanext.dcat.plugins, gunicorn, psycopg2' 2>>"$CACHE/pip.log" \
    || { tail -5 "$CACHE/pip.log" >&2; die "the installed packages do not import (log: $CACHE/pip.log)"; }
  echo "$venv_spec" >"$VENV/.mediana-complete"
  log "venv ready ($((SECONDS - t)) s)"
fi

# The WSGI entry point: CKAN_INI (set per instance by ckan.sh) names the instance's config.
# Logging is set up by gunicorn from the same ini (--log-config), not here: a fileConfig() in
# the worker would close gunicorn's own handlers, and with them the access log.
cat >"$CACHE/wsgi.py.tmp" <<'EOF'
# WSGI entry point for CKAN test instances (tests/ckan/setup.sh); CKAN_INI names the config.
import os
from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app
application = make_app(CKANConfigLoader(os.environ["CKAN_INI"]).get_config())
EOF
if ! cmp -s "$CACHE/wsgi.py.tmp" "$CACHE/wsgi.py"; then mv "$CACHE/wsgi.py.tmp" "$CACHE/wsgi.py"; else rm -f "$CACHE/wsgi.py.tmp"; fi

if ! wait "$solr_build"; then die "the Solr part of the setup (see above)"; fi

log "setup complete in $((SECONDS - started)) s: $CACHE"
