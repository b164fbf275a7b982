# shellcheck shell=bash
# Shared by the `make bench` scripts (sourced, not run), so that every benchmark measures the
# same things the same way: the baseline of the rendered children applied by kubectl, the
# operator's time to Ready, its API writes while idle, its peak RSS, and one report format.
#
# A script sets NAME (its file name without .sh), sources this file, calls bench_init, then
# bench_baseline, bench_start_operator, bench_operator, bench_idle and bench_report.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The release binary under test, where cargo puts it (CI sets CARGO_TARGET_DIR).
mediana=${CARGO_TARGET_DIR:-$repo/target}/release/mediana
N=${N:-500}
IDLE_SECONDS=${IDLE_SECONDS:-300}
# The metrics port of the operator under test; not 8080, which a developer's own run may hold.
BENCH_PROBE_ADDR=127.0.0.1:18099

log() { printf '[bench %s %(%H:%M:%S)T] %s\n' "$NAME" -1 "$*" >&2; }

now() { date +%s.%N; }

# Seconds since T0 (a `now`), to a tenth.
elapsed() { python3 -c "print(f'{$(now) - $1:.1f}')"; }

# Builds the toolchain and the release binary, starts a fresh cluster (or uses KUBECONFIG)
# that is stopped at exit, and installs the CRDs. Sets work and cleanup.
bench_init() {
  cd "$repo" || exit
  # One directory per benchmark: `make bench` runs them in turn and each keeps its logs.
  work=$repo/.controlplane/bench/$NAME
  rm -rf "$work"; mkdir -p "$work"
  export MEDIANA_REPO=$repo
  . tests/controlplane/lib.sh
  tests/controlplane/build.sh
  mediana_toolchain_env
  cargo build --release --locked --quiet
  # Run last to first at exit, so the operator stops before its cluster does.
  cleanup=(mediana_cluster_down)
  # shellcheck disable=SC2154  # c is the trap's own loop variable
  trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done' EXIT
  mediana_cluster_up "$work/cluster"
  "$mediana" crds | kubectl apply --server-side -f - >/dev/null
  # Only mediana's: a cluster given by KUBECONFIG may hold others in any state.
  # shellcheck disable=SC2046  # one argument per CRD
  kubectl wait --for=condition=Established $(kubectl get crd -o name | grep '\.mediana\.dev$') --timeout=30s >/dev/null
}

# Polls a Python predicate over `kubectl get ... -o json` until it holds.
wait_until() {  # wait_until WHAT KUBECTL-ARGS PYTHON-EXPR
  local what=$1 args=$2 expr=$3 start=$SECONDS
  # shellcheck disable=SC2086  # ARGS is several words: kinds, then flags
  until kubectl get $args -o json | python3 -c "import json,sys; items=json.load(sys.stdin)['items']; sys.exit(0 if ($expr) else 1)"; do
    ((SECONDS - start < 3600)) || { log "timeout waiting for $what"; exit 1; }
    sleep 2
  done
}

# The API server's own limit for the same children: `mediana render` of OBJECTS applied with
# `kubectl apply --server-side` into NAMESPACE, timed until every Deployment and StatefulSet
# is ready; then the namespace is deleted so that the operator starts on an empty cluster.
# Sets t_base.
bench_baseline() {  # bench_baseline NAMESPACE OBJECTS-FILE
  local ns=$1 objects=$2 workloads t0
  log "baseline: kubectl apply --server-side of the rendered children of $N objects"
  kubectl create namespace "$ns" >/dev/null
  "$mediana" render -f "$objects" >"$work/base-children.yaml"
  # Counted from the render, so the wait holds whatever workloads a kind has.
  workloads=$(grep -cE '^kind: (Deployment|StatefulSet)$' "$work/base-children.yaml")
  t0=$(now)
  kubectl apply --server-side --field-manager=bench -f "$work/base-children.yaml" >/dev/null
  wait_until "baseline workloads" "deployments,statefulsets -n $ns" \
    "len(items) == $workloads and all((i['status'].get('readyReplicas') or 0) >= (i['spec'].get('replicas') or 1) for i in items)"
  t_base=$(elapsed "$t0")
  log "baseline: ${t_base} s for $workloads workloads"
  kubectl delete namespace "$ns" --wait=true --timeout=600s >/dev/null
}

# Starts the release operator against the cluster, stopped at exit by its recorded PID.
# Sets operator (the PID).
bench_start_operator() {
  "$mediana" run --probe-addr "$BENCH_PROBE_ADDR" --lease-name bench-leader >"$work/operator.log" 2>&1 &
  operator=$!
  cleanup=("kill $operator; wait $operator 2>/dev/null" "${cleanup[@]}")
  until curl -fsS "http://$BENCH_PROBE_ADDR/readyz" >/dev/null 2>&1; do
    kill -0 "$operator" 2>/dev/null || { log "the operator exited: see $work/operator.log"; exit 1; }
    sleep 0.5
  done
}

# A Python predicate over one object `i`: rolled out as far as the cluster goes. Ready=True,
# except for a CatalogNode on kwok, whose pods run nothing: Ready needs CKAN to answer, so
# there it is its workloads ready and its web waiting for that answer (NotServing).
rolled_out() {  # rolled_out RESOURCE
  local has="lambda i, t, s: any(c['type']==t and c['status']==s for c in (i.get('status') or {}).get('conditions', []))"
  local reason="lambda i, t: next((c['reason'] for c in (i.get('status') or {}).get('conditions', []) if c['type']==t), None)"
  if [[ $1 == catalognodes* ]]; then
    echo "(lambda has, reason: has(i, 'Ready', 'True') or (has(i, 'DatabaseReady', 'True') and has(i, 'SearchReady', 'True') and reason(i, 'WebReady') == 'NotServing'))($has, $reason)"
  else
    echo "($has)(i, 'Ready', 'True')"
  fi
}

# Waits until all COUNT objects of RESOURCE in NAMESPACE are rolled out (rolled_out).
wait_rolled_out() {  # wait_rolled_out RESOURCE NAMESPACE COUNT
  wait_until "$1 rolled out" "$1 -n $2" "len(items) == $3 and all($(rolled_out "$1") for i in items)"
}

# OBJECTS applied into NAMESPACE, timed until all N objects of RESOURCE are rolled out.
# Sets t_op.
bench_operator() {  # bench_operator RESOURCE NAMESPACE OBJECTS-FILE
  local resource=$1 ns=$2 objects=$3 t0
  log "operator: $N $resource"
  kubectl create namespace "$ns" >/dev/null
  t0=$(now)
  kubectl apply --server-side --field-manager=bench -f "$objects" >/dev/null
  wait_rolled_out "$resource" "$ns" "$N"
  t_op=$(elapsed "$t0")
  log "operator: ${t_op} s"
}

# The operator's metric NAME (e.g. mediana_api_writes_total) summed over its series, or over
# those of controller KIND only.
metric() {  # metric NAME [KIND]
  curl -fsS "http://$BENCH_PROBE_ADDR/metrics" | python3 -c "
import sys
name, kind = sys.argv[1], sys.argv[2]
print(sum(float(l.split()[-1]) for l in sys.stdin
          if l.startswith(name + '{') and (not kind or f'controller=\"{kind}\"' in l)))" "$1" "${2:-}"
}

# The operator's API writes so far, summed over kinds, from its own metric.
writes() {
  local total; total=$(metric mediana_api_writes_total)
  echo "${total%.*}"
}

# Writes by the operator during IDLE_SECONDS with nothing to do, its peak RSS, and the ratio.
# Sets idle, rss and ratio.
bench_idle() {
  local w0 w1 rss_kib
  sleep 10  # let the last status writes of the rollout land
  w0=$(writes)
  log "idle for ${IDLE_SECONDS} s"
  sleep "$IDLE_SECONDS"
  w1=$(writes)
  idle=$((w1 - w0))
  rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$operator/status")
  rss=$(python3 -c "print(f'{$rss_kib/1024:.1f}')")
  ratio=$(python3 -c "print(f'{$t_op/$t_base:.2f}')")
}

# Prints the figures and adds them to this benchmark's section of docs/benchmarks.md
# (bench_append). KIND is the plural shown, e.g. CatalogNodes.
bench_report() {  # bench_report KIND
  local kind=$1 report
  report=$(cat <<MD

### $(date -u +%Y-%m-%d) — N=$N $kind, idle ${IDLE_SECONDS} s (\`N=$N IDLE_SECONDS=$IDLE_SECONDS make bench BENCH=$NAME\`)

| measure | figure | goal |
|---|---|---|
| baseline: rendered children by \`kubectl apply --server-side\`, until all workloads ready | ${t_base} s | |
| operator: $kind applied, until all rolled out (\`Ready=True\`; a CatalogNode on kwok: its workloads ready, CKAN not answering) | ${t_op} s | |
| ratio operator / baseline | ${ratio} | ≤ 1.5 |
| API writes by the operator while idle | ${idle} | 0 |
| operator peak RSS (VmHWM) | ${rss} MiB | < 100 MiB at N=500 |
MD
)
  echo "$report"
  bench_append "$report"
}

# Adds REPORT (Markdown) at the end of this benchmark's section of docs/benchmarks.md (the
# "## " heading naming tests/bench/$NAME.sh), so that runs of different kinds stay under
# their own headings; a benchmark without a section yet gets one at the end.
bench_append() {  # bench_append REPORT
  python3 - docs/benchmarks.md "tests/bench/$NAME.sh" "$1" <<'PY'
import sys
path, script, report = sys.argv[1:]
lines = open(path, encoding="utf-8").read().rstrip("\n").split("\n")
start = next((i for i, l in enumerate(lines) if l.startswith("## ") and script in l), None)
if start is None:
    # A new benchmark without its section yet: give it one at the end.
    lines += ["", f"## {script}"]
    start = len(lines) - 1
end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
while end > start + 1 and lines[end - 1] == "":
    end -= 1
lines[end:end] = report.split("\n")
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
}
