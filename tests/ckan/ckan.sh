#!/usr/bin/env bash
# Real CKAN test peers for mediana's tests, started and stopped by recorded PIDs.
#
#   tests/ckan/ckan.sh up DIR [N]   start PostgreSQL, one Solr 9 JVM with N cores and N CKAN
#                                   instances (default N=2); write DIR/env when all are ready
#   tests/ckan/ckan.sh status DIR   say what runs; exit 0 only when everything answers
#   tests/ckan/ckan.sh down DIR     stop everything `up` started in DIR (by PID), keep DIR/logs
#
# Instances named in MEDIANA_CKAN_DCATAPIT (e.g. "3") run mediana's DCAT-AP_IT extension
# (ckanext-mediana/, installed into DIR/site) with its schema and profile, as a CatalogNode
# does; the others are stock CKAN with ckanext-dcat.
# For tests/bench/harvest.sh's ckanext-harvest peer: MEDIANA_CKAN_VENV runs CKAN from another
# venv than setup.sh's (one with the same pins and more packages), MEDIANA_CKAN_PLUGINS adds
# plugins to every instance's ckan.plugins, MEDIANA_CKAN_INI adds lines to its [app:main] and
# MEDIANA_CKAN_REDIS_URL replaces its ckan.redis.url.
# Everything binds 127.0.0.1 on ports picked at random, so several DIRs can be up at once.
# Layout of DIR:
#   env                    KEY=value lines (shell-sourceable), written last: it exists => ready
#   pids/*.pid             every process started (postgres, solr, gunicorn masters + workers)
#   logs/                  postgres.log, solr.log, ckan_I.log (gunicorn + CKAN), ckan_I.access.log,
#                          ckan_I.init.log (db init, user, token)
#   pg/                    PostgreSQL cluster (data/, sock/), owned by the postgres user
#                          (a symlink to a folder in /tmp when postgres cannot reach DIR)
#   solr/home/             solr.xml + one core per instance: ckan_I/{core.properties,conf/,data/}
#   ckan_I/                ckan.ini, storage/
#   site/                  ckanext-mediana, installed (on every instance's PYTHONPATH)
#
# The software itself (CKAN venv, Solr jars) comes from tests/ckan/setup.sh's cache; `up`
# runs setup.sh first, which returns at once when the cache is complete.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/setup.sh" --print)"   # CKAN_CACHE=...
VENV=${MEDIANA_CKAN_VENV:-$CKAN_CACHE/venv}
SOLR_IMAGE=$here/../../images/solr   # Solr's conf and core conf, shared with the Solr image
SOLR_DIR=$("$SOLR_IMAGE/jars.sh" --print)
SOLR_VERSION=${SOLR_DIR##*/solr-}
EXTENSION=$here/../../ckanext-mediana

# How long each component may take to become ready, in seconds. Generous: on a 2-core machine
# shared with compilers (CPU pressure ~97%), a gunicorn worker has been seen to need 40 s to
# load CKAN, where 6 s is usual.
SOLR_TIMEOUT=${MEDIANA_SOLR_TIMEOUT:-240}
CKAN_TIMEOUT=${MEDIANA_CKAN_TIMEOUT:-300}

log() { printf '[ckan %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- helpers -----------------------------------------------------------------------------

# A port that is free on 127.0.0.1 right now. Another process may take it before we bind it;
# each start below detects that and retries with a new port.
free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# initdb and postgres refuse to run as root: as root, run them as the postgres user.
as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n $bin ]] || die "no PostgreSQL server under /usr/lib/postgresql (run tests/ckan/setup.sh)"
  echo "$bin"
}

# True when PID runs and is one of ours: its command line names DIR, or the cluster folder
# for postgres (every process we start has one of them in its arguments). Guards against
# signalling an unrelated process that reused a recorded PID.
pid_ours() {
  local pid=$1 args pgdir
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $args == *"$DIR/"* ]] && return 0
  pgdir=$(readlink -f "$DIR/pg" 2>/dev/null) || return 1
  [[ -n $pgdir && $args == *"$pgdir/"* ]]
}

# Stops one recorded process: SIGTERM, up to GRACE seconds, then SIGKILL.
stop_pid() {
  local pid=$1 grace=$2 i
  pid_ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    pid_ours "$pid" || return 0
    sleep 0.1
  done
  log "PID $pid did not stop within $grace s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_ours "$pid" || return 0; sleep 0.1; done
  return 1
}

# Waits until URL answers HTTP 200 with a body containing WANT, or fails after TIMEOUT s
# (also fails early once PID, the server expected to answer, has died).
wait_http() {
  local url=$1 want=$2 pid=$4 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if curl -fsS --max-time 5 "$url" 2>/dev/null | grep -qF -- "$want"; then return 0; fi
    pid_ours "$pid" || return 1
    sleep 0.3
  done
  return 1
}

# On a failed start: the end of the log that tells why.
show_log() {
  local f=$1
  [[ -e $f ]] || return 0
  log "---- last lines of $f ----"
  tail -n 40 "$f" >&2 || true
  log "---- end of $f ----"
}

# One CKAN action over HTTP with the instance's sysadmin token; prints the JSON reply and
# fails unless CKAN says success.
api() {
  local url=$1 token=$2 action=$3 body=$4 out
  out=$(curl -sS --max-time 60 -X POST "$url/api/3/action/$action" \
    -H "Authorization: $token" -H 'Content-Type: application/json' -d "$body") || return 1
  "$VENV/bin/python" -c 'import json, sys; sys.exit(0 if json.loads(sys.argv[1]).get("success") else 1)' "$out" \
    || { echo "$action failed: $out" >&2; return 1; }
  printf '%s\n' "$out"
}

json_get() { # json_get JSON python-expression-on-r   e.g. json_get "$out" 'r["result"]["id"]'
  "$VENV/bin/python" -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- up ----------------------------------------------------------------------------------

start_postgres() {
  local n=$1 pgbin pgdir port try
  pgbin=$(pg_bin)
  # PostgreSQL runs as the postgres user, which must reach its data and socket folders. It
  # cannot when DIR is under a private folder (/root is 0700), and a Unix socket path may not
  # exceed 107 bytes: then the cluster lives in a private folder of /tmp, linked from DIR/pg.
  mkdir -p "$DIR/pg.local"
  [[ $(id -u) != 0 ]] || chown postgres:postgres "$DIR/pg.local"
  if ((${#DIR} <= 70)) && as_pg test -w "$DIR/pg.local"; then
    mv "$DIR/pg.local" "$DIR/pg"
  else
    rmdir "$DIR/pg.local"
    pgdir=$(mktemp -d /tmp/mediana-ckan-pg.XXXXXX)
    [[ $(id -u) != 0 ]] || chown postgres:postgres "$pgdir"
    ln -s "$pgdir" "$DIR/pg"
    log "postgres cannot use $DIR directly: cluster in $pgdir"
  fi
  pgdir=$(readlink -f "$DIR/pg")
  as_pg mkdir -p "$pgdir/sock"
  as_pg touch "$pgdir/postgres.log"
  ln -sfn "$pgdir/postgres.log" "$DIR/logs/postgres.log"

  log "PostgreSQL: initdb ($("$pgbin/postgres" -V))"
  # --no-sync and the settings below trade durability for speed: a test database is thrown
  # away with DIR, and an OS crash is not something tests recover from.
  as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$DIR/logs/initdb.log" 2>&1 || { show_log "$DIR/logs/initdb.log"; die "initdb"; }
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $pgdir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=$((40 * n + 20))" \
      start >>"$DIR/logs/initdb.log" 2>&1; then
      break
    fi
    grep -q 'could not bind\|Address already in use' "$pgdir/postgres.log" \
      || { show_log "$DIR/logs/postgres.log"; die "PostgreSQL did not start"; }
    log "PostgreSQL: port $port was taken, retrying with another"
    port=
  done
  [[ -n $port ]] || die "PostgreSQL: no free port after 5 tries"
  head -1 "$pgdir/data/postmaster.pid" >"$DIR/pids/postgres.pid"
  PG_PORT=$port
  echo "$port" >"$DIR/pg.port"
  log "PostgreSQL ready on 127.0.0.1:$PG_PORT (PID $(cat "$DIR/pids/postgres.pid"))"
}

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

start_solr() {
  local n=$1 i core
  local home=$DIR/solr/home
  mkdir -p "$home"
  cp "$SOLR_IMAGE/conf/solr.xml" "$home/solr.xml"
  for ((i = 1; i <= n; i++)); do
    core=$home/ckan_$i
    mkdir -p "$core/conf"
    # The image's ckan core: CKAN's own schema and our solrconfig.xml.
    cp "$SOLR_IMAGE"/core/* "$core/conf/"
    echo "name=ckan_$i" >"$core/core.properties"
  done
  log "Solr $SOLR_VERSION: starting (cores ckan_1..ckan_$n)"
  # Port 0: the launcher binds a free port itself and writes it to solr.port once the cores
  # are loaded (no pick-then-bind race). Small heap; SerialGC and the C1 compiler only, which
  # start faster and use less memory than the defaults on a 2-core machine.
  (cd "$DIR/solr" && exec java -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dsolr.log.dir="$DIR/logs" -Dlog4j.configurationFile="$SOLR_IMAGE/conf/log4j2.xml" \
    -Dsolr.solr.home="$home" \
    -cp "$SOLR_DIR/classes:$SOLR_DIR/lib/*" mediana.solr.SolrLauncher "$home" 127.0.0.1 0 "$DIR/solr.port" \
    >"$DIR/logs/solr.log" 2>&1 < /dev/null) &
  echo $! >"$DIR/pids/solr.pid"
}

wait_solr() {
  local n=$1 pid deadline=$((SECONDS + SOLR_TIMEOUT)) i status
  pid=$(cat "$DIR/pids/solr.pid")
  until [[ -s $DIR/solr.port ]]; do
    pid_ours "$pid" || { show_log "$DIR/logs/solr.log"; die "Solr exited during start-up"; }
    ((SECONDS < deadline)) || { show_log "$DIR/logs/solr.log"; die "Solr not up after $SOLR_TIMEOUT s"; }
    sleep 0.2
  done
  SOLR_URL=http://127.0.0.1:$(cat "$DIR/solr.port")/solr
  # Every core loaded, none failed.
  status=$(curl -fsS --max-time 10 "$SOLR_URL/admin/cores?action=STATUS&wt=json") \
    || { show_log "$DIR/logs/solr.log"; die "Solr core status"; }
  for ((i = 1; i <= n; i++)); do
    [[ $(json_get "$status" "r['status'].get('ckan_$i', {}).get('name') == 'ckan_$i' and not r['initFailures']") == True ]] \
      || { show_log "$DIR/logs/solr.log"; die "Solr core ckan_$i did not load: $status"; }
  done
  log "Solr ready at $SOLR_URL (PID $pid)"
}

# Whether instance I runs mediana's DCAT-AP_IT extension (listed in MEDIANA_CKAN_DCATAPIT).
dcatapit() { [[ " ${MEDIANA_CKAN_DCATAPIT:-} " == *" $1 "* ]]; }

# The readiness dataset of instance I: a DCAT-AP_IT instance refuses one without the
# mandatory fields.
readiness_dataset() {
  if dcatapit "$1"; then
    echo '{"name": "mediana-readiness", "owner_org": "mediana-readiness", "title": "readiness", "notes": "readiness",
      "identifier": "r_prova:readiness", "themes_aggregate": "GOVE", "frequency": "UNKNOWN", "modified": "2026-01-01",
      "holder_name": "Regione di prova", "holder_identifier": "r_prova"}'
  else
    echo '{"name": "mediana-readiness", "owner_org": "mediana-readiness"}'
  fi
}

# The plugins of instance I and their options: stock, or DCAT-AP_IT (MEDIANA_CKAN_DCATAPIT).
plugin_options() {
  if dcatapit "$1"; then
    cat <<EOF
ckan.plugins = activity dcat scheming_datasets mediana_dcatapit mediana_status
scheming.dataset_schemas = ckanext.mediana:schemas/dcatapit.yaml
scheming.presets = ckanext.scheming:presets.json
ckanext.dcat.rdf.profiles = it_dcat_ap
ckanext.mediana.publisher_name = Regione di prova $1
ckanext.mediana.publisher_identifier = r_prova$1
EOF
  else
    echo "ckan.plugins = activity dcat"
  fi
}

# plugin_options, with MEDIANA_CKAN_PLUGINS and MEDIANA_CKAN_INI added.
instance_options() {
  plugin_options "$1" | sed "s|^ckan.plugins = .*|&${MEDIANA_CKAN_PLUGINS:+ $MEDIANA_CKAN_PLUGINS}|"
  [[ -z ${MEDIANA_CKAN_INI:-} ]] || printf '%s\n' "$MEDIANA_CKAN_INI"
}

# ckanext-mediana into DIR/site, built from a copy of its source (pip builds in the tree it
# is given), without dependencies or PyPI: the venv has them all, and wheel.
install_extension() {
  rm -rf "$DIR/site" "$DIR/src"
  mkdir -p "$DIR/src"
  cp -r "$EXTENSION/ckanext" "$EXTENSION/pyproject.toml" "$EXTENSION/README.md" "$DIR/src/"
  "$VENV/bin/pip" install -q --no-input --disable-pip-version-check --no-deps --no-build-isolation \
    --target "$DIR/site" "$DIR/src" >"$DIR/logs/extension.log" 2>&1 \
    || { show_log "$DIR/logs/extension.log"; die "installing ckanext-mediana"; }
}

write_ini() {
  local i=$1 port=$2 secret
  secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
  mkdir -p "$DIR/ckan_$i/storage"
  cat >"$DIR/ckan_$i/ckan.ini" <<EOF
# CKAN test instance ckan_$i, written by tests/ckan/ckan.sh. Options not set here take CKAN's
# declared defaults (ckan config declaration). Not for production use.
[DEFAULT]
debug = false

[app:main]
use = egg:ckan
ckan.site_id = ckan_$i
ckan.site_url = http://127.0.0.1:$port
ckan.site_title = mediana test CKAN $i
SECRET_KEY = $secret
api_token.jwt.encode.secret = string:$secret
api_token.jwt.decode.secret = string:$secret
sqlalchemy.url = postgresql://ckan_$i:ckan_$i@127.0.0.1:$PG_PORT/ckan_$i
# Own core in the shared Solr; commits stay CKAN's default (hard commit on every write), so a
# search right after a write sees it.
solr_url = $SOLR_URL/ckan_$i
# No Redis: CKAN only needs it for background jobs, which nothing here enqueues. A closed
# port (1) rather than the default localhost:6379, so CKAN never talks to someone else's Redis
# (MEDIANA_CKAN_REDIS_URL names a Redis of the caller's own).
ckan.redis.url = ${MEDIANA_CKAN_REDIS_URL:-redis://127.0.0.1:1/0}
ckan.storage_path = $DIR/ckan_$i/storage
ckan.locale_default = en
$(instance_options "$i")

# Logging, for the ckan CLI and for gunicorn (--log-config): CKAN and gunicorn to stderr
# (DIR/logs/ckan_$i.log), requests to DIR/logs/ckan_$i.access.log.
[loggers]
keys = root, ckan, ckanext, ckan_redis, gunicorn_error, gunicorn_access

[handlers]
keys = console, access

[formatters]
keys = generic, access

[logger_root]
level = WARNING
handlers = console

[logger_ckan]
level = INFO
handlers = console
qualname = ckan
propagate = 0

[logger_ckanext]
level = INFO
handlers = console
qualname = ckanext
propagate = 0

# Without Redis, every CKAN process logs a traceback at start; the one CRITICAL line
# "Could not connect to Redis" that follows is enough.
[logger_ckan_redis]
level = CRITICAL
handlers = console
qualname = ckan.lib.redis
propagate = 0

[logger_gunicorn_error]
level = INFO
handlers = console
qualname = gunicorn.error
propagate = 0

[logger_gunicorn_access]
level = INFO
handlers = access
qualname = gunicorn.access
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[handler_access]
class = FileHandler
args = ('$DIR/logs/ckan_$i.access.log', 'a')
level = NOTSET
formatter = access

[formatter_access]
format = %(message)s

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
EOF
}

start_gunicorn() {
  local i=$1 port=$2
  # --pythonpath: wsgi.py lives in the cache. --pid names DIR, which marks the master and its
  # forked workers as ours (pid_ours). Workers are recorded once they answer (ckan_I.workers.pid).
  # --no-control-socket: gunicorn 27 otherwise listens on ~/.gunicorn/gunicorn.ctl, one path
  # shared by every gunicorn of the user, so a second instance would take over the first's.
  # --graceful-timeout 3: after SIGTERM a worker finishes its request, then Python tears down
  # the whole CKAN app, which took up to 10 s on a loaded machine; past 3 s gunicorn kills it.
  (cd "$DIR/ckan_$i" && CKAN_INI=$DIR/ckan_$i/ckan.ini PYTHONPATH=$DIR/site exec "$VENV/bin/gunicorn" \
    --workers 2 --bind "127.0.0.1:$port" --timeout 120 --graceful-timeout 3 \
    --pythonpath "$CKAN_CACHE" --pid "$DIR/pids/ckan_$i.gunicorn.pid" --no-control-socket \
    --log-config "$DIR/ckan_$i/ckan.ini" \
    wsgi:application >>"$DIR/logs/ckan_$i.log" 2>&1 </dev/null) &
  echo $! >"$DIR/pids/ckan_$i.pid"
}

# Everything for instance I: database, schema, sysadmin + token, gunicorn, readiness.
# Runs in a background subshell per instance, so instances initialise side by side.
up_instance() {
  local i=$1 port try pid url token out org_id pkg_id
  local ilog=$DIR/logs/ckan_$i.init.log ckan=(env "PYTHONPATH=$DIR/site" "$VENV/bin/ckan" -c "$DIR/ckan_$i/ckan.ini")
  port=$(free_port)
  write_ini "$i" "$port"
  psql_admin -c "CREATE ROLE ckan_$i LOGIN PASSWORD 'ckan_$i'" \
    -c "CREATE DATABASE ckan_$i OWNER ckan_$i ENCODING 'UTF8' TEMPLATE template0" >>"$ilog" 2>&1 \
    || { show_log "$ilog"; die "ckan_$i: creating its database"; }
  # `db init` is `db upgrade`: CKAN's migrations, then those of the enabled plugins (activity).
  "${ckan[@]}" db init >>"$ilog" 2>&1 || { show_log "$ilog"; die "ckan_$i: ckan db init"; }
  "${ckan[@]}" sysadmin add admin --create email=admin@ckan-$i.test password=mediana-test-admin-$i \
    >>"$ilog" 2>&1 || { show_log "$ilog"; die "ckan_$i: ckan sysadmin add"; }
  token=$("${ckan[@]}" user token add admin mediana-tests --quiet 2>>"$ilog" | tail -1 | tr -d '[:space:]')
  [[ $token == ey* ]] || { show_log "$ilog"; die "ckan_$i: no API token from 'ckan user token add' (got '$token')"; }

  for try in 1 2 3; do
    ((try == 1)) || log "ckan_$i: start attempt $try"
    start_gunicorn "$i" "$port"
    pid=$(cat "$DIR/pids/ckan_$i.pid")
    url=http://127.0.0.1:$port
    if wait_http "$url/api/3/action/status_show" '"success": true' "$CKAN_TIMEOUT" "$pid"; then break; fi
    if ! pid_ours "$pid" && grep -q 'Connection in use' "$DIR/logs/ckan_$i.log"; then
      # Someone took the port between free_port and the bind: new port, and site_url with it.
      port=$(free_port)
      sed -i "s|^ckan.site_url = .*|ckan.site_url = http://127.0.0.1:$port|" "$DIR/ckan_$i/ckan.ini"
      log "ckan_$i: port taken, retrying on $port"
      continue
    fi
    show_log "$DIR/logs/ckan_$i.log"
    die "ckan_$i: status_show did not answer at $url within $CKAN_TIMEOUT s"
  done
  pid_ours "$pid" || die "ckan_$i: gunicorn could not bind a port"
  # The workers are gunicorn's children; recorded so `down` can make sure they are gone too.
  pgrep -P "$pid" >"$DIR/pids/ckan_$i.workers.pid" || true

  # Readiness: a real write through CKAN, PostgreSQL and Solr. Create an organization and a
  # dataset, find the dataset with package_search (indexed and committed in Solr), then purge
  # both and the activity rows they left, so the instance starts empty.
  {
    out=$(api "$url" "$token" organization_create '{"name": "mediana-readiness"}') &&
      org_id=$(json_get "$out" 'r["result"]["id"]') &&
      out=$(api "$url" "$token" package_create "$(readiness_dataset "$i")") &&
      pkg_id=$(json_get "$out" 'r["result"]["id"]') &&
      out=$(curl -fsS --max-time 30 -G "$url/api/3/action/package_search" --data-urlencode 'fq=name:"mediana-readiness"') &&
      [[ $(json_get "$out" 'r["result"]["count"]') == 1 ]] &&
      api "$url" "$token" dataset_purge '{"id": "mediana-readiness"}' >/dev/null &&
      api "$url" "$token" organization_purge '{"id": "mediana-readiness"}' >/dev/null &&
      psql_admin -d "ckan_$i" -c "DELETE FROM activity WHERE object_id IN ('$org_id', '$pkg_id')"
  } >>"$ilog" 2>&1 || { show_log "$ilog"; show_log "$DIR/logs/ckan_$i.log"; die "ckan_$i: the readiness write failed"; }

  printf 'MEDIANA_CKAN_%s_URL=%s\nMEDIANA_CKAN_%s_TOKEN=%s\n' "$i" "$url" "$i" "$token" >"$DIR/ckan_$i/env"
  log "ckan_$i ready at $url (gunicorn PID $pid)"
}

cmd_up() {
  local n=${1:-2} i pids=() t0=$SECONDS
  [[ $n =~ ^[1-9][0-9]?$ ]] || die "N must be a number from 1 to 99, not '$n'"
  "$here/setup.sh"
  if any_running; then die "$DIR is already up (run: $0 down $DIR)"; fi
  # A DIR left by a crashed run: clear what `up` writes (never anything else in DIR).
  clear_state
  mkdir -p "$DIR/logs" "$DIR/pids"
  # If anything below fails, stop whatever was started (the logs stay).
  trap 'rc=$?; if ((rc)); then log "up failed: stopping what was started"; cmd_down || true; fi' EXIT

  start_solr "$n"           # the JVM boots while PostgreSQL initialises
  install_extension
  start_postgres "$n"
  wait_solr "$n"
  for ((i = 1; i <= n; i++)); do
    up_instance "$i" &
    pids+=($!)
  done
  # Wait for all of them before judging, so none is still starting while `down` cleans up.
  local failed=()
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("ckan_$((i + 1))")
  done
  ((${#failed[@]} == 0)) || die "${failed[*]} did not start (see above and $DIR/logs/)"

  {
    echo "MEDIANA_CKAN_DIR=$DIR"
    echo "MEDIANA_CKAN_N=$n"
    echo "MEDIANA_CKAN_VERSION=2.12.0"
    echo "MEDIANA_CKAN_VENV=$VENV"       # its python runs the extension's pytest tests,
    echo "MEDIANA_CKAN_SITE=$DIR/site"   # with this on PYTHONPATH
    echo "MEDIANA_SOLR_URL=$SOLR_URL"
    echo "MEDIANA_PG_HOST=127.0.0.1"
    echo "MEDIANA_PG_PORT=$PG_PORT"
    for ((i = 1; i <= n; i++)); do
      cat "$DIR/ckan_$i/env"
      echo "MEDIANA_CKAN_${i}_SOLR_CORE=ckan_$i"
      echo "MEDIANA_CKAN_${i}_SOLR_URL=$SOLR_URL/ckan_$i"
      echo "MEDIANA_CKAN_${i}_DB_URL=postgresql://ckan_$i:ckan_$i@127.0.0.1:$PG_PORT/ckan_$i"
      echo "MEDIANA_CKAN_${i}_INI=$DIR/ckan_$i/ckan.ini"
      echo "MEDIANA_CKAN_${i}_ADMIN_USER=admin"
      echo "MEDIANA_CKAN_${i}_ADMIN_PASSWORD=mediana-test-admin-$i"
    done
  } >"$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
  trap - EXIT
  log "up in $((SECONDS - t0)) s: $n CKAN instance(s); source $DIR/env"
}

# --- down / status -----------------------------------------------------------------------

# Every PID recorded in DIR/pids, one per line.
recorded_pids() {
  cat "$DIR"/pids/*.pid 2>/dev/null | grep -E '^[0-9]+$' || true
}

any_running() {
  local pid
  for pid in $(recorded_pids); do pid_ours "$pid" && return 0; done
  return 1
}

clear_state() {
  local f
  for f in env env.tmp pg.port solr.port pids solr site src; do rm -rf "${DIR:?}/$f"; done
  rm -rf "$DIR"/ckan_[0-9]*
  if [[ -L $DIR/pg ]]; then rm -rf "$(readlink -f "$DIR/pg")"; fi
  rm -rf "$DIR/pg" "$DIR/pg.local"
  rm -rf "$DIR/logs.previous"
  [[ ! -d $DIR/logs ]] || mv "$DIR/logs" "$DIR/logs.previous"
}

cmd_down() {
  local f pid pgdata left=()
  [[ -d $DIR/pids ]] || { log "nothing recorded in $DIR/pids: nothing to stop"; return 0; }
  rm -f "$DIR/env"   # no longer usable
  # The gunicorn masters and Solr stop side by side (each may take a few seconds); then
  # PostgreSQL, once no CKAN is left to hold connections. A gunicorn master stops its workers
  # on SIGTERM; any worker still there afterwards (the recorded ones, and any forked since to
  # replace a dead one) is stopped by PID too.
  local workers=() stoppers=()
  for f in "$DIR"/pids/ckan_*.pid "$DIR/pids/solr.pid"; do
    [[ -e $f && $f != *.workers.pid && $f != *.gunicorn.pid ]] || continue
    pid=$(cat "$f")
    pid_ours "$pid" || continue
    mapfile -t -O "${#workers[@]}" workers < <(pgrep -P "$pid" || true)
    stop_pid "$pid" 30 &
    stoppers+=($!)
  done
  for pid in "${stoppers[@]}"; do wait "$pid" || true; done
  for pid in "${workers[@]}" $(cat "$DIR"/pids/ckan_*.workers.pid 2>/dev/null); do stop_pid "$pid" 5 || true; done
  pgdata=$(readlink -f "$DIR/pg" 2>/dev/null)/data
  if [[ -e $DIR/pids/postgres.pid ]] && pid_ours "$(cat "$DIR/pids/postgres.pid")"; then
    as_pg "$(pg_bin)/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || stop_pid "$(cat "$DIR/pids/postgres.pid")" 10 || true
  fi
  for pid in $(recorded_pids); do pid_ours "$pid" && left+=("$pid"); done
  ((${#left[@]} == 0)) || die "still running after down: PIDs ${left[*]}"
  # A cluster that lives in /tmp (see start_postgres) goes with the run; keep its log.
  if [[ -L $DIR/pg ]]; then
    cp "$(readlink -f "$DIR/pg")/postgres.log" "$DIR/logs/postgres.log.tmp" 2>/dev/null &&
      mv -f "$DIR/logs/postgres.log.tmp" "$DIR/logs/postgres.log"
    rm -rf "$(readlink -f "$DIR/pg")" "$DIR/pg"
  fi
  rm -rf "$DIR/pids"
  log "down: nothing of $DIR runs any more"
}

cmd_status() {
  local f name pid ok=0 url
  [[ -d $DIR/pids ]] || { echo "not up: $DIR/pids does not exist"; return 1; }
  for f in "$DIR"/pids/*.pid; do
    [[ -e $f && $f != *.gunicorn.pid ]] || continue
    name=$(basename "$f" .pid)
    for pid in $(cat "$f"); do
      if pid_ours "$pid"; then echo "$name: PID $pid running"; else echo "$name: PID $pid NOT running"; ok=1; fi
    done
  done
  if [[ -e $DIR/env ]]; then
    while IFS='=' read -r key url; do
      [[ $key =~ ^MEDIANA_CKAN_[0-9]+_URL$ ]] || continue
      if curl -fs --max-time 5 "$url/api/3/action/status_show" | grep -qF '"success": true'; then
        echo "${key%_URL}: $url answers"
      else
        echo "${key%_URL}: $url does NOT answer"; ok=1
      fi
    done <"$DIR/env"
    url=$(sed -n 's/^MEDIANA_SOLR_URL=//p' "$DIR/env")
    if curl -fs --max-time 5 "$url/admin/cores?action=STATUS" >/dev/null; then echo "solr: $url answers"; else echo "solr: $url does NOT answer"; ok=1; fi
  else
    echo "env: $DIR/env missing (not ready)"; ok=1
  fi
  return $ok
}

# --- main --------------------------------------------------------------------------------
(($# >= 2)) || usage
cmd=$1
[[ $cmd != up ]] || mkdir -p "$2"
[[ -d $2 ]] || { echo "$2: no such directory" >&2; exit 1; }
DIR=$(cd "$2" && pwd -P)
# DIR ends up inside config files (ckan.ini, PostgreSQL options) without quoting.
[[ $DIR =~ ^[A-Za-z0-9_./+-]+$ ]] || die "DIR may only hold letters, digits and _ . / + - (got '$DIR')"
case $cmd in
  up) cmd_up "${3:-2}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) usage ;;
esac
