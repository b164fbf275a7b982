#!/usr/bin/env bash
# `make bench BENCH=catalognodes`: N CatalogNodes (default 500) through the operator, against
# the API server's own limit for the same children, on a fresh local control plane (or
# KUBECONFIG).
#
#   N=500 IDLE_SECONDS=300 tests/bench/catalognodes.sh
#
# Reports, and adds to the CatalogNodes section of docs/benchmarks.md:
# - baseline: the children of the N nodes, printed by `mediana render` and created with
#   `kubectl apply --server-side`, until every Deployment and StatefulSet is ready;
# - operator: the N CatalogNodes applied, until every node reports Ready=True;
# - their ratio (goal: at most 1.5);
# - API writes by the operator during IDLE_SECONDS of idle resyncs (goal: 0), from its
#   mediana_api_writes_total metric;
# - the operator's peak RSS (goal: under 100 MiB at N=500).
# The steps are shared with the other benchmarks in tests/bench/lib.sh.
set -euo pipefail
NAME=catalognodes # read by lib.sh
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

bench_init
nodes bench-base >"$work/base-nodes.yaml"
bench_baseline bench-base "$work/base-nodes.yaml"
bench_start_operator
nodes bench-op >"$work/op-nodes.yaml"
bench_operator catalognodes.mediana.dev bench-op "$work/op-nodes.yaml"
bench_idle
bench_report CatalogNodes
