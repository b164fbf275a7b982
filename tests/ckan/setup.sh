#!/usr/bin/env bash
# Installs what tests/ckan/ckan.sh needs to run real CKAN test peers, once, into a cache:
#
#   ${MEDIANA_CACHE:-$HOME/.cache/mediana}/ckan-2.12.0/
#     venv/          Python venv: images/ckan/requirements.txt (CKAN, ckanext-dcat, -scheming, gunicorn)
#                    and tests/ckan/requirements-test.txt (pytest, wheel)
#     wsgi.py        the WSGI entry point gunicorn serves (the wheel ships none)
#   ${MEDIANA_CACHE:-$HOME/.cache/mediana}/solr-9.10.1/   Solr's jars and our launcher
#                  (images/solr/jars.sh, shared with the Solr image)
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
# The CKAN image's own list (CKAN, its extensions, gunicorn), so the peers run what it ships.
REQUIREMENTS=$here/../../images/ckan/requirements.txt
TEST_REQUIREMENTS=$here/requirements-test.txt
CKAN_VERSION=$(sed -n 's/^ckan\[requirements\]==//p' "$REQUIREMENTS")
SOLR_JARS=$here/../../images/solr/jars.sh
CACHE_ROOT=${MEDIANA_CACHE:-$HOME/.cache/mediana}
CACHE=$CACHE_ROOT/ckan-$CKAN_VERSION
VENV=$CACHE/venv

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
((java_major >= 11)) || die "Solr 9 needs Java 11 or newer; java is $java_major"

# --- 2. Solr 9: jars from Maven Central + the compiled launcher (images/solr/jars.sh) -------
# Runs in the background while pip works (Maven mostly waits on downloads, pip on gcc), which
# takes about a minute off a cold setup.
"$SOLR_JARS" >/dev/null &
solr_build=$!

# --- 3. Python venv with CKAN, ckanext-dcat and gunicorn ----------------------------------
PY=${MEDIANA_PYTHON:-python3}
command -v "$PY" >/dev/null || die "$PY not found (CKAN $CKAN_VERSION needs Python 3.10 or newer)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "CKAN $CKAN_VERSION needs Python 3.10 or newer; $PY is $("$PY" -V 2>&1)"
venv_spec="$(grep -hv '^#' "$REQUIREMENTS" "$TEST_REQUIREMENTS" | tr '\n' ' ')python=$("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [[ $(cat "$VENV/.mediana-complete" 2>/dev/null) != "$venv_spec" ]]; then
  t=$SECONDS
  # A venv is not relocatable (its scripts hold absolute paths), so it is built in place; the
  # stamp written last tells a complete one from one interrupted half-way.
  rm -rf "$VENV"
  log "creating venv $VENV ($("$PY" -V 2>&1))"
  "$PY" -m venv "$VENV" || die "python -m venv $VENV"
  log "pip install -r images/ckan/requirements.txt (builds psycopg2 from source)"
  "$VENV/bin/pip" install -q --no-input --disable-pip-version-check -r "$REQUIREMENTS" -r "$TEST_REQUIREMENTS" \
    >"$CACHE/pip.log" 2>&1 || { tail -30 "$CACHE/pip.log" >&2; die "pip install (log: $CACHE/pip.log)"; }
  "$VENV/bin/python" -c 'import ckan.cli.cli, ckanext.dcat.plugins, ckanext.scheming.plugins, gunicorn, psycopg2, pytest' 2>>"$CACHE/pip.log" \
    || { tail -5 "$CACHE/pip.log" >&2; die "the installed packages do not import (log: $CACHE/pip.log)"; }
  echo "$venv_spec" >"$VENV/.mediana-complete"
  log "venv ready ($((SECONDS - t)) s)"
fi

# ckanext-xloader's wheel still ships the old pkg_resources ckanext/__init__.py, which turns
# CKAN 2.12's namespace package (PEP 420) into a regular one that hides the ckanext-mediana the
# test peers put on PYTHONPATH (ckan.sh's site/). In the image all extensions share one
# directory, so there it does no harm.
find "$VENV"/lib/python3*/site-packages/ckanext -maxdepth 1 -name __init__.py -delete

# The WSGI entry point, the CKAN image's own (images/ckan/wsgi.py).
install -C -m 0644 "$here/../../images/ckan/wsgi.py" "$CACHE/wsgi.py"

if ! wait "$solr_build"; then die "the Solr part of the setup (see above)"; fi

log "setup complete in $((SECONDS - started)) s: $CACHE"
