#!/usr/bin/env bash
# `make test`: every test, against a real Kubernetes control plane.
#
# With KUBECONFIG pointing at a reachable cluster, the tests use it. Otherwise a local
# control plane (tests/controlplane/cluster.sh) is started for the run and stopped at
# the end, whatever happens. The Go binaries are built (once, then cached) in the
# background while cargo compiles the tests.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cluster_dir=${MEDIANA_TEST_CLUSTER_DIR:-$repo/.controlplane/test}
mkdir -p "$repo/.controlplane"
started=$SECONDS

log() { printf '[test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# Go binaries (control plane, kubectl, helm) build in the background while cargo compiles.
build_log=$repo/.controlplane/build.log
tests/controlplane/build.sh >"$build_log" 2>&1 &
build_pid=$!
tail -n +1 -f "$build_log" --pid=$build_pid >&2 &

log "compiling mediana and its tests"
cargo build --locked --workspace --all-targets
if ! wait $build_pid; then
  log "building the control plane failed; see $build_log"
  exit 1
fi
eval "$(tests/controlplane/build.sh --print | tr ' ' '\n' | sed 's/^/export /')"
export PATH="$K8S_DIR:$HELM_DIR:$PATH"
log "toolchain ready after $((SECONDS - started)) s"

if [[ -n ${KUBECONFIG:-} ]] && kubectl get --raw /readyz >/dev/null 2>&1; then
  log "using the cluster of KUBECONFIG=$KUBECONFIG"
else
  [[ -z ${KUBECONFIG:-} ]] || log "KUBECONFIG=$KUBECONFIG does not answer: starting a local control plane instead"
  trap 'tests/controlplane/cluster.sh down "$cluster_dir"' EXIT
  # A random port can be taken between the pick and the bind: one retry covers it.
  KUBECONFIG=$(tests/controlplane/cluster.sh up "$cluster_dir" || tests/controlplane/cluster.sh up "$cluster_dir")
  export KUBECONFIG
fi
log "cluster ready after $((SECONDS - started)) s"

cargo test --locked --workspace --all-targets
log "all tests passed in $((SECONDS - started)) s"
