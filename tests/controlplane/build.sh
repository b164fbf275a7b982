#!/usr/bin/env bash
# Builds the local control plane's binaries from their Go modules with the machine's Go
# toolchain and caches them per version: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok (with its stage files) and helm.
#
#   tests/controlplane/build.sh            build whatever is missing (prints progress)
#   tests/controlplane/build.sh --print    print the cache directory of each binary
#
# A cold build takes 25-45 minutes on 2 cores; a warm one is a few file checks.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
CACHE=${MEDIANA_CACHE:-$HOME/.cache/mediana}
K8S_DIR=$CACHE/k8s-v$K8S_VERSION
ETCD_DIR=$CACHE/etcd-v$ETCD_VERSION
KWOK_DIR=$CACHE/kwok-v$KWOK_VERSION
HELM_DIR=$CACHE/helm-v$HELM_VERSION

if [[ ${1:-} == --print ]]; then
  echo "K8S_DIR=$K8S_DIR ETCD_DIR=$ETCD_DIR KWOK_DIR=$KWOK_DIR HELM_DIR=$HELM_DIR"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "build.sh: Go is required (https://go.dev/dl or apt-get install golang)" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9

log() { printf '[controlplane %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
# Runs a build step with a heartbeat, so a long cold build shows it is alive.
step() {
  local what=$1; shift
  local start=$SECONDS
  log "$what: started"
  ( while sleep 60; do log "$what: still building ($(( (SECONDS - start) / 60 )) min)"; done ) &
  local beat=$!
  if "$@"; then kill $beat 2>/dev/null; wait $beat 2>/dev/null || true
    log "$what: done in $(( SECONDS - start )) s"
  else local rc=$?; kill $beat 2>/dev/null; wait $beat 2>/dev/null || true
    log "$what: FAILED (exit $rc)"; return $rc; fi
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
  local tools="kube-apiserver kube-controller-manager kube-scheduler kubectl"
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

total=$SECONDS
[[ -x $ETCD_DIR/etcd ]] || step "etcd v$ETCD_VERSION" build_etcd
[[ -x $KWOK_DIR/kwok ]] || step "kwok v$KWOK_VERSION" build_kwok
[[ -f $KWOK_DIR/stages/job-pod-fail.yaml ]] || step "kwok stages" install_kwok_stages
[[ -x $HELM_DIR/helm && -f $HELM_DIR/.k8s-version-stamped ]] || step "helm v$HELM_VERSION" build_helm
[[ -x $K8S_DIR/kube-apiserver && -x $K8S_DIR/kube-controller-manager && -x $K8S_DIR/kube-scheduler && -x $K8S_DIR/kubectl ]] \
  || step "kubernetes v$K8S_VERSION (apiserver, controller-manager, scheduler, kubectl)" build_kubernetes
log "all control-plane binaries present in $CACHE ($(( SECONDS - total )) s)"
