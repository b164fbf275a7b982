#!/usr/bin/env bash
# `make test`: every test, against a real Kubernetes control plane.
#
# With KUBECONFIG pointing at a reachable cluster, the tests use it. Otherwise a local
# control plane (tests/controlplane/cluster.sh) is started for the run and stopped at
# the end, whatever happens. Two more local control planes ("spokes", always local) start
# beside it for the multi-cluster tests. The Go binaries are built (once, then cached) in
# the background while cargo compiles the tests.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
cluster_dir=${MEDIANA_TEST_CLUSTER_DIR:-$repo/.controlplane/test}
spokes_dir=${MEDIANA_TEST_SPOKES_DIR:-$repo/.controlplane}
mkdir -p "$repo/.controlplane"
started=$SECONDS

log() { printf '[test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# Go binaries (control plane, kubectl, helm) build in the background while cargo compiles.
build_log=$repo/.controlplane/build.log
tests/controlplane/build.sh >"$build_log" 2>&1 &
build_pid=$!
tail -n +1 -f "$build_log" --pid=$build_pid >&2 &

# Real CKAN peers (PostgreSQL, Solr 9, two CKAN instances) for the harvester's tests, also
# started in the background; their addresses land in $ckan_dir/env.
ckan_dir=${MEDIANA_TEST_CKAN_DIR:-$repo/.ckan/test}
ckan_log=$repo/.controlplane/ckan.log
rm -rf "$ckan_dir"; mkdir -p "$(dirname "$ckan_dir")"
tests/ckan/ckan.sh up "$ckan_dir" 2 >"$ckan_log" 2>&1 &
ckan_pid=$!

log "compiling mediana and its tests"
cargo build --locked --workspace --all-targets
if ! wait $build_pid; then
  log "building the control plane failed; see $build_log"
  exit 1
fi
mediana_toolchain_env
log "toolchain ready after $((SECONDS - started)) s"

trap 'mediana_cluster_down || true; mediana_spokes_down || true; tests/ckan/ckan.sh down "$ckan_dir" >/dev/null 2>&1 || true' EXIT
# The spokes start in the background now, so they come up while the hub does.
mediana_spokes_start "$spokes_dir/spoke-1" "$spokes_dir/spoke-2"
mediana_cluster_up "$cluster_dir"
log "cluster ready after $((SECONDS - started)) s"
if ! mediana_spokes_wait; then
  log "starting the spoke control planes failed (logs: $spokes_dir/spoke-*.log)"
  exit 1
fi
log "spokes ready after $((SECONDS - started)) s: $MEDIANA_SPOKE_1_KUBECONFIG, $MEDIANA_SPOKE_2_KUBECONFIG"
if ! wait $ckan_pid; then
  log "starting the CKAN test peers failed; see $ckan_log"
  tail -n 40 "$ckan_log" >&2
  exit 1
fi
set -a; . "$ckan_dir/env"; set +a
log "CKAN peers ready after $((SECONDS - started)) s: $MEDIANA_CKAN_1_URL, $MEDIANA_CKAN_2_URL"

cargo test --locked --workspace --all-targets
log "all tests passed in $((SECONDS - started)) s"
