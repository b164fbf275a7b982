#!/usr/bin/env bash
# `make bench BENCH=reusable_solutions`: N ReusableSolutions (default 500) through the
# operator, against the API server's own limit for the same children, on a fresh local
# control plane (or KUBECONFIG).
#
#   N=500 IDLE_SECONDS=300 tests/bench/reusable_solutions.sh
#
# Each solution has two components (a web server with a port, a worker without), no database
# and no exposure, so its children are 2 Deployments, a Service and 2 NetworkPolicies, and 2
# pods that kwok makes Ready. All of them are Ordinary data in one namespace, placed on the
# CloudTarget "local" (QC1), as the Helm chart creates it, with the same inline publiccode.yml.
#
# Reports, and adds to the ReusableSolutions section of docs/benchmarks.md:
# - baseline: the children of the N solutions, printed by `mediana render` and created with
#   `kubectl apply --server-side`, until every Deployment is ready;
# - operator: the N ReusableSolutions applied, until every one reports Ready=True;
# - their ratio (goal: at most 1.5);
# - API writes by the operator during IDLE_SECONDS of idle resyncs (goal: 0), from its
#   mediana_api_writes_total metric;
# - the operator's peak RSS (goal: under 100 MiB at N=500).
# The steps are shared with the other benchmarks in tests/bench/lib.sh.
set -euo pipefail
NAME=reusable_solutions # read by lib.sh
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

solutions() {  # solutions NAMESPACE > manifests
  python3 - "$1" "$N" <<'PY'
import sys
ns, n = sys.argv[1], int(sys.argv[2])
# The Designers Italia "Modello Comuni" theme, trimmed from its publiccode.yml (as in
# examples/reuse-sito-comune-recanati.yaml): valid, so that the reuse policy lets it run
# and the operator does the full validation for every solution.
publiccode = """publiccodeYmlVersion: "0.4"
name: Design Comuni Italia (WordPress)
url: "https://github.com/italia/design-comuni-wordpress-theme"
softwareVersion: v1.12.5
releaseDate: "2026-01-29"
platforms: [web]
categories: [content-management]
developmentStatus: stable
softwareType: standalone/web
description:
  it:
    shortDescription: Tema WordPress per i siti web dei Comuni italiani.
    longDescription: >
      Il tema WordPress del Modello Comuni è una soluzione pronta all'uso per realizzare e
      gestire i siti web dei Comuni, basata sul modello di sito istituzionale di Designers
      Italia: struttura informativa, layout delle pagine e navigazione già definiti.
    features: [Pagine strutturate secondo il Modello Comuni]
legal:
  license: AGPL-3.0-only
maintenance:
  type: community
  contacts:
    - name: Designers Italia
localisation:
  localisationReady: false
  availableLanguages: [it]
"""
inline = "\n".join("      " + line for line in publiccode.splitlines())
for i in range(n):
    print(f"""---
apiVersion: mediana.dev/v1alpha1
kind: ReusableSolution
metadata:
  name: sito-{i:05d}
  namespace: {ns}
spec:
  administration: {{ipaCode: c_{i:04d}}}
  dataClassification: Ordinary
  publiccode:
    inline: |
{inline}
  components:
    - name: web
      image: nginxinc/nginx-unprivileged:1.27
      ports: [{{name: http, containerPort: 8080}}]
    - name: worker
      image: busybox:1.37
      command: [sleep, infinity]
""")
PY
}

bench_init
solutions bench-base >"$work/base-solutions.yaml"
bench_baseline bench-base "$work/base-solutions.yaml"
# The target the chart creates for its own cluster (charts/mediana/values.yaml,
# localCloudTarget), which the operator uses for solutions that name none.
kubectl apply --server-side --field-manager=bench -f - >/dev/null <<'YAML'
apiVersion: mediana.dev/v1alpha1
kind: CloudTarget
metadata:
  name: local
spec:
  provider: Local cluster
  qualification: QC1
  psn: false
YAML
bench_start_operator
solutions bench-op >"$work/op-solutions.yaml"
bench_operator reusablesolutions.mediana.dev bench-op "$work/op-solutions.yaml"
bench_idle
bench_report ReusableSolutions
