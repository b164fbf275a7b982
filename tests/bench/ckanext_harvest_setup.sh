#!/usr/bin/env bash
# The peer of part 4 of tests/bench/harvest.sh, installed once into a cache of its own:
#
#   ${MEDIANA_CACHE:-$HOME/.cache/mediana}/ckan-<CKAN version>-harvest-<version>/venv/
#     the CKAN test venv's packages (images/ckan/requirements.txt and
#     tests/ckan/requirements-test.txt, the same pins) plus ckanext-harvest from PyPI
#
# and Debian's redis-server when missing. A venv of its own, not the shared CKAN test venv:
# the tests keep running exactly what the image ships, and a ckanext-harvest bump never
# rebuilds the venv every test uses. Its stamp (.mediana-complete, written last) holds the
# whole list it was built from, so a change of any pin rebuilds it and a warm run is a file
# check. Safe to run concurrently (flock). psycopg2 is built from source as in setup.sh (pip
# reuses its cached wheel).
#
#   tests/bench/ckanext_harvest_setup.sh           install what is missing
#   tests/bench/ckanext_harvest_setup.sh --print   print HARVEST_VENV=<dir> (no install)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARVEST_VERSION=1.6.3
REQUIREMENTS=$here/../../images/ckan/requirements.txt
TEST_REQUIREMENTS=$here/../ckan/requirements-test.txt
CKAN_VERSION=$(sed -n 's/^ckan\[requirements\]==//p' "$REQUIREMENTS")
CACHE=${MEDIANA_CACHE:-$HOME/.cache/mediana}/ckan-$CKAN_VERSION-harvest-$HARVEST_VERSION
VENV=$CACHE/venv

if [[ ${1:-} == --print ]]; then
  echo "HARVEST_VENV=$VENV"
  exit 0
fi

log() { printf '[harvest-setup %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

redis() {
  command -v redis-server >/dev/null && return 0
  [[ $(id -u) == 0 ]] || die "redis-server missing (run as root, or: sudo apt-get install redis-server)"
  log "apt-get install redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$CACHE/apt.log" 2>&1 || { tail -20 "$CACHE/apt.log" >&2; die "apt-get update"; }
  # Debian's package starts its own server on 6379 where an init system runs; the benchmark
  # never uses it: it starts one of its own on a loopback port.
  apt-get install -y -q --no-install-recommends redis-server >>"$CACHE/apt.log" 2>&1 \
    || { tail -20 "$CACHE/apt.log" >&2; die "apt-get install redis-server"; }
}

venv() {
  local py=${MEDIANA_PYTHON:-python3} spec
  spec="$(grep -hv '^#' "$REQUIREMENTS" "$TEST_REQUIREMENTS" | tr '\n' ' ')ckanext-harvest==$HARVEST_VERSION python=$("$py" -c 'import sys; print(sys.version.split()[0])')"
  [[ $(cat "$VENV/.mediana-complete" 2>/dev/null) != "$spec" ]] || return 0
  rm -rf "$VENV"
  log "creating $VENV with ckanext-harvest==$HARVEST_VERSION"
  "$py" -m venv "$VENV" || die "python -m venv $VENV"
  "$VENV/bin/pip" install -q --no-input --disable-pip-version-check -r "$REQUIREMENTS" -r "$TEST_REQUIREMENTS" \
    "ckanext-harvest==$HARVEST_VERSION" >"$CACHE/pip.log" 2>&1 || { tail -30 "$CACHE/pip.log" >&2; die "pip install (log: $CACHE/pip.log)"; }
  # As in tests/ckan/setup.sh: xloader's old-style ckanext/__init__.py would turn CKAN 2.12's
  # namespace package into a regular one.
  find "$VENV"/lib/python3*/site-packages/ckanext -maxdepth 1 -name __init__.py -delete
  "$VENV/bin/python" -c 'import ckan.cli.cli, ckanext.dcat.harvesters, ckanext.harvest.plugin, redis' 2>>"$CACHE/pip.log" \
    || { tail -5 "$CACHE/pip.log" >&2; die "the installed packages do not import (log: $CACHE/pip.log)"; }
  echo "$spec" >"$VENV/.mediana-complete"
  log "venv ready"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.setup.lock"
flock 9
redis
venv
