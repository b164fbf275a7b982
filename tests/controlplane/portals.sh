# shellcheck shell=bash
# Shared by `make demo` and `make bench BENCH=chain` (sourced, not run): the CKAN of a
# CatalogNode on the real node, seen from the node's network namespace: its URL, a sysadmin
# token, datasets published through its API, and HarvestJobs run now.

# The node's CKAN, through its Service.
portal_url() {  # portal_url NAMESPACE NODE
  echo "http://$(kubectl get service -n "$1" "$2-ckan" -o jsonpath='{.spec.clusterIP}')"
}

# A sysadmin API token named NAME, from CKAN's CLI in the node's web pod (ckanext-mediana's
# command revokes the earlier tokens of that name).
portal_token() {  # portal_token NAMESPACE NODE NAME
  kubectl exec -n "$1" "deploy/$2-ckan" -- sh -c "ckan mediana harvest-token admin $3" 2>/dev/null | tail -n 1
}

# The organization and the datasets of FILE ({"organization": {...}, "datasets": [...]}),
# created through the CKAN API; what exists already is left as it is.
portal_publish() {  # portal_publish NAMESPACE NODE FILE
  local url key; url=$(portal_url "$1" "$2") key=$(portal_token "$1" "$2" mediana-publish)
  python3 - "$url" "$key" "$3" <<'PY'
import json, sys, urllib.request, urllib.error
url, token, file = sys.argv[1:]
data = json.load(open(file))
def action(name, body):
    request = urllib.request.Request(f"{url}/api/3/action/{name}", json.dumps(body).encode(),
        {"Authorization": token, "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        answer = err.read().decode()
        if "already" not in answer:
            sys.exit(f"{name} {body.get('name')}: {answer}")
action("organization_create", data["organization"])
for dataset in data["datasets"]:
    action("package_create", dataset)
PY
}

# The number of datasets the node's CKAN finds.
portal_count() {  # portal_count NAMESPACE NODE
  curl -fsS "$(portal_url "$1" "$2")/api/3/action/package_search?rows=0" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["count"])'
}

# Runs the HarvestJobs now, as a person does (the run-now annotation), and waits until each
# one's run has ended, for at most MEDIANA_HARVEST_TIMEOUT seconds in all (default 600).
# Prints "JOB RESULT MESSAGE" per job; fails when one has not ended in time.
portal_harvest_now() {  # portal_harvest_now NAMESPACE JOB...
  local ns=$1 job line deadline=$((SECONDS + ${MEDIANA_HARVEST_TIMEOUT:-600})); shift
  local stamp; stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  kubectl annotate harvestjobs -n "$ns" "$@" "mediana.dev/run-now=$stamp" --overwrite >/dev/null
  for job in "$@"; do
    # A run that ended after the annotation: its start is not before the stamp.
    until line=$(kubectl get harvestjob -n "$ns" "$job" -o json | python3 -c '
import json, sys
run = (json.load(sys.stdin).get("status") or {}).get("lastRun") or {}
ended = run.get("result") not in (None, "Pending", "Running") and run.get("startTime", "") >= sys.argv[1]
print(run.get("result"), run.get("message", "")) if ended else sys.exit(1)' "$stamp"); do
      ((SECONDS < deadline)) || { echo "$job: no finished run after ${MEDIANA_HARVEST_TIMEOUT:-600} s" >&2; return 1; }
      sleep 2
    done
    echo "$job $line"
  done
}
