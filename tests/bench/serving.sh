#!/usr/bin/env bash
# `make bench BENCH=serving`: how long a CatalogNode takes to serve on the real node, through
# the operator, against the same children applied by hand, for SIZES nodes at once
# (default "1 5"), on a fresh local control plane with a real node, in a network namespace.
#
#   SIZES="1 5" tests/bench/serving.sh
#
# For each size, in the same run on the same node, each phase from an empty namespace:
# - baseline: what a person who knows CKAN does with the children `mediana render` prints:
#   `kubectl apply --server-side` of all but CKAN's two Deployments; once PostgreSQL is
#   ready, `ckan db init` in a pod made from the web Deployment's template; then the
#   Deployments; timed until every node's CKAN answers `status_show` through its Service;
# - operator: the CatalogNodes applied, timed until every CKAN answers `status_show` the
#   same way, and until every node reports Ready=True;
# - the ratio of the two times to `status_show` (goal: at most 1.2).
# Images are built (cached by recipe) and imported before the clock starts, as on a cluster
# whose nodes have pulled them before.
set -euo pipefail
NAME=serving # read by lib.sh
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SIZES=${SIZES:-1 5}
IMAGES=(ckan solr postgres redis)

if [[ -z ${MEDIANA_BENCH_NETNS:-} ]]; then
  # Outside the namespace (it reaches no registry): the toolchain, the release binary, the
  # images. Then again inside a namespace of its own.
  cd "$repo"
  tests/controlplane/build.sh
  cargo build --release --locked --quiet
  images/build.sh "${IMAGES[@]}" >/dev/null
  MEDIANA_BENCH_NETNS=1 exec tests/controlplane/netns.sh "$repo/tests/bench/serving.sh"
fi

cd "$repo"
export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
mediana_toolchain_env
work=$repo/.controlplane/bench/$NAME
rm -rf "$work"; mkdir -p "$work"
cleanup=("tests/controlplane/cluster.sh down $work/node >/dev/null 2>&1")
# shellcheck disable=SC2154  # c is the trap's own loop variable
trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done' EXIT
tests/controlplane/cluster.sh up-node "$work/node" >"$work/node.log" 2>&1 || { tail -40 "$work/node.log"; exit 1; }
export KUBECONFIG=$work/node/kubeconfig
tests/controlplane/node.sh load "$work/node" "${IMAGES[@]}" >/dev/null
"$mediana" crds | kubectl apply --server-side -f - >/dev/null
kubectl wait --for=condition=Established crd/catalognodes.mediana.dev --timeout=30s >/dev/null

# COUNT CatalogNodes comune-0..N-1 in NAMESPACE, sized so that five fit the node's 2 CPUs.
nodes() {  # nodes NAMESPACE COUNT > manifests
  python3 - "$1" "$2" <<'PY'
import json, sys
ns, count = sys.argv[1], int(sys.argv[2])
def small(cpu, memory):
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}
for i in range(count):
    print("---")
    print(json.dumps({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": f"comune-{i}", "namespace": ns},
        "spec": {
            "hostname": f"dati.comune-{i}.example.it", "publisher": {"ipaCode": f"c_{i:04d}"},
            "replicas": 1, "resources": small("50m", "1Gi"),
            "database": {"managed": {"resources": small("50m", "256Mi")}},
            "search": {"managed": {"resources": small("50m", "1Gi")}},
            "redis": {"managed": {"resources": small("10m", "64Mi")}},
            "ingress": {"enabled": False}, "deletionPolicy": "Delete",
        },
    }))
PY
}

# Waits until the CKAN of each of COUNT nodes in NAMESPACE answers `status_show` through its
# Service (the API server's proxy, as the operator asks it).
wait_serving() {  # wait_serving NAMESPACE COUNT
  local ns=$1 count=$2 i start=$SECONDS
  for ((i = 0; i < count; i++)); do
    until kubectl get --raw "/api/v1/namespaces/$ns/services/comune-$i-ckan:http/proxy/api/3/action/status_show" 2>/dev/null |
      python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin).get("success") else 1)' 2>/dev/null; do
      ((SECONDS - start < 1800)) || { log "timeout: comune-$i in $ns does not serve"; kubectl get pods -n "$ns" >&2; exit 1; }
      sleep 1
    done
  done
}

# A pod that runs `ckan db init` for node NODE, made from its web Deployment's template in the
# rendered children (same image, ckan.ini, environment and volumes), as a maintenance pod so
# that the database's NetworkPolicy admits it.
db_init_pod() {  # db_init_pod CHILDREN NODE > pod
  python3 - "$1" "$2" <<'PY'
import json, sys, yaml
children, node = sys.argv[1:]
web = next(d for d in yaml.safe_load_all(open(children))
           if d and d["kind"] == "Deployment" and d["metadata"]["name"] == f"{node}-ckan")
template = web["spec"]["template"]
labels = dict(template["metadata"]["labels"], **{"app.kubernetes.io/component": "maintenance"})
spec = template["spec"]
spec["restartPolicy"] = "Never"
container = spec["containers"][0]
container["command"] = ["ckan", "db", "init"]
for probe in ("readinessProbe", "livenessProbe", "startupProbe", "ports"):
    container.pop(probe, None)
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {
    "name": f"{node}-db-init", "namespace": web["metadata"]["namespace"], "labels": labels}, "spec": spec}))
PY
}

baseline() {  # baseline NAMESPACE COUNT; sets t_base
  local ns=$1 count=$2 t0 i
  kubectl create namespace "$ns" >/dev/null
  nodes "$ns" "$count" >"$work/$ns-nodes.yaml"
  "$mediana" render --generate-secrets -f "$work/$ns-nodes.yaml" >"$work/$ns-children.yaml"
  python3 - "$work/$ns-children.yaml" "$work/$ns" <<'PY'
import sys, yaml
children, out = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(children)) if d]
ckan = lambda d: d["kind"] == "Deployment" and d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") in ("web", "worker")
yaml.safe_dump_all([d for d in docs if not ckan(d)], open(f"{out}-first.yaml", "w"))
yaml.safe_dump_all([d for d in docs if ckan(d)], open(f"{out}-ckan.yaml", "w"))
PY
  for ((i = 0; i < count; i++)); do db_init_pod "$work/$ns-children.yaml" "comune-$i" >"$work/$ns-db-init-$i.json"; done
  log "baseline: $count node(s) by hand"
  t0=$(now)
  kubectl apply --server-side --field-manager=bench -f "$work/$ns-first.yaml" >/dev/null
  for ((i = 0; i < count; i++)); do
    kubectl rollout status -n "$ns" "statefulset/comune-$i-postgres" --timeout=1800s >/dev/null
    kubectl create -f "$work/$ns-db-init-$i.json" >/dev/null
  done
  for ((i = 0; i < count; i++)); do
    kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Succeeded "pod/comune-$i-db-init" --timeout=1800s >/dev/null \
      || { kubectl logs -n "$ns" "comune-$i-db-init" | tail -20 >&2; exit 1; }
  done
  kubectl apply --server-side --field-manager=bench -f "$work/$ns-ckan.yaml" >/dev/null
  wait_serving "$ns" "$count"
  t_base=$(elapsed "$t0")
  log "baseline: $count node(s) serve after ${t_base} s"
  kubectl delete namespace "$ns" --wait=true --timeout=600s >/dev/null
}

operator() {  # operator NAMESPACE COUNT; sets t_op and t_ready
  local ns=$1 count=$2 t0
  kubectl create namespace "$ns" >/dev/null
  nodes "$ns" "$count" >"$work/$ns-nodes.yaml"
  log "operator: $count CatalogNode(s)"
  t0=$(now)
  kubectl apply --server-side --field-manager=bench -f "$work/$ns-nodes.yaml" >/dev/null
  wait_serving "$ns" "$count"
  t_op=$(elapsed "$t0")
  wait_until "CatalogNodes Ready" "catalognodes -n $ns" \
    "len(items) == $count and all(any(c['type']=='Ready' and c['status']=='True' for c in (i.get('status') or {}).get('conditions', [])) for i in items)"
  t_ready=$(elapsed "$t0")
  log "operator: $count node(s) serve after ${t_op} s, Ready after ${t_ready} s"
  kubectl delete catalognodes -n "$ns" --all --wait=true --timeout=600s >/dev/null
  kubectl delete namespace "$ns" --wait=true --timeout=600s >/dev/null
}

bench_start_operator
rows=""
for size in $SIZES; do
  baseline "base-$size" "$size"
  operator "op-$size" "$size"
  ratio=$(python3 -c "print(f'{$t_op/$t_base:.2f}')")
  rows+="| $size | ${t_base} s | ${t_op} s | ${t_ready} s | ${ratio} |"$'\n'
done
report=$(cat <<MD

### $(date -u +%Y-%m-%d) — SIZES="$SIZES" (\`make bench BENCH=serving\`), commit $(git rev-parse --short HEAD)

| nodes at once | baseline: by hand, until \`status_show\` answers | operator: until \`status_show\` answers | operator: until \`Ready=True\` | ratio (goal ≤ 1.2) |
|---|---|---|---|---|
${rows%$'\n'}
MD
)
echo "$report"
bench_append "$report"
