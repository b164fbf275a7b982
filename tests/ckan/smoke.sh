#!/usr/bin/env bash
# Smoke test of the CKAN test peers that `tests/ckan/ckan.sh up DIR` started, through DIR/env.
# Against every instance: organization_create; package_create with an `identifier` extra and
# 2 resources; package_search by fq=extras_identifier; package_patch; the DCAT endpoints
# /catalog.ttl, /dataset/<name>.rdf and /dataset/<id>.ttl (parsed with rdflib, not grepped);
# package_delete, dataset_purge, organization_purge. Also checks that the real Solr answers:
# its core list, and the dataset's document in the instance's core (and its absence after
# the purge).
#
#   tests/ckan/smoke.sh DIR      exits 0 when everything passed, else 1 with a message
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: tests/ckan/smoke.sh DIR}
[[ -r $DIR/env ]] || { echo "smoke: $DIR/env not found: is '$here/ckan.sh up $DIR' done?" >&2; exit 1; }
eval "$("$here/setup.sh" --print)"   # CKAN_CACHE=...
PY=$CKAN_CACHE/venv/bin/python       # has rdflib (a dependency of ckanext-dcat)

# DIR/env is KEY=value lines; read them without executing anything.
declare -A env
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Z0-9_]+$ ]] && env[$key]=$value
done <"$DIR/env"

run_id=$(date +%s)-$RANDOM
passed=0
failed=0
say() { printf '[smoke %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
fail() { say "FAIL: $*"; failed=$((failed + 1)); return 1; }

# Evaluates a Python expression on the JSON in $1 (bound to r); prints the result.
jq_py() {
  "$PY" -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# check DESCRIPTION JSON EXPR: passes when EXPR (Python, on r) is true.
check() {
  local what=$1 json=$2 expr=$3
  if [[ $(jq_py "$json" "bool($expr)" 2>/dev/null) == True ]]; then
    passed=$((passed + 1))
  else
    fail "$what: expected $expr, got: ${json:0:600}"
  fi
}

# POST an action with the sysadmin token; prints CKAN's JSON reply (whatever success says).
post() {
  curl -sS --max-time 60 -X POST "$url/api/3/action/$1" -H "Authorization: $token" \
    -H 'Content-Type: application/json' -d "$2"
}
# GET an action with query parameters given as name=value (URL-encoded here).
get() {
  local action=$1 args=() p
  shift
  for p in "$@"; do args+=(--data-urlencode "$p"); done
  curl -sS --max-time 60 -G "$url/api/3/action/$action" -H "Authorization: $token" "${args[@]}"
}

smoke_solr() {
  local solr=${env[MEDIANA_SOLR_URL]} n=${env[MEDIANA_CKAN_N]} out i
  say "Solr $solr: core status"
  out=$(curl -sS --max-time 30 "$solr/admin/cores?action=STATUS&wt=json")
  for ((i = 1; i <= n; i++)); do
    check "Solr lists core ckan_$i" "$out" "r['status']['ckan_$i']['name'] == 'ckan_$i' and not r['initFailures']"
  done
  out=$(curl -sS --max-time 30 "$solr/admin/info/system?wt=json")
  check "Solr is version 9" "$out" "r['lucene']['solr-spec-version'].startswith('9.')"
}

smoke_instance() {
  local i=$1 out org ds ident id rdf
  url=${env[MEDIANA_CKAN_${i}_URL]}
  token=${env[MEDIANA_CKAN_${i}_TOKEN]}
  local core_url=${env[MEDIANA_SOLR_URL]}/${env[MEDIANA_CKAN_${i}_SOLR_CORE]}
  org=smoke-org-$run_id
  ds=smoke-ds-$run_id
  ident="urn:mediana:smoke:$run_id:$i"
  say "ckan_$i $url: organization $org, dataset $ds"

  out=$(get status_show)
  check "status_show" "$out" "r['success'] and r['result']['ckan_version'] == '2.12.0' and 'dcat' in r['result']['extensions']"

  out=$(post organization_create "{\"name\": \"$org\", \"title\": \"Smoke org $run_id\"}")
  check "organization_create" "$out" "r['success'] and r['result']['name'] == '$org'"

  out=$(post package_create "$(cat <<EOF
{"name": "$ds", "title": "Smoke dataset $run_id", "owner_org": "$org",
 "notes": "Created by tests/ckan/smoke.sh", "license_id": "cc-by",
 "extras": [{"key": "identifier", "value": "$ident"}],
 "tags": [{"name": "smoke"}],
 "resources": [
   {"name": "data.csv", "url": "http://example.org/$run_id/data.csv", "format": "CSV"},
   {"name": "data.json", "url": "http://example.org/$run_id/data.json", "format": "JSON"}]}
EOF
)")
  check "package_create" "$out" "r['success'] and r['result']['num_resources'] == 2"
  id=$(jq_py "$out" "r['result']['id']" 2>/dev/null) || { fail "package_create returned no id"; return 1; }

  # Right after the write: CKAN hard-commits, so the search must see it at once.
  out=$(get package_search "fq=extras_identifier:\"$ident\"")
  check "package_search fq=extras_identifier" "$out" \
    "r['success'] and r['result']['count'] == 1 and r['result']['results'][0]['name'] == '$ds'"

  out=$(curl -sS --max-time 30 -G "$core_url/select" --data-urlencode "q=name:\"$ds\"" --data-urlencode 'fl=id,name,site_id,index_id' --data-urlencode 'wt=json')
  check "Solr /select on ${env[MEDIANA_CKAN_${i}_SOLR_CORE]} finds the dataset" "$out" \
    "r['response']['numFound'] == 1 and r['response']['docs'][0]['id'] == '$id' and r['response']['docs'][0]['site_id'] == 'ckan_$i'"

  out=$(post package_patch "{\"id\": \"$ds\", \"title\": \"Patched $run_id\"}")
  check "package_patch" "$out" "r['success'] and r['result']['title'] == 'Patched $run_id' and r['result']['num_resources'] == 2"
  out=$(get package_search "fq=extras_identifier:\"$ident\"")
  check "package_search sees the patch" "$out" "r['result']['count'] == 1 and r['result']['results'][0]['title'] == 'Patched $run_id'"

  # DCAT: the catalogue and the dataset in RDF, parsed (not just grepped) with rdflib.
  rdf=$(mktemp)
  if curl -sS --max-time 60 -fo "$rdf" "$url/catalog.ttl"; then
    out=$("$PY" "$here/rdf_check.py" "$rdf" turtle "$ident" 2>&1) || true
    check "/catalog.ttl lists the dataset" "$out" "r['datasets_with_identifier'] == 1"
  else
    fail "/catalog.ttl: HTTP error"
  fi
  if curl -sS --max-time 60 -fo "$rdf" "$url/dataset/$ds.rdf"; then
    out=$("$PY" "$here/rdf_check.py" "$rdf" xml "$ident" 2>&1) || true
    check "/dataset/$ds.rdf describes the dataset" "$out" \
      "r['datasets_with_identifier'] == 1 and r['distributions'] == 2 and r['title'] == 'Patched $run_id'"
  else
    fail "/dataset/$ds.rdf: HTTP error"
  fi
  if curl -sS --max-time 60 -fo "$rdf" "$url/dataset/$id.ttl"; then
    out=$("$PY" "$here/rdf_check.py" "$rdf" turtle "$ident" 2>&1) || true
    check "/dataset/<id>.ttl describes the dataset" "$out" "r['datasets_with_identifier'] == 1 and r['distributions'] == 2"
  else
    fail "/dataset/$id.ttl: HTTP error"
  fi
  rm -f "$rdf"

  out=$(post package_delete "{\"id\": \"$ds\"}")
  check "package_delete" "$out" "r['success']"
  out=$(get package_show "id=$ds")
  check "package_show after delete: state deleted" "$out" "r['success'] and r['result']['state'] == 'deleted'"
  out=$(get package_search "fq=extras_identifier:\"$ident\"")
  check "package_search no longer finds it" "$out" "r['success'] and r['result']['count'] == 0"

  out=$(post dataset_purge "{\"id\": \"$ds\"}")
  check "dataset_purge" "$out" "r['success']"
  out=$(get package_show "id=$ds")
  check "package_show after purge: not found" "$out" "not r['success'] and r['error']['__type'] == 'Not Found Error'"
  out=$(curl -sS --max-time 30 -G "$core_url/select" --data-urlencode "q=id:\"$id\"" --data-urlencode 'wt=json')
  check "Solr no longer holds the document" "$out" "r['response']['numFound'] == 0"

  out=$(post organization_purge "{\"id\": \"$org\"}")
  check "organization_purge" "$out" "r['success']"
}

smoke_solr || true
for ((i = 1; i <= ${env[MEDIANA_CKAN_N]}; i++)); do
  smoke_instance "$i" || true
done

say "$passed checks passed, $failed failed"
echo "$passed passed, $failed failed"
((failed == 0))
