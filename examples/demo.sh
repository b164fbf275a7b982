#!/usr/bin/env bash
# `make demo`: runs the operator against the cluster of KUBECONFIG or, when none answers, a
# local control plane; installs the CRDs, applies every example and prints their status.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
demo_dir=$repo/.controlplane/demo
mkdir -p "$demo_dir"
log() { printf '[demo %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
tests/controlplane/build.sh
mediana_toolchain_env
cargo build --locked --quiet
mediana=$repo/target/debug/mediana

cleanup=(mediana_cluster_down)
stop_all() { for c in "${cleanup[@]}"; do eval "$c" || true; done; }
trap stop_all EXIT
mediana_cluster_up "$demo_dir/cluster"

log "installing the CRDs"
"$mediana" crds | kubectl apply --server-side --field-manager=mediana-demo -f - >/dev/null
kubectl wait --for=condition=Established crd/catalognodes.mediana.dev crd/harvestjobs.mediana.dev \
  crd/reusablesolutions.mediana.dev crd/cloudtargets.mediana.dev --timeout=30s >/dev/null

log "starting the operator (log: $demo_dir/operator.log)"
"$mediana" run --probe-addr 127.0.0.1:0 >"$demo_dir/operator.log" 2>&1 &
operator_pid=$!
cleanup=("kill $operator_pid; wait $operator_pid 2>/dev/null" "${cleanup[@]}")

log "applying the local CloudTarget and the examples"
kubectl apply --server-side --field-manager=mediana-demo -f - >/dev/null <<'CT'
apiVersion: mediana.dev/v1alpha1
kind: CloudTarget
metadata: {name: local}
spec: {provider: Local cluster, qualification: QC1}
CT
for f in examples/*.yaml; do
  # Namespaces first: kubectl applies a file's documents in order.
  kubectl apply --server-side --field-manager=mediana-demo -f <(python3 - "$f" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---")
print("\n---".join(sorted(docs, key=lambda d: "kind: Namespace" not in d)))
PY
) >/dev/null
  log "  applied $f"
done

log "waiting for the operator to report status"
sleep 5
echo
kubectl get mediana --all-namespaces
echo
kubectl get catalognodes.mediana.dev -A -o custom-columns='NAMESPACE:.metadata.namespace,NAME:.metadata.name,GENERATION:.metadata.generation,OBSERVED:.status.observedGeneration,READY:.status.conditions[?(@.type=="Ready")].status,REASON:.status.conditions[?(@.type=="Ready")].reason'
echo
if [[ -t 0 ]]; then
  log "the cluster is up: KUBECONFIG=$KUBECONFIG. Press Enter to stop the operator and the demo cluster."
  read -r _
fi
