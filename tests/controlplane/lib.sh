# Shared by `make test`, `make demo` and `make bench` (sourced, not run): the toolchain on
# PATH, and the cluster to use (KUBECONFIG when it answers, else a local control plane).

# Puts the cached control-plane binaries (kubectl, helm, ...) first on PATH.
mediana_toolchain_env() {
  eval "$("$MEDIANA_REPO/tests/controlplane/build.sh" --print | tr ' ' '\n' | sed 's/^/export /')"
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

# Stops the control plane mediana_cluster_up started, if it started one.
mediana_cluster_down() {
  if [[ -n ${MEDIANA_STARTED_CLUSTER:-} ]]; then
    "$MEDIANA_REPO/tests/controlplane/cluster.sh" down "$MEDIANA_STARTED_CLUSTER"
  fi
}
