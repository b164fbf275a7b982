#!/usr/bin/env bash
# `make bench BENCH=chain`: municipalities → region → nation on the real node, as `make demo`
# runs it, then a synthetic region of SOURCES municipal DCAT-AP_IT catalogues of DATASETS
# datasets each (default 54 × 100, the municipalities of the Macerata area) harvested in
# parallel into the same region, and the region into the nation.
#
#   SOURCES=54 DATASETS=100 WRITE_N=200 PEER_CONCURRENCY=4 tests/bench/chain.sh
#
# On a fresh local cluster with a real node, in a network namespace of its own, with the
# chart installed (the operator runs as pods) and the examples adapted to one node as the
# demo adapts them (examples/demo/one_node.py). Every harvest is a run-now of a HarvestJob:
# a CronJob's pod of the operator image. Reported, and appended to docs/benchmarks.md:
# - each hop's time for the demo's datasets (3 municipal sources → region, region → nation),
#   from the annotation until every run has ended, and the runs' own durations;
# - the synthetic hops: SOURCES HarvestJobs run at once into the region, and the nation's job
#   reading the whole region (ckanext-dcat's pages of /catalog.ttl); datasets/s of each,
#   beside CKAN's own package_create rate on the same target in the same run (WRITE_N
#   DCAT-AP_IT package dicts, the ones mediana sends, from PEER_CONCURRENCY keep-alive
#   clients; before and after the hop into the region, before the hop into the nation;
#   purged where a later hop would harvest them), and their ratio;
# - the harvester pods at once (sampled), and their peak memory (`status.lastRun.peakMemoryBytes`);
# - where the CPU went during the hop into the region: the region's CKAN, PostgreSQL, Solr,
#   the harvester pods, the rest of the machine (tests/bench/cpu_share.py).
# Images are built and imported before any clock starts.
set -euo pipefail
NAME=chain # read by lib.sh
# shellcheck source=tests/bench/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SOURCES=${SOURCES:-54} DATASETS=${DATASETS:-100} WRITE_N=${WRITE_N:-200} PEER_CONCURRENCY=${PEER_CONCURRENCY:-4}

if [[ -z ${MEDIANA_BENCH_NETNS:-} ]]; then
  # Outside the namespace (it reaches no registry): the toolchain, the release binary, the
  # images (the operator's from that binary). Then again inside a namespace of its own.
  cd "$repo"
  tests/controlplane/build.sh
  tests/ckan/setup.sh >/dev/null   # the venv whose requests the package_create peer uses
  cargo build --release --locked --quiet
  MEDIANA_BIN=$mediana images/build.sh --all >/dev/null
  MEDIANA_BENCH_NETNS=1 MEDIANA_BIN=$mediana exec tests/controlplane/netns.sh "$repo/tests/bench/chain.sh"
fi

cd "$repo"
export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
. tests/controlplane/portals.sh
mediana_toolchain_env
work=$repo/.controlplane/bench/$NAME
rm -rf "$work"; mkdir -p "$work"
cluster=$work/cluster samplers=()
# shellcheck disable=SC2016  # expanded by the trap
trap 'if ((${#samplers[@]})); then kill "${samplers[@]}" 2>/dev/null; fi; tests/controlplane/cluster.sh down "$cluster" >/dev/null 2>&1' EXIT
eval "$(tests/ckan/setup.sh --print)"
py=$CKAN_CACHE/venv/bin/python
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- operator Cargo.toml Cargo.lock ckanext-mediana || echo "+changes")
region_ns=opendata-marche region=dati-regione-marche national_ns=opendata-nazionale nation=dati-gov-it
export MEDIANA_HARVEST_TIMEOUT=7200

log "starting the cluster and its real node"
tests/controlplane/cluster.sh up-node "$cluster" >"$work/cluster.log" 2>&1 || { tail -40 "$work/cluster.log"; exit 1; }
tests/controlplane/node.sh load "$cluster" >/dev/null
export KUBECONFIG=$cluster/kubeconfig
operator_image=$(mediana_node_image "$cluster" mediana)
helm install mediana charts/mediana -n mediana-system --create-namespace --wait --timeout 300s \
  --set "image.repository=${operator_image%:*}" --set "image.tag=${operator_image##*:}" >/dev/null
python3 examples/demo/one_node.py --busybox "$(mediana_node_image "$cluster" busybox)" \
  --file comune-di-recanati=recanati.rdf --file comune-di-tolentino=tolentino.ttl \
  examples/comune-macerata.yaml examples/regional-node-marche.yaml examples/harvest-macerata.yaml |
  kubectl apply --server-side --field-manager=bench -f - >/dev/null 2>"$work/apply.err"
kubectl wait --for=condition=Ready catalognodes --all -A --timeout=1200s >/dev/null
log "three portals serving"

# The synthetic municipalities' catalogues: generated in the pod (tests/bench/dcat_catalog.py,
# datasets numbered apart per source) and served by Python's http.server from the CKAN image.
synthetic_sources() {
  local ckan_image; ckan_image=$(mediana_node_image "$cluster" ckan)
  python3 - "$ckan_image" "$SOURCES" "$DATASETS" "$region_ns" "$region" <<'PY'
import json, sys
image, sources, datasets, region_ns, region = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
ns, host = "bench-cataloghi", "cataloghi.bench-cataloghi.svc.cluster.local"
generate = (f'i=0; while [ $i -lt {sources} ]; do n=$(printf %02d $i); '
            f'python3 /opt/bench/dcat_catalog.py catalog {datasets} /srv/comune-$n.ttl --first $((i * {datasets})) '
            f'--base http://{host}/comune-$n || exit 1; i=$((i + 1)); done; '
            'exec python3 -m http.server 8080 --directory /srv')
labels = {"app.kubernetes.io/name": "cataloghi"}
docs = [
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "generator", "namespace": ns},
     "data": {"dcat_catalog.py": open("tests/bench/dcat_catalog.py").read()}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cataloghi", "namespace": ns, "labels": labels},
     "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
              "containers": [{"name": "http", "image": image, "command": ["sh", "-c", generate],
                              "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
                              "ports": [{"containerPort": 8080}],
                              "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 2},
                              "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                                  "readOnlyRootFilesystem": True},
                              "volumeMounts": [{"name": "generator", "mountPath": "/opt/bench"},
                                               {"name": "srv", "mountPath": "/srv"}]}],
              "volumes": [{"name": "generator", "configMap": {"name": "generator"}}, {"name": "srv", "emptyDir": {}}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cataloghi", "namespace": ns},
     "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
]
small = {"requests": {"cpu": "20m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}
for i in range(sources):
    docs.append({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": f"comune-sintetico-{i:02d}", "namespace": region_ns},
        "spec": {"target": {"catalogNode": region},
                 "publisher": {"ipaCode": f"c_s{i:03d}", "name": f"Comune sintetico {i}",
                               "organization": f"comune-sintetico-{i:02d}"},
                 "source": {"type": "dcat", "url": f"http://{host}/comune-{i:02d}.ttl"},
                 "schedule": "0 3 * * *", "timeZone": "Europe/Rome", "allowPrivateNetworks": True,
                 "resources": small},
    })
for d in docs:
    print("---")
    print(json.dumps(d))
PY
}

# The newest ended run of each HarvestJob in NAMESPACE named JOB...: a JSON list of lastRun.
last_runs() {  # last_runs NAMESPACE JOB...
  local ns=$1; shift
  kubectl get harvestjobs -n "$ns" -o json | python3 -c '
import json, sys
wanted = set(sys.argv[1:])
print(json.dumps([j["status"]["lastRun"] for j in json.load(sys.stdin)["items"] if j["metadata"]["name"] in wanted]))' "$@"
}

# Figures of the runs of HOP (last_runs): created and failed in all, each run's duration
# (median and longest, from its own start and end), the harvester's peak memory (median and
# largest). Fails when a run failed as a whole; datasets a run could not write are counted.
summarize() {  # summarize RUNS-JSON: prints "created failed median longest mem_median mem_max"
  python3 -c '
import json, statistics, sys
from datetime import datetime
runs = json.loads(sys.argv[1])
bad = [r for r in runs if r.get("result") not in ("Succeeded", "PartiallySucceeded")]
if bad:
    sys.exit(f"runs did not succeed: {bad[:3]}")
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
durations = [(t(r["completionTime"]) - t(r["startTime"])).total_seconds() for r in runs]
memory = [r["peakMemoryBytes"] / 2**20 for r in runs]
print(sum(r["counts"]["created"] for r in runs), sum(r["counts"]["failed"] for r in runs),
      statistics.median(durations), max(durations),
      f"{statistics.median(memory):.1f}", f"{max(memory):.1f}")' "$1"
}

# Runs JOB... in NAMESPACE now and waits for them all. Sets hop_secs, hop_created,
# hop_failed, hop_median, hop_longest, hop_mem_median, hop_mem_max.
hop() {  # hop NAMESPACE JOB...
  local ns=$1 t0; shift
  t0=$(now)
  portal_harvest_now "$ns" "$@" >"$work/hop-$ns-$1.txt"
  hop_secs=$(elapsed "$t0")
  read -r hop_created hop_failed hop_median hop_longest hop_mem_median hop_mem_max < <(summarize "$(last_runs "$ns" "$@")")
  log "  $# run(s) in $hop_secs s: $hop_created created, $hop_failed failed; runs median $hop_median s, longest $hop_longest s; peak memory median $hop_mem_median MiB, largest $hop_mem_max MiB"
}

# CKAN's own package_create rate on NODE in NAMESPACE: WRITE_N DCAT-AP_IT package dicts into
# the organization ORG. Sets p_rate and p_lat. ARGS go to ckan_peer.py create (--purge).
peer() {  # peer NAMESPACE NODE ORG [ARGS]
  local out url token; url=$(portal_url "$1" "$2") token=$(portal_token "$1" "$2" mediana-bench)
  out=$(CKAN_TOKEN=$token "$py" tests/bench/ckan_peer.py create "$url" "$3" "$3" "$WRITE_N" "$PEER_CONCURRENCY" \
    http://cataloghi.bench-cataloghi.svc.cluster.local/peer.ttl bench/package-create --dcatapit "${@:4}")
  read -r p_ok p_rate p_lat < <(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); n = int(sys.argv[2])
print(r["ok"], round(n / r["seconds"], 1), "p50 %s ms, p95 %s ms" % (r["p50_ms"], r["p95_ms"]))' "$out" "$WRITE_N")
  [[ $p_ok == "$WRITE_N" ]] || { log "package_create failures on $2: $out"; exit 1; }
  log "  package_create on $2: $p_rate datasets/s ($p_lat)"
}

# Counts the harvester pods running, every 2 s, into $work/running.txt.
sample_running() {
  while :; do
    kubectl get pods -A -l mediana.dev/harvest-job --field-selector=status.phase=Running \
      --no-headers 2>/dev/null | wc -l >>"$work/running.txt"
    sleep 2
  done
}

rows=()
row() { rows+=("| $1 | $2 | ${3:-} |"); }

# Rows of where the CPU went during the region's hop (tests/bench/cpu_share.py), kept apart
# and added after the hop's figures.
cpu=()
cpu_rows() {  # cpu_rows SAMPLES
  local role seconds machine wall
  while IFS=$'\t' read -r role seconds; do
    case $role in
      machine) machine=$seconds ;; wall) wall=$seconds ;;
      *) cpu+=("| CPU during the hop: $role | $seconds s | |") ;;
    esac
  done < <(python3 tests/bench/cpu_share.py report "$1" "$region")
  cpu+=("| CPU during the hop: the whole machine, $(nproc) cores over $wall s | $machine s | |")
  log "  CPU by role: $(printf '%s; ' "${cpu[@]}")"
}

log "demo: the Comune di Macerata publishes its datasets"
portal_publish opendata-comune-macerata dati-comune-macerata tests/fixtures/chain/macerata.json
log "demo: the region harvests its 3 municipal sources"
hop "$region_ns" comune-di-macerata comune-di-recanati comune-di-tolentino
row "demo, municipalities → region: 3 sources (CKAN API, RDF/XML, Turtle) at once" \
  "$hop_secs s, $hop_created datasets (runs: median $hop_median s, longest $hop_longest s)"
log "demo: the nation harvests the region"
hop "$national_ns" regione-marche
row "demo, region → nation: the region's /catalog.ttl" \
  "$hop_secs s, $hop_created datasets (run: $hop_longest s)"
demo_mem=$hop_mem_max

log "synthetic region: $SOURCES municipal catalogues of $DATASETS datasets"
synthetic_sources >"$work/synthetic.yaml"
kubectl apply --server-side --field-manager=bench -f "$work/synthetic.yaml" >/dev/null
kubectl wait -n bench-cataloghi --for=condition=Ready pod/cataloghi --timeout=600s >/dev/null
mapfile -t jobs < <(seq -f 'comune-sintetico-%02g' 0 $((SOURCES - 1)))

log "CKAN package_create on the region, before"
peer "$region_ns" "$region" bench-peer-before --purge
region_before=$p_rate region_before_lat=$p_lat
log "synthetic: the region harvests $SOURCES sources at once"
sample_running & samplers+=($!)
python3 tests/bench/cpu_share.py sample mediana-node "$work/cpu-region.jsonl" & samplers+=($!)
hop "$region_ns" "${jobs[@]}"
kill "${samplers[@]}"; samplers=()
cpu_rows "$work/cpu-region.jsonl"
((hop_created + hop_failed == SOURCES * DATASETS)) || { log "expected $((SOURCES * DATASETS)) written, got $hop_created"; exit 1; }
s1_rate=$(python3 -c "print(round($hop_created / $hop_secs, 1))")
s1="$hop_secs s, $hop_created created, $hop_failed failed; runs median $hop_median s, longest $hop_longest s"
s1_mem="median $hop_mem_median MiB, largest $hop_mem_max MiB"
running=$(sort -n "$work/running.txt" | tail -1)
log "CKAN package_create on the region, after"
peer "$region_ns" "$region" bench-peer-after
region_after=$p_rate region_after_lat=$p_lat
same=$(CKAN_TOKEN=$(portal_token "$region_ns" "$region" mediana-bench) "$py" tests/bench/ckan_peer.py shape \
  "$(portal_url "$region_ns" "$region")" comune-sintetico-00 bench-peer-after)
log "  stored packages of mediana and of the peer: $same"
CKAN_TOKEN=$(portal_token "$region_ns" "$region" mediana-bench) "$py" tests/bench/ckan_peer.py purge \
  "$(portal_url "$region_ns" "$region")" bench-peer-after
region_total=$(portal_count "$region_ns" "$region")

log "CKAN package_create on the nation, before"
peer "$national_ns" "$nation" bench-peer-nation --purge
nation_peer=$p_rate nation_peer_lat=$p_lat
log "synthetic: the nation harvests the region ($region_total datasets)"
hop "$national_ns" regione-marche
s2_rate=$(python3 -c "print(round($hop_created / $hop_secs, 1))")
region_mean=$(python3 -c "print(round(($region_before + $region_after) / 2, 1))")

row "CKAN \`package_create\` on the region, before: $WRITE_N datasets, $PEER_CONCURRENCY keep-alive clients" "$region_before datasets/s ($region_before_lat)"
row "synthetic, municipalities → region: $SOURCES HarvestJobs of $DATASETS datasets run at once" \
  "$s1_rate datasets/s ($s1)"
row "CKAN \`package_create\` on the region, after" "$region_after datasets/s ($region_after_lat)"
row "ratio into the region / mean of its two package_create runs ($region_mean datasets/s)" \
  "$(python3 -c "print(f'{$s1_rate / $region_mean:.2f}')")"
row "harvester pods running at once (most seen, sampled every 2 s)" "$running of $SOURCES"
row "harvester peak memory (\`status.lastRun.peakMemoryBytes\`), $DATASETS-dataset runs" "$s1_mem"
row "CKAN \`package_create\` on the nation, before" "$nation_peer datasets/s ($nation_peer_lat)"
row "synthetic, region → nation: $region_total datasets from the region's /catalog.ttl" \
  "$s2_rate datasets/s ($hop_secs s, $hop_created created, $hop_failed failed)"
row "ratio into the nation / its package_create run" "$(python3 -c "print(f'{$s2_rate / $nation_peer:.2f}')")"
row "harvester peak memory, the nation's run of $region_total datasets; the demo's" "$hop_mem_max MiB; $demo_mem MiB"
rows+=("${cpu[@]}")

report=$(cat <<MD

### $(date -u +%Y-%m-%d) — SOURCES=$SOURCES DATASETS=$DATASETS (\`make bench BENCH=chain\`), commit $commit

$(nproc) cores; stored packages of mediana and of the package_create peer: $same.

| measure | figure | |
|---|---|---|
$(printf '%s\n' "${rows[@]}")
MD
)
echo "$report"
bench_append "$report"
