#!/usr/bin/env bash
# Builds the local control plane's binaries from their Go modules with the machine's Go
# toolchain and caches them per version: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok (with its stage files) and helm; for the real node, kubelet
# and kube-proxy (same build as the control plane), containerd with its runc shim, the CNI
# plugins, crictl, CoreDNS, local-path-provisioner and the pause program; for the backup
# tests, SeaweedFS (an S3-compatible object store); for the Argo CD health test, its Lua
# interpreter (tests/argocd).
#
#   tests/controlplane/build.sh            build whatever is missing (prints progress)
#   tests/controlplane/build.sh node       only the node's own binaries (not Kubernetes)
#   tests/controlplane/build.sh helm       only helm (for `make lint`)
#   tests/controlplane/build.sh --print    print the cache directory of each binary, as exports
#
# A cold build takes 25-45 minutes on 2 cores; a warm one is a few file checks. Each
# component is built under its own lock, so two runs may build different ones at once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
CACHE=${MEDIANA_CACHE:-$HOME/.cache/mediana}
K8S_DIR=$CACHE/k8s-v$K8S_VERSION
ETCD_DIR=$CACHE/etcd-v$ETCD_VERSION
KWOK_DIR=$CACHE/kwok-v$KWOK_VERSION
HELM_DIR=$CACHE/helm-v$HELM_VERSION
CONTAINERD_DIR=$CACHE/containerd-v$CONTAINERD_VERSION
CNI_DIR=$CACHE/cni-plugins-v$CNI_PLUGINS_VERSION
CRICTL_DIR=$CACHE/crictl-v$CRICTL_VERSION
COREDNS_DIR=$CACHE/coredns-v$COREDNS_VERSION
LOCAL_PATH_DIR=$CACHE/local-path-provisioner-v$LOCAL_PATH_VERSION
PAUSE_DIR=$CACHE/pause-k8s-v$K8S_VERSION
SEAWEEDFS_DIR=$CACHE/seaweedfs-v$SEAWEEDFS_VERSION
# The test of docs/argocd.md's health script (tests/argocd), cached by its sources' digest.
ARGOCD_HEALTH_SRC=$here/../argocd
ARGOCD_HEALTH_DIR=$CACHE/argocd-health-$(cat "$ARGOCD_HEALTH_SRC"/go.mod "$ARGOCD_HEALTH_SRC"/go.sum "$ARGOCD_HEALTH_SRC"/*.go | sha256sum | cut -c1-12)

# One shell-quoted `export` per directory, for `eval`: a path with spaces stays one word.
if [[ ${1:-} == --print ]]; then
  for var in K8S_DIR ETCD_DIR KWOK_DIR HELM_DIR CONTAINERD_DIR CNI_DIR CRICTL_DIR COREDNS_DIR \
    LOCAL_PATH_DIR PAUSE_DIR SEAWEEDFS_DIR ARGOCD_HEALTH_DIR; do
    printf 'export %s=%q\n' "$var" "${!var}"
  done
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "build.sh: Go is required (https://go.dev/dl or apt-get install golang)" >&2; exit 1; }
mkdir -p "$CACHE"

log() { printf '[controlplane %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
# step WHAT CHECK FUNC...: unless CHECK (a shell test) already holds, runs FUNC with a
# heartbeat, so a long cold build shows it is alive, under a lock of its own (another run
# building the same thing is waited for, then CHECK is asked again).
step() {
  local what=$1 check=$2; shift 2
  eval "$check" && return 0
  local lock; lock="$CACHE/.lock-${what%% *}"
  exec {fd}>"$lock"; flock "$fd"
  if eval "$check"; then exec {fd}>&-; return 0; fi
  local start=$SECONDS
  log "$what: started"
  ( while sleep 60; do log "$what: still building ($(( (SECONDS - start) / 60 )) min)"; done ) &
  local beat=$!
  if "$@"; then kill $beat 2>/dev/null; wait $beat 2>/dev/null || true
    log "$what: done in $(( SECONDS - start )) s"; exec {fd}>&-
  else local rc=$?; kill $beat 2>/dev/null; wait $beat 2>/dev/null || true
    log "$what: FAILED (exit $rc)"; return $rc; fi
}

# go_install DIR PACKAGE@VERSION...: static binaries into DIR (replaced whole when done).
go_install() {
  local dir=$1; shift
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install -trimpath -ldflags='-s -w' "$@"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the staging modules with
# local paths), so a wrapper module (in a subshell: its own temp dir and cwd) pins every staging module to its published v0.X.Y tag.
build_kubernetes() (
  w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
  cd "$w"
  go mod init local/k8sbins >/dev/null 2>&1
  local kmod; kmod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  go mod edit -json "$kmod" >kk.json
  go mod edit -go="$(python3 -c 'import json;print(json.load(open("kk.json"))["Go"])')"
  local sv="v0.${K8S_VERSION#1.}"
  for m in $(python3 -c 'import json
for r in json.load(open("kk.json")).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"): print(r["Old"]["Path"])'); do
    go mod edit -replace="$m=$m@$sv"
  done
  local tools="kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy"
  for c in $tools; do go mod edit -tool="k8s.io/kubernetes/cmd/$c"; done
  go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
  go mod tidy
  local minor bd ld="-s -w"
  minor=$(cut -d. -f2 <<<"$K8S_VERSION"); bd=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  rm -rf "$K8S_DIR.tmp"; mkdir -p "$K8S_DIR.tmp"
  # One package at a time keeps peak memory and the heartbeat readable on 2 cores.
  for c in $tools; do
    log "  linking $c"
    go build -trimpath -tags=notest,grpcnotrace -ldflags="$ld" -o "$K8S_DIR.tmp/$c" "k8s.io/kubernetes/cmd/$c"
  done
  rm -rf "$K8S_DIR"; mv "$K8S_DIR.tmp" "$K8S_DIR"
  "$K8S_DIR/kube-apiserver" --version >&2
)

# etcd's server module also replaces its siblings with local paths; its submodule tags are
# published, so the same wrapper trick works.
build_etcd() (
  w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
  cd "$w"
  go mod init local/etcdbin >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION" -tool=go.etcd.io/etcd/server/v3
  go mod tidy
  rm -rf "$ETCD_DIR.tmp"; mkdir -p "$ETCD_DIR.tmp"
  go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" -o "$ETCD_DIR.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$ETCD_DIR"; mv "$ETCD_DIR.tmp" "$ETCD_DIR"
  "$ETCD_DIR/etcd" --version >&2
)

# kwok has no replace directives: a plain go install works.
build_kwok() {
  rm -rf "$KWOK_DIR.tmp"; mkdir -p "$KWOK_DIR.tmp"
  GOBIN="$KWOK_DIR.tmp" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  rm -rf "$KWOK_DIR"; mv "$KWOK_DIR.tmp" "$KWOK_DIR"
}

# kwok's stage files ship in its module: nodes become Ready, pods Running and Ready, Job
# pods complete, and claims of the `kwok-volume` StorageClass are provisioned and bound.
install_kwok_stages() {
  local d s=$KWOK_DIR/stages
  d=$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
  rm -rf "$s"; mkdir -p "$s"
  cp "$d/kustomize/stage/node/fast/node-initialize.yaml" \
     "$d/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "$d"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml \
     "$d"/kustomize/stage/volume/fast/{pv-bind,pv-delete,pvc-provision,pvc-delete,storage-class}.yaml "$s/"
  chmod u+w "$s"/*
  # Job pods whose image tag ends in "-failing" fail instead (tests/controlplane/stages).
  python3 - "$s/pod-complete.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "      - 'Job'\n"
assert anchor in text, "kwok's pod-complete stage changed shape"
text = text.replace(anchor, anchor + "    - cel:\n        expression: >-\n          !self.spec.containers.exists(c, c.image.endsWith('-failing'))\n", 1)
open(path, "w").write(text)
PY
  cp "$here/stages/"*.yaml "$s/"
}

# Helm's Makefile stamps the Kubernetes version of its client-go into the binary; without it,
# `helm template` and `helm lint` assume Kubernetes 1.20 and refuse charts with a kubeVersion.
build_helm() {
  rm -rf "$HELM_DIR.tmp"; mkdir -p "$HELM_DIR.tmp"
  local gomod minor
  gomod=$(go mod download -json "helm.sh/helm/v3@v$HELM_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  minor=$(go mod edit -json "$gomod" | python3 -c 'import json,sys
print(next(r["Version"] for r in json.load(sys.stdin)["Require"] if r["Path"] == "k8s.io/client-go").split(".")[1])')
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
  done
  GOBIN="$HELM_DIR.tmp" go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  touch "$HELM_DIR.tmp/.k8s-version-stamped"
  rm -rf "$HELM_DIR"; mv "$HELM_DIR.tmp" "$HELM_DIR"
  "$HELM_DIR/helm" version --short >&2
}

# containerd's own version string comes from a variable the release Makefile stamps.
build_containerd() {
  local m=github.com/containerd/containerd/v2
  rm -rf "$CONTAINERD_DIR.tmp"; mkdir -p "$CONTAINERD_DIR.tmp"
  GOBIN="$CONTAINERD_DIR.tmp" go install -trimpath -ldflags="-s -w -X $m/version.Version=v$CONTAINERD_VERSION" \
    "$m/cmd/containerd@v$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION" "$m/cmd/ctr@v$CONTAINERD_VERSION"
  rm -rf "$CONTAINERD_DIR"; mv "$CONTAINERD_DIR.tmp" "$CONTAINERD_DIR"
}

build_cni() {
  local m=github.com/containernetworking/plugins/plugins
  go_install "$CNI_DIR" "$m/main/bridge@v$CNI_PLUGINS_VERSION" "$m/main/loopback@v$CNI_PLUGINS_VERSION" \
    "$m/ipam/host-local@v$CNI_PLUGINS_VERSION" "$m/meta/portmap@v$CNI_PLUGINS_VERSION"
}

# The pause program of the Kubernetes release (build/pause/linux/pause.c in its module),
# linked statically: it is the whole of the node's sandbox image.
build_pause() {
  local d; d=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
  command -v cc >/dev/null || { echo "build.sh: a C compiler is needed for pause (apt-get install gcc)" >&2; return 1; }
  rm -rf "$PAUSE_DIR.tmp"; mkdir -p "$PAUSE_DIR.tmp"
  cc -Os -static -DVERSION="v$K8S_VERSION" -o "$PAUSE_DIR.tmp/pause" "$d/build/pause/linux/pause.c"
  strip "$PAUSE_DIR.tmp/pause"
  rm -rf "$PAUSE_DIR"; mv "$PAUSE_DIR.tmp" "$PAUSE_DIR"
}

# SeaweedFS cannot be `go install`ed either (replace directives in its go.mod), and its
# replacements are folders of its own module: it builds from a copy of the module source,
# writable (the module cache is read-only and the build writes beside the sources).
build_seaweedfs() (
  w=$(mktemp -d); trap 'chmod -R u+w "$w"; rm -rf "$w"' EXIT
  local d; d=$(go mod download -json "github.com/seaweedfs/seaweedfs@v$SEAWEEDFS_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
  cp -r "$d" "$w/src"; chmod -R u+w "$w/src"
  rm -rf "$SEAWEEDFS_DIR.tmp"; mkdir -p "$SEAWEEDFS_DIR.tmp"
  (cd "$w/src" && go build -trimpath -ldflags='-s -w' -o "$SEAWEEDFS_DIR.tmp/weed" ./weed)
  rm -rf "$SEAWEEDFS_DIR"; mv "$SEAWEEDFS_DIR.tmp" "$SEAWEEDFS_DIR"
  "$SEAWEEDFS_DIR/weed" version >&2
)

build_argocd_health() (
  rm -rf "$ARGOCD_HEALTH_DIR.tmp"; mkdir -p "$ARGOCD_HEALTH_DIR.tmp"
  cd "$ARGOCD_HEALTH_SRC" && go build -trimpath -o "$ARGOCD_HEALTH_DIR.tmp/argocd-health" .
  rm -rf "$ARGOCD_HEALTH_DIR"; mv "$ARGOCD_HEALTH_DIR.tmp" "$ARGOCD_HEALTH_DIR"
)

# Kubernetes, the node's binaries and the tools: whatever is missing. `node` builds only the
# node's own binaries, so they can build beside the (long) Kubernetes step.
total=$SECONDS
node_only=0; [[ ${1:-} == node ]] && node_only=1
build_node_binaries() {
  step "containerd v$CONTAINERD_VERSION" '[[ -x $CONTAINERD_DIR/containerd && -x $CONTAINERD_DIR/containerd-shim-runc-v2 ]]' build_containerd
  step "cni-plugins v$CNI_PLUGINS_VERSION" '[[ -x $CNI_DIR/bridge && -x $CNI_DIR/portmap ]]' build_cni
  step "crictl v$CRICTL_VERSION" '[[ -x $CRICTL_DIR/crictl ]]' go_install "$CRICTL_DIR" "sigs.k8s.io/cri-tools/cmd/crictl@v$CRICTL_VERSION"
  step "coredns v$COREDNS_VERSION" '[[ -x $COREDNS_DIR/coredns ]]' go_install "$COREDNS_DIR" "github.com/coredns/coredns@v$COREDNS_VERSION"
  step "local-path-provisioner v$LOCAL_PATH_VERSION" '[[ -x $LOCAL_PATH_DIR/local-path-provisioner ]]' \
    go_install "$LOCAL_PATH_DIR" "github.com/rancher/local-path-provisioner@v$LOCAL_PATH_VERSION"
  step "pause (Kubernetes v$K8S_VERSION)" '[[ -x $PAUSE_DIR/pause ]]' build_pause
}
if ((node_only)); then build_node_binaries; log "node binaries present in $CACHE ($(( SECONDS - total )) s)"; exit 0; fi
step "helm v$HELM_VERSION" '[[ -x $HELM_DIR/helm && -f $HELM_DIR/.k8s-version-stamped ]]' build_helm
[[ ${1:-} != helm ]] || exit 0
step "etcd v$ETCD_VERSION" '[[ -x $ETCD_DIR/etcd ]]' build_etcd
step "kwok v$KWOK_VERSION" '[[ -x $KWOK_DIR/kwok ]]' build_kwok
step "kwok stages" '[[ -f $KWOK_DIR/stages/job-pod-fail.yaml ]]' install_kwok_stages
k8s_built() { local b; for b in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do [[ -x $K8S_DIR/$b ]] || return 1; done; }
step "kubernetes v$K8S_VERSION (apiserver, controller-manager, scheduler, kubectl, kubelet, kube-proxy)" k8s_built build_kubernetes
build_node_binaries
step "seaweedfs v$SEAWEEDFS_VERSION" '[[ -x $SEAWEEDFS_DIR/weed ]]' build_seaweedfs
step "argocd-health (gopher-lua)" '[[ -x $ARGOCD_HEALTH_DIR/argocd-health ]]' build_argocd_health
log "all binaries present in $CACHE ($(( SECONDS - total )) s)"
