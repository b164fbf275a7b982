#!/usr/bin/env bash
# `make bench BENCH=national`: the country's harvest on kwok nodes. N HarvestJobs (default
# 16547, one per administration) write into 21 CatalogNodes (20 regions and a national one):
# N-20 municipal jobs spread over the regions, and each region harvested by the national
# node through its Service, as a broker runs it. Against the API server's own limit for the
# same children, in the same run.
#
#   N=1000 IDLE_SECONDS=300 tests/bench/national.sh
#
# Reports, and adds to its section of docs/benchmarks.md:
# - baseline: the children of the nodes and the jobs, printed by `mediana render` and created
#   with `kubectl apply --server-side`, until the nodes' workloads are ready;
# - operator: the nodes and jobs applied, until every one reports Ready=True; the ratio
#   (goal: at most 1.1);
# - the operator's reconciles, their mean time per HarvestJob and CPU per object (flat from
#   N=1,000 to N=16,547 is the goal), API writes during IDLE_SECONDS (goal 0), peak RSS
#   (goal under 128 MiB).
# The schedules fire once a year (1 January, 03:00), so no harvester runs during the bench.
# The 5,000 CatalogNodes of the same issue are `N=5000 make bench BENCH=catalognodes`.
set -euo pipefail
NAME=national # read by lib.sh
N=${N:-16547}
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REGIONS=20

country() {  # country NAMESPACE > manifests
  python3 - "$1" "$N" "$REGIONS" <<'PY'
import sys
ns, n, regions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def node(name, host, ipa):
    print(f"""---
apiVersion: mediana.dev/v1alpha1
kind: CatalogNode
metadata: {{name: {name}, namespace: {ns}}}
spec:
  hostname: {host}
  publisher: {{ipaCode: {ipa}}}
""")
def job(name, url, target, ipa):
    print(f"""---
apiVersion: mediana.dev/v1alpha1
kind: HarvestJob
metadata: {{name: {name}, namespace: {ns}}}
spec:
  target: {{catalogNode: {target}}}
  publisher: {{ipaCode: {ipa}, name: {name}, organization: {name}}}
  source: {{type: ckan, url: "{url}"}}
  schedule: "0 3 1 1 *"
  timeZone: Europe/Rome
""")
node("nazionale", "dati.nazionale.example.it", "agid")
for r in range(regions):
    node(f"regione-{r:02d}", f"dati.regione-{r:02d}.example.it", f"r_{r:02d}")
    job(f"regione-{r:02d}", f"http://regione-{r:02d}-ckan.{ns}.svc", "nazionale", f"r_{r:02d}")
for i in range(n - regions):
    job(f"comune-{i:05d}", f"https://dati.comune-{i:05d}.example.it", f"regione-{i % regions:02d}", f"c_{i:05d}")
PY
}

# CPU seconds the operator has used (user and system).
cpu_seconds() {
  python3 -c "import os; f=open('/proc/$operator/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"
}

bench_init
country bench-base >"$work/base.yaml"
bench_baseline bench-base "$work/base.yaml"
bench_start_operator
country bench-op >"$work/op.yaml"
log "operator: $((REGIONS + 1)) CatalogNodes and $N HarvestJobs"
kubectl create namespace bench-op >/dev/null
t0=$(now)
kubectl apply --server-side --field-manager=bench -f "$work/op.yaml" >/dev/null
wait_rolled_out catalognodes.mediana.dev bench-op $((REGIONS + 1))
wait_rolled_out harvestjobs.mediana.dev bench-op "$N"
t_op=$(elapsed "$t0")
cpu=$(cpu_seconds)
reconciles=$(metric mediana_reconciliations_total HarvestJob)
seconds=$(metric mediana_reconcile_duration_seconds_sum HarvestJob)
log "operator: ${t_op} s, ${reconciles} HarvestJob reconciles, ${cpu} s of CPU"
bench_idle
per_reconcile=$(python3 -c "print(f'{1000 * $seconds / max($reconciles, 1):.1f}')")
cpu_per_object=$(python3 -c "print(f'{1000 * $cpu / ($N + $REGIONS + 1):.2f}')")
report=$(cat <<MD

### $(date -u +%Y-%m-%d) — N=$N HarvestJobs into $((REGIONS + 1)) CatalogNodes, idle ${IDLE_SECONDS} s (\`N=$N make bench BENCH=national\`), commit $(git rev-parse --short HEAD)

| measure | figure | goal |
|---|---|---|
| baseline: rendered children by \`kubectl apply --server-side\`, until the nodes' workloads are ready | ${t_base} s | |
| operator: nodes and jobs applied, until the jobs are \`Ready=True\` and the nodes rolled out (on kwok no CKAN answers) | ${t_op} s | |
| ratio operator / baseline | ${ratio} | ≤ 1.1 |
| HarvestJob reconciles until all Ready; mean time of one | ${reconciles%.*}; ${per_reconcile} ms | flat in N |
| operator CPU until all Ready, per object | ${cpu} s; ${cpu_per_object} ms | flat in N |
| API writes by the operator while idle | ${idle} | 0 |
| operator peak RSS (VmHWM) | ${rss} MiB | < 128 MiB |
MD
)
echo "$report"
bench_append "$report"
