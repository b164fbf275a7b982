# Shared by `make test`, `make demo` and `make bench` (sourced, not run): the toolchain on
# PATH, and the cluster to use (KUBECONFIG when it answers, else a local control plane).

# Puts the cached control-plane binaries (kubectl, helm, ...) first on PATH.
mediana_toolchain_env() {
  eval "$("$MEDIANA_REPO/tests/controlplane/build.sh" --print)"
  export PATH="$K8S_DIR:$HELM_DIR:$PATH"
}

# Exports KUBECONFIG: the one given when its cluster answers, otherwise a local control
# plane started in DIR (call mediana_cluster_down at exit to stop it).
mediana_cluster_up() {
  local dir=$1
  if [[ -n ${KUBECONFIG:-} ]] && kubectl get --raw /readyz >/dev/null 2>&1; then
    echo "using the cluster of KUBECONFIG=$KUBECONFIG" >&2
    return 0
  fi
  [[ -z ${KUBECONFIG:-} ]] || echo "KUBECONFIG=$KUBECONFIG does not answer: starting a local control plane instead" >&2
  MEDIANA_STARTED_CLUSTER=$dir
  # A random port can be taken between the pick and the bind: one retry covers it.
  KUBECONFIG=$("$MEDIANA_REPO/tests/controlplane/cluster.sh" up "$dir" || "$MEDIANA_REPO/tests/controlplane/cluster.sh" up "$dir")
  export KUBECONFIG
}

# The reference of the image NAME (e.g. mediana, busybox) that the real node of the cluster in
# DIR (cluster.sh up-node DIR) imported.
mediana_node_image() {  # mediana_node_image DIR NAME
  awk -v n="/$2:" 'index($1, n) {print $1; exit}' "$1/node/images"
}

# Stops the control plane mediana_cluster_up started, if it started one.
mediana_cluster_down() {
  if [[ -n ${MEDIANA_STARTED_CLUSTER:-} ]]; then
    "$MEDIANA_REPO/tests/controlplane/cluster.sh" down "$MEDIANA_STARTED_CLUSTER"
  fi
}

# Local control planes for the multi-cluster tests ("spokes"). Always local, even when
# KUBECONFIG names the hub: the tests stop and restart their API servers
# (cluster.sh apiserver-stop/apiserver-start) to simulate outages.
MEDIANA_SPOKE_DIRS=()
MEDIANA_SPOKE_PIDS=()

# Starts a control plane in each DIR, all in the background (in parallel with each other
# and with the hub); each one's output goes to DIR.log, beside DIR since `up` wipes DIR.
# Then mediana_spokes_wait; call mediana_spokes_down at exit whatever happens.
mediana_spokes_start() {
  local dir cluster=$MEDIANA_REPO/tests/controlplane/cluster.sh
  for dir in "$@"; do
    mkdir -p "$(dirname "$dir")"
    # A random port can be taken between the pick and the bind: one retry covers it.
    ( "$cluster" up "$dir" || "$cluster" up "$dir" ) >"$dir.log" 2>&1 &
    MEDIANA_SPOKE_DIRS+=("$dir")
    MEDIANA_SPOKE_PIDS+=("$!")
  done
}

# Waits for the spokes mediana_spokes_start started; exports, for the Nth (from 1, in the
# order given), MEDIANA_SPOKE_N_DIR (its cluster.sh DIR) and MEDIANA_SPOKE_N_KUBECONFIG
# (its self-contained DIR/kubeconfig.flat). Returns 1, after the tail of its log, when one
# failed to start.
mediana_spokes_wait() {
  local i dir failed=0
  for i in "${!MEDIANA_SPOKE_DIRS[@]}"; do
    dir=${MEDIANA_SPOKE_DIRS[$i]}
    if [[ -n ${MEDIANA_SPOKE_PIDS[$i]} ]]; then
      if ! wait "${MEDIANA_SPOKE_PIDS[$i]}"; then
        echo "starting the spoke control plane in $dir failed; last lines of $dir.log:" >&2
        tail -n 40 "$dir.log" >&2
        failed=1
      fi
      MEDIANA_SPOKE_PIDS[i]=
    fi
    export "MEDIANA_SPOKE_$((i + 1))_DIR=$dir" "MEDIANA_SPOKE_$((i + 1))_KUBECONFIG=$dir/kubeconfig.flat"
  done
  return $failed
}

# Stops the spokes (all at once). One still starting is waited for first rather than
# killed half-way, which could leave behind a component whose PID `up` had not yet recorded;
# `up` is bounded by its own timeouts.
mediana_spokes_down() {
  local i pids=()
  for i in "${!MEDIANA_SPOKE_DIRS[@]}"; do
    if [[ -n ${MEDIANA_SPOKE_PIDS[$i]} ]]; then
      echo "waiting for the spoke in ${MEDIANA_SPOKE_DIRS[$i]} to finish starting, to stop it" >&2
      wait "${MEDIANA_SPOKE_PIDS[$i]}" 2>/dev/null || true
    fi
    "$MEDIANA_REPO/tests/controlplane/cluster.sh" down "${MEDIANA_SPOKE_DIRS[$i]}" &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  MEDIANA_SPOKE_DIRS=()
  MEDIANA_SPOKE_PIDS=()
}
