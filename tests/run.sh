#!/usr/bin/env bash
# `make test`: every test, against real Kubernetes control planes, a real node and real CKAN.
#
# Two phases. Outside any namespace (they need the package registries): the Go binaries
# (built once, then cached) in the background while cargo compiles mediana and its tests,
# then mediana's images (cached by recipe; the operator's with the debug build) and the CKAN
# software. Then everything that runs is started inside a network namespace of its own
# (tests/controplane/netns.sh), which reaches nothing but itself: the hub control plane (kwok
# nodes) and two spokes for the multi-cluster tests, a control plane with a real node for
# real pods, the CKAN peers (two stock, one with mediana's DCAT-AP_IT extension) and an
# S3-compatible object store for the backup tests (SeaweedFS, tests/objectstore/s3.sh); the
# extension's pytest tests and the cargo tests run there, and at the end the node's teardown
# is checked.
#
# With KUBECONFIG pointing at a reachable cluster, the kwok tests use it, no namespace is
# made and the real-node tests are skipped (MEDIANA_SKIP_REAL_NODE=1).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
cluster_dir=${MEDIANA_TEST_CLUSTER_DIR:-$repo/.controlplane/test}
spokes_dir=${MEDIANA_TEST_SPOKES_DIR:-$repo/.controlplane}
node_dir=${MEDIANA_TEST_NODE_DIR:-$repo/.controlplane/node}
mkdir -p "$repo/.controlplane"
ckan_dir=${MEDIANA_TEST_CKAN_DIR:-$repo/.ckan/test}
s3_dir=${MEDIANA_TEST_S3_DIR:-$repo/.objectstore/test}
# On CI every run is a fresh clone: cargo's target directory lives in the machine's cache, like
# the Go binaries and the images, so a warm run compiles mediana and not its ~300 dependencies
# again (nor clippy's checks of them, .ci/run). Without incremental data, and started afresh
# past 12 GiB, since each clone's path adds its own build of mediana.
if [[ -n ${CI:-} && -z ${CARGO_TARGET_DIR:-} ]]; then
  export CARGO_TARGET_DIR=${MEDIANA_CACHE:-$HOME/.cache/mediana}/cargo-target CARGO_INCREMENTAL=0
  cached_mib=$(du -sm "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1 || true)
  if ((${cached_mib:-0} > 12288)); then rm -rf "$CARGO_TARGET_DIR"; fi
fi
# Seconds count from the start of the first phase, also across the re-exec into the namespace.
started=$((SECONDS - ${MEDIANA_RUN_ELAPSED:-0}))

log() { printf '[test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

phase1() {
  # Go binaries (control plane, node, kubectl, helm) build in the background while cargo
  # compiles; the CKAN software (venv, Solr jars) is fetched beside them.
  local build_log=$repo/.controlplane/build.log ckan_log=$repo/.controlplane/ckan-setup.log
  tests/controlplane/build.sh >"$build_log" 2>&1 &
  local build_pid=$!
  tail -n +1 -f "$build_log" --pid=$build_pid >&2 &
  tests/ckan/setup.sh >"$ckan_log" 2>&1 &
  local ckan_pid=$!
  log "compiling mediana and its tests"
  cargo build --locked --workspace --all-targets
  # The operator image the tests run holds this debug build: an optimised build of the same
  # source would add 10 minutes of compiling on 2 cores to every run, for pods whose speed
  # no test measures. Releases and `make demo` build the image from `cargo build --release`.
  export MEDIANA_BIN=${CARGO_TARGET_DIR:-$repo/target}/debug/mediana
  # The unit tests from a copy of the repository with nothing beside it: a clone alone passes.
  tests/alone.sh
  log "compiled after $((SECONDS - started)) s"
  if ! wait $build_pid; then log "building the Go binaries failed; see $build_log"; exit 1; fi
  log "Go binaries ready after $((SECONDS - started)) s"
  images/build.sh --all >/dev/null
  log "images ready after $((SECONDS - started)) s"
  if ! wait $ckan_pid; then log "setting up CKAN failed; see $ckan_log"; tail -n 40 "$ckan_log" >&2; exit 1; fi
  log "CKAN software ready after $((SECONDS - started)) s"
}

# Inside the namespace: every cluster, the CKAN peers, the tests, the teardown check.
phase2() {
  mediana_toolchain_env
  # The EXIT trap runs after this function returns, when its locals are gone: hence the default.
  local node_pid=
  trap 'stop_tree "${node_pid:-}"; mediana_cluster_down || true; mediana_spokes_down || true; tests/ckan/ckan.sh down "$ckan_dir" >/dev/null 2>&1 || true; tests/objectstore/s3.sh down "$s3_dir" >/dev/null 2>&1 || true; tests/controlplane/cluster.sh down "$node_dir" >/dev/null 2>&1 || true' EXIT
  rm -rf "$ckan_dir"; mkdir -p "$(dirname "$ckan_dir")"
  MEDIANA_CKAN_DCATAPIT=3 tests/ckan/ckan.sh up "$ckan_dir" 3 >"$repo/.controlplane/ckan.log" 2>&1 &
  local ckan_pid=$!
  # In the namespace the store also listens on the node's bridge, for the backup pods.
  local bind=127.0.0.1; [[ -z ${MEDIANA_IN_NETNS:-} ]] || bind=0.0.0.0
  MEDIANA_S3_BIND=$bind tests/objectstore/s3.sh up "$s3_dir" >"$repo/.controlplane/s3.log" 2>&1 &
  local s3_pid=$!
  # The real node and its tests run beside the rest: they wait on pods, the others on API
  # servers, so the two share the CPUs rather than queue.
  if [[ -z ${MEDIANA_SKIP_REAL_NODE:-} ]]; then
    real_node_tests >"$node_dir.tests.log" 2>&1 &
    node_pid=$!
  fi
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
    log "starting the CKAN test peers failed; see $repo/.controlplane/ckan.log"
    tail -n 40 "$repo/.controlplane/ckan.log" >&2
    exit 1
  fi
  set -a; . "$ckan_dir/env"; set +a
  log "CKAN peers ready after $((SECONDS - started)) s: $MEDIANA_CKAN_1_URL, $MEDIANA_CKAN_2_URL, $MEDIANA_CKAN_3_URL (DCAT-AP_IT)"
  if ! wait $s3_pid; then
    log "starting the object store failed; see $repo/.controlplane/s3.log"
    tail -n 40 "$repo/.controlplane/s3.log" >&2
    exit 1
  fi
  set -a; . "$s3_dir/env"; set +a
  log "object store ready after $((SECONDS - started)) s: $MEDIANA_S3_ENDPOINT (bucket $MEDIANA_S3_BUCKET)"

  (cd ckanext-mediana && MEDIANA_CKAN_DCATAPIT_URL=$MEDIANA_CKAN_3_URL MEDIANA_CKAN_DCATAPIT_TOKEN=$MEDIANA_CKAN_3_TOKEN \
    MEDIANA_CKAN_DCATAPIT_INI=$MEDIANA_CKAN_3_INI \
    PYTHONPATH=$MEDIANA_CKAN_SITE "$MEDIANA_CKAN_VENV/bin/python" -m pytest -q)
  log "ckanext-mediana's tests passed in $((SECONDS - started)) s"

  # The real-node tests are the background job's (real_node_tests).
  MEDIANA_SKIP_REAL_NODE=1 cargo test --locked --workspace --all-targets
  log "the cargo tests on kwok and the CKAN peers passed in $((SECONDS - started)) s"
  if [[ -n $node_pid ]]; then
    local node_ok=0; wait "$node_pid" || node_ok=$?
    cat "$node_dir.tests.log" >&2
    ((node_ok == 0)) || { log "the real-node tests failed (their output above; the node's log: $node_dir.log)"; exit 1; }
    node_teardown_check "$node_dir"
  fi
  log "done in $((SECONDS - started)) s"
}

# Stops a background job and every process it started (a failure elsewhere ends the run).
stop_tree() {
  [[ -n ${1:-} ]] || return 0
  local child; for child in $(pgrep -P "$1" || true); do stop_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

# The real node started, mediana's images imported, then the tests of tests/real_node.rs.
real_node_tests() {
  if ! tests/controlplane/cluster.sh up-node "$node_dir" >"$node_dir.log" 2>&1; then
    log "starting the real node failed; see $node_dir.log"; tail -n 40 "$node_dir.log"; return 1
  fi
  tests/controlplane/node.sh load "$node_dir" >/dev/null
  log "real node ready after $((SECONDS - started)) s: $node_dir/kubeconfig"
  # The CKAN venv (set up in the first phase), whose python runs the portal tests.
  local ckan_cache; ckan_cache=$(tests/ckan/setup.sh --print); ckan_cache=${ckan_cache#CKAN_CACHE=}
  # The object store, started beside the node, for the backup and restore test.
  for _ in $(seq 240); do [[ -e $s3_dir/env ]] && break; sleep 0.5; done
  [[ -e $s3_dir/env ]] || { log "the object store did not start; see $repo/.controlplane/s3.log"; return 1; }
  set -a; . "$s3_dir/env"; set +a
  MEDIANA_NODE_KUBECONFIG=$node_dir/kubeconfig MEDIANA_NODE_DIR=$node_dir MEDIANA_CKAN_VENV=$ckan_cache/venv \
    cargo test --locked --test real_node
  log "the real-node tests passed in $((SECONDS - started)) s"
}

# The node stopped leaves nothing behind: no process, mount, cgroup, network namespace or
# link (each kind listed by node.sh leftovers).
node_teardown_check() {
  tests/controlplane/cluster.sh down "$1"
  local left; left=$(tests/controlplane/node.sh leftovers "$1")
  if [[ -n $left ]]; then log "the real node left behind:"; echo "$left" >&2; echo "teardown: 0 passed, 1 failed"; exit 1; fi
  echo "teardown: 1 passed, 0 failed"
}

if [[ -n ${MEDIANA_IN_NETNS:-} ]]; then
  phase2
  exit 0
fi
phase1
if [[ -n ${KUBECONFIG:-} ]] && mediana_toolchain_env && kubectl get --raw /readyz >/dev/null 2>&1; then
  MEDIANA_SKIP_REAL_NODE=1 phase2
else
  exec tests/controlplane/netns.sh env MEDIANA_IN_NETNS=1 MEDIANA_RUN_ELAPSED=$((SECONDS - started)) "$0"
fi
