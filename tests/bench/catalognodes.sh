#!/usr/bin/env bash
# `make bench`: N CatalogNodes (default 500) through the operator, against the API server's own
# limit for the same children, on a fresh local control plane (or KUBECONFIG).
#
#   N=500 IDLE_SECONDS=300 tests/bench/catalognodes.sh
#
# Reports, and appends to docs/benchmarks.md:
# - baseline: the children of the N nodes, printed by `mediana render` and created with
#   `kubectl apply --server-side`, until every Deployment and StatefulSet is ready;
# - operator: the N CatalogNodes applied, until every node reports Ready=True;
# - their ratio (goal: at most 1.5);
# - API writes by the operator during IDLE_SECONDS of idle resyncs (goal: 0), from its
#   mediana_api_writes_total metric;
# - the operator's peak RSS (goal: under 100 MiB at N=500).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
N=${N:-500}
IDLE_SECONDS=${IDLE_SECONDS:-300}
work=$repo/.controlplane/bench
rm -rf "$work"; mkdir -p "$work"
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
tests/controlplane/build.sh
mediana_toolchain_env
cargo build --release --locked --quiet
mediana=$repo/target/release/mediana

cleanup=(mediana_cluster_down)
trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done' EXIT
mediana_cluster_up "$work/cluster"
"$mediana" crds | kubectl apply --server-side -f - >/dev/null
kubectl wait --for=condition=Established crd/catalognodes.mediana.dev --timeout=30s >/dev/null

nodes() {  # nodes NAMESPACE > manifests
  python3 - "$1" "$N" <<'PY'
import sys
ns, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    print(f"""---
apiVersion: mediana.dev/v1alpha1
kind: CatalogNode
metadata:
  name: comune-{i:05d}
  namespace: {ns}
spec:
  hostname: dati.comune-{i:05d}.example.it
  publisher: {{ipaCode: c_{i:04d}}}
""")
PY
}

# Polls a Python predicate over `kubectl get ... -o json` until it holds; prints seconds.
wait_until() {  # wait_until WHAT KUBECTL-ARGS PYTHON-EXPR
  local what=$1 args=$2 expr=$3 start=$SECONDS
  until kubectl get $args -o json | python3 -c "import json,sys; items=json.load(sys.stdin)['items']; sys.exit(0 if ($expr) else 1)"; do
    ((SECONDS - start < 3600)) || { log "timeout waiting for $what"; exit 1; }
    sleep 2
  done
}

now() { date +%s.%N; }

log "baseline: kubectl apply --server-side of the rendered children of $N nodes"
kubectl create namespace bench-base >/dev/null
nodes bench-base >"$work/base-nodes.yaml"
"$mediana" render -f "$work/base-nodes.yaml" >"$work/base-children.yaml"
t0=$(now)
kubectl apply --server-side --field-manager=bench -f "$work/base-children.yaml" >/dev/null
wait_until "baseline workloads" "deployments,statefulsets -n bench-base" \
  "len(items) == 4*$N and all((i['status'].get('readyReplicas') or 0) >= (i['spec'].get('replicas') or 1) for i in items)"
t_base=$(python3 -c "print(f'{$(now) - $t0:.1f}')")
log "baseline: ${t_base} s"
kubectl delete namespace bench-base --wait=true --timeout=600s >/dev/null

log "operator: $N CatalogNodes"
"$mediana" run --probe-addr 127.0.0.1:18099 --lease-name bench-leader >"$work/operator.log" 2>&1 &
operator=$!
cleanup=("kill $operator; wait $operator 2>/dev/null" "${cleanup[@]}")
until curl -fsS http://127.0.0.1:18099/readyz >/dev/null 2>&1; do sleep 0.5; done
kubectl create namespace bench-op >/dev/null
nodes bench-op >"$work/op-nodes.yaml"
t0=$(now)
kubectl apply --server-side --field-manager=bench -f "$work/op-nodes.yaml" >/dev/null
wait_until "CatalogNodes Ready" "catalognodes.mediana.dev -n bench-op" \
  "len(items) == $N and all(any(c['type']=='Ready' and c['status']=='True' for c in (i.get('status') or {}).get('conditions', [])) for i in items)"
t_op=$(python3 -c "print(f'{$(now) - $t0:.1f}')")
log "operator: ${t_op} s"

writes() { curl -fsS http://127.0.0.1:18099/metrics | python3 -c "import sys; print(int(sum(float(l.split()[-1]) for l in sys.stdin if l.startswith('mediana_api_writes_total'))))"; }
sleep 10  # let the last status writes of the rollout land
w0=$(writes)
log "idle for ${IDLE_SECONDS} s"
sleep "$IDLE_SECONDS"
w1=$(writes)
idle=$((w1 - w0))
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$operator/status")
rss=$(python3 -c "print(f'{$rss_kib/1024:.1f}')")
ratio=$(python3 -c "print(f'{$t_op/$t_base:.2f}')")

report=$(cat <<MD

### $(date -u +%Y-%m-%d) — N=$N CatalogNodes, idle ${IDLE_SECONDS} s (\`N=$N IDLE_SECONDS=$IDLE_SECONDS make bench\`)

| measure | figure | goal |
|---|---|---|
| baseline: rendered children by \`kubectl apply --server-side\`, until all workloads ready | ${t_base} s | |
| operator: CatalogNodes applied, until all \`Ready=True\` | ${t_op} s | |
| ratio operator / baseline | ${ratio} | ≤ 1.5 |
| API writes by the operator while idle | ${idle} | 0 |
| operator peak RSS (VmHWM) | ${rss} MiB | < 100 MiB at N=500 |
MD
)
echo "$report"
echo "$report" >>docs/benchmarks.md
