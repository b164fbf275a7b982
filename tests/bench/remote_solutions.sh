#!/usr/bin/env bash
# `make bench BENCH=remote_solutions`: time to Ready of N ReusableSolutions (default 100)
# spread over two spokes, beside the same N on the hub's own cluster, with one operator.
#
#   N=100 tests/bench/remote_solutions.sh
#
# The solutions are reusable_solutions.sh's (its `solutions` function is read from that
# file, so the two benchmarks measure the same objects): two components, Ordinary data, 5
# children and 2 pods that kwok makes Ready. Three fresh local control planes: the hub (or
# KUBECONFIG) and two spokes (always local), all up during both phases so that each phase
# runs beside the same idle clusters. The operator runs once, against the hub, and reaches
# each spoke as the ServiceAccount `mediana spoke-rbac` prints, through a kubeconfig Secret
# made from its token (as tests/broker.rs does) and a CloudTarget spoke-1 / spoke-2 (QC1).
#
# 1. single cluster: the N solutions in bench-local, on the CloudTarget "local", until all
#    report Ready=True on the hub;
# 2. two spokes: the N solutions in bench-spokes, alternately placed on spoke-1 and spoke-2,
#    until all report Ready=True on the hub. Then each spoke must hold exactly its half of the
#    Deployments, ready, in the namespaces bench-spokes-rsol-<name>, and the hub none.
#
# The hub watches its own Deployments but polls those on spokes (every 10 s while they roll
# out, docs/broker.md), so the phase also reports, from the conditions' lastTransitionTime
# (to the second), when the workloads became available against when the hub said Ready.
#
# Reports, and adds to its section of docs/benchmarks.md: both times, their ratio (spokes /
# single), those lags, the reconciles each phase took, the operator's peak RSS, and the
# machine's load average (/proc/loadavg) at the start, between the phases and at the end.
set -euo pipefail
NAME=remote_solutions # read by lib.sh
N=${N:-100}           # before lib.sh, whose default is 500
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# solutions NAMESPACE > manifests, from reusable_solutions.sh.
eval "$(sed -n '/^solutions() {/,/^}/p' "$repo/tests/bench/reusable_solutions.sh")"
declare -F solutions >/dev/null || { log "no solutions() in tests/bench/reusable_solutions.sh"; exit 1; }

# The same manifests with spec.placement.target set, alternately to each TARGET.
placed() {  # placed TARGET... < manifests > manifests
  awk -v targets="$*" 'BEGIN { n = split(targets, t, " ") }
    { print }
    /^  dataClassification: / { print "  placement: {target: " t[i++ % n + 1] "}" }'
}

spoke() {  # spoke I VAR: MEDIANA_SPOKE_<I>_<VAR>
  local v=MEDIANA_SPOKE_$1_$2
  echo "${!v}"
}

# The broker's access to spoke I, set up with the spoke's admin kubeconfig as
# `mediana spoke-rbac` prints it; the kubeconfig of its token (server and CA from the
# spoke's own) in the Secret mediana-system/spoke-I on the hub, and the CloudTarget
# spoke-I (QC1) that names it.
spoke_target() {  # spoke_target I
  local i=$1 admin token="" server ca start=$SECONDS
  admin=$(spoke "$i" KUBECONFIG)
  "$mediana" spoke-rbac --namespace mediana-system --name mediana-broker |
    kubectl --kubeconfig "$admin" apply --server-side --field-manager=bench -f - >/dev/null
  until [[ -n $token ]]; do
    ((SECONDS - start < 60)) || { log "spoke-$i: its token controller filled no token in 60 s"; exit 1; }
    sleep 0.5
    token=$(kubectl --kubeconfig "$admin" get secret mediana-broker-token -n mediana-system -o jsonpath='{.data.token}')
  done
  server=$(kubectl --kubeconfig "$admin" config view --raw -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(kubectl --kubeconfig "$admin" config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  (
    umask 077
    cat >"$work/spoke-$i.broker-kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: spoke-$i
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: mediana-broker
  user:
    token: $(base64 -d <<<"$token")
contexts:
- name: spoke-$i
  context: {cluster: spoke-$i, user: mediana-broker}
current-context: spoke-$i
KC
  )
  kubectl create secret generic "spoke-$i" -n mediana-system --from-file=kubeconfig="$work/spoke-$i.broker-kubeconfig" \
    --dry-run=client -o yaml | kubectl apply --server-side --field-manager=bench -f - >/dev/null
  kubectl apply --server-side --field-manager=bench -f - >/dev/null <<YAML
apiVersion: mediana.dev/v1alpha1
kind: CloudTarget
metadata:
  name: spoke-$i
spec:
  provider: Spoke $i (bench)
  qualification: QC1
  psn: false
  kubeconfigSecretRef: {namespace: mediana-system, name: spoke-$i, key: kubeconfig}
YAML
}

# A counter of the operator's, summed over its label sets for the ReusableSolution controller.
metric() {  # metric NAME
  curl -fsS "http://$BENCH_PROBE_ADDR/metrics" |
    python3 -c "import sys; print(sum(float(l.split()[-1]) for l in sys.stdin if l.startswith('$1{') and 'controller=\"ReusableSolution\"' in l))"
}

load() { cut -d' ' -f1-3 /proc/loadavg | sed 's/ /, /g'; }

# When the workloads of the solutions in NAMESPACE became available and when the hub said
# Ready, in seconds from the first solution's creation (lastTransitionTime, to the second),
# from the solutions' JSON and the Deployments' JSON files. Prints
# "LAST-AVAILABLE LAST-READY LAG-MEDIAN LAG-MAX" where a lag is, per solution, Ready on the
# hub minus the moment the last of its Deployments became Available.
timeline() {  # timeline SOLUTIONS-JSON DEPLOYMENTS-JSON...
  python3 - "$@" <<'PY'
import json, statistics, sys
from datetime import datetime
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
cond = lambda o, kind: next(c for c in o["status"]["conditions"] if c["type"] == kind and c["status"] == "True")
solutions = json.load(open(sys.argv[1]))["items"]
origin = min(t(s["metadata"]["creationTimestamp"]) for s in solutions)
available = {}
for path in sys.argv[2:]:
    for d in json.load(open(path))["items"]:
        owner = d["metadata"]["name"].rsplit("-", 1)[0]  # sito-00000-web -> sito-00000
        available[owner] = max(available.get(owner, 0), t(cond(d, "Available")["lastTransitionTime"]))
ready = {s["metadata"]["name"]: t(cond(s, "Ready")["lastTransitionTime"]) for s in solutions}
lags = [ready[name] - available[name] for name in ready]
print(f"{max(available.values()) - origin:.0f} {max(ready.values()) - origin:.0f} "
      f"{statistics.median(lags):.1f} {max(lags):.0f}")
PY
}

# What bench_init is about to build, for the report.
commit=$(git -C "$repo" rev-parse --short HEAD)
git -C "$repo" diff --quiet HEAD -- operator Cargo.toml Cargo.lock || commit+=" with uncommitted changes to operator/"
bench_init
log "starting two spokes"
cleanup=(mediana_spokes_down "${cleanup[@]}")
mediana_spokes_start "$work/spoke-1" "$work/spoke-2"
# The target the chart creates for its own cluster, as in reusable_solutions.sh.
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
kubectl create namespace mediana-system >/dev/null
mediana_spokes_wait
for i in 1 2; do spoke_target "$i"; done
bench_start_operator
# Both spokes probed with the broker's credentials before anything is timed; and, as the
# targets exist before phase 1, their creation wakes no solution during a phase.
kubectl wait --for=condition=Ready cloudtarget/local cloudtarget/spoke-1 cloudtarget/spoke-2 --timeout=120s >/dev/null
log "three clusters up, the spokes reachable"
load_start=$(load)

solutions bench-local >"$work/local-solutions.yaml"
r0=$(metric mediana_reconciliations_total) d0=$(metric mediana_reconcile_duration_seconds_sum)
bench_operator reusablesolutions.mediana.dev bench-local "$work/local-solutions.yaml"
t_single=$t_op
kubectl get reusablesolutions.mediana.dev -n bench-local -o json >"$work/local-solutions.json"
kubectl get deployments -n bench-local -o json >"$work/local-deployments.json"
read -r avail_single ready_single lag_single lagmax_single < <(timeline "$work/local-solutions.json" "$work/local-deployments.json")
local_ready=$(python3 -c "import json,sys; print(sum((d['status'].get('readyReplicas') or 0) >= d['spec']['replicas'] for d in json.load(sys.stdin)['items']))" <"$work/local-deployments.json")
sleep 10  # let the last status writes of the phase land
r1=$(metric mediana_reconciliations_total) d1=$(metric mediana_reconcile_duration_seconds_sum)
load_between=$(load)

solutions bench-spokes | placed spoke-1 spoke-2 >"$work/spoke-solutions.yaml"
bench_operator reusablesolutions.mediana.dev bench-spokes "$work/spoke-solutions.yaml"
t_spokes=$t_op
sleep 10
r2=$(metric mediana_reconciliations_total) d2=$(metric mediana_reconcile_duration_seconds_sum)
load_end=$(load)
rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$operator/status")

# The figure counts only if the workloads are where they should be: each spoke holds the
# two ready Deployments of each of its solutions in bench-spokes-rsol-<name>, the hub none.
kubectl get reusablesolutions.mediana.dev -n bench-spokes -o json >"$work/spoke-solutions.json"
counts=()
for i in 1 2; do
  kubectl --kubeconfig "$(spoke "$i" KUBECONFIG)" get deployments -A -l mediana.dev/hub-namespace=bench-spokes -o json \
    >"$work/spoke-$i-deployments.json"
  counts+=("$(python3 - "$work/spoke-$i-deployments.json" "$i" "$N" <<'PY'
import json, sys
path, i, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
found = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in json.load(open(path))["items"]}
mine = [f"sito-{k:05d}" for k in range(n) if k % 2 == i - 1]
expected = {(f"bench-spokes-rsol-{s}", f"{s}-{c}") for s in mine for c in ("web", "worker")}
unready = [k for k, d in found.items() if (d["status"].get("readyReplicas") or 0) < d["spec"]["replicas"]]
if set(found) != expected or unready:
    sys.exit(f"spoke-{i}: {len(found)} Deployments, expected {len(expected)}; missing {sorted(expected - set(found))[:5]}, "
             f"unexpected {sorted(set(found) - expected)[:5]}, not ready {unready[:5]}")
print(len(found))
PY
  )")
done
hub_deployments=$(kubectl get deployments -n bench-spokes -o name | wc -l)
((hub_deployments == 0)) || { log "the hub holds $hub_deployments Deployments in bench-spokes"; exit 1; }
read -r avail_spokes ready_spokes lag_spokes lagmax_spokes < <(
  timeline "$work/spoke-solutions.json" "$work/spoke-1-deployments.json" "$work/spoke-2-deployments.json")

ratio=$(python3 -c "print(f'{$t_spokes/$t_single:.2f}')")
# "R (R/N a solution), mean D s": the reconciles between two metric() readings.
reconciles() {  # reconciles R0 R1 D0 D1
  python3 -c "r, d = $2 - $1, $4 - $3; print(f'{r:.0f} ({r / $N:.1f} a solution), mean {d / r:.2f} s')"
}
report=$(cat <<MD

### $(date -u +%Y-%m-%d) — N=$N ReusableSolutions, one cluster and two spokes (\`N=$N make bench BENCH=$NAME\`), commit $commit

2 cores; load average (1, 5, 15 min) at the start: $load_start; between the phases: $load_between; at the end: $load_end.

| measure | single cluster | two spokes |
|---|---|---|
| $N ReusableSolutions applied, until all \`Ready=True\` on the hub | ${t_single} s | ${t_spokes} s |
| ratio two spokes / single cluster | | ${ratio} |
| Deployments found ready where expected (2 per solution) | hub: ${local_ready} | spoke-1: ${counts[0]}, spoke-2: ${counts[1]}, hub: 0 |
| last workload available / last \`Ready=True\`, from the first solution's creation (to the second) | ${avail_single} s / ${ready_single} s | ${avail_spokes} s / ${ready_spokes} s |
| \`Ready=True\` after the solution's workloads were available: median / max | ${lag_single} s / ${lagmax_single} s | ${lag_spokes} s / ${lagmax_spokes} s |
| ReusableSolution reconciles, their mean duration | $(reconciles "$r0" "$r1" "$d0" "$d1") | $(reconciles "$r1" "$r2" "$d1" "$d2") |
| operator peak RSS (VmHWM), one process for both phases | ${rss} MiB | |
MD
)
echo "$report"
bench_append "$report"
