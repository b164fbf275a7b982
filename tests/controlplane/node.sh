#!/usr/bin/env bash
# The real worker node of a local cluster: containerd (with Debian's runc), the CNI bridge,
# kubelet and kube-proxy, as local processes; then CoreDNS and local-path-provisioner as
# pods, from mediana's own images. Called by cluster.sh; needs root.
#
#   node.sh up RUN      start the node of the control plane in RUN (its pki/ and kubeconfig)
#   node.sh load RUN [NAME...]  build the images NAME (images/build.sh) and import them into
#                       the node's containerd, e.g. `node.sh load RUN mediana`; without NAME,
#                       every image of images/ the node has not loaded yet
#   node.sh down RUN    stop it: pods removed, processes stopped, mounts undone
#   node.sh leftovers RUN   print what the node left behind (processes, mounts, cgroups and
#                       the processes in them, links); prints nothing once `down` is complete
#
# Network: the node runs only inside a network namespace of its own (tests/controlplane/
# netns.sh makes one), never in the machine's: there its only interfaces are loopback and the
# pods' bridge cni0, which carries the node's address, and it has no route off the machine,
# so no pod packet can leave it (docs/controlplane.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cmd=${1:?usage: node.sh up|load|down|leftovers RUN}
RUN=${2:?usage: node.sh up|load|down|leftovers RUN}
# Absolute: mounts, sockets and processes are matched by this path.
RUN=$(realpath -m "$RUN")
eval "$("$here/build.sh" --print)"
# shellcheck source=versions.env
. "$here/versions.env"
N=$RUN/node
P=$RUN/pki
NODE_NAME=mediana-node
CLUSTER_DNS=10.96.0.10
SERVICE_CIDR=10.96.0.0/16
SOCK=$N/containerd/containerd.sock
CGROUP_ROOT=/mediana-$(basename "$RUN")-$(echo "$RUN" | sha256sum | cut -c1-8)
export PATH="$CONTAINERD_DIR:$CRICTL_DIR:$K8S_DIR:$PATH"

log() { printf '[node %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
start() {
  local name=$1; shift
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}
wait_for() {
  local name=$1 check=$2 deadline=$((SECONDS + $3))
  until eval "$check" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "$name not ready after $3 s; last lines of its log:"; tail -30 "$RUN/logs/$name.log" >&2 || true; return 1; fi
    if ! kill -0 "$(cat "$RUN/pids/$name.pid")" 2>/dev/null; then log "$name exited; last lines of its log:"; tail -30 "$RUN/logs/$name.log" >&2 || true; return 1; fi
    sleep 0.5
  done
}

own_netns() { [[ $(readlink /proc/self/ns/net) != "$(readlink /proc/1/ns/net)" ]]; }

# The node's address in this (private) namespace, on the pods' bridge, made before the CNI
# plugin would make it (it adds the pods' gateway address beside).
network() {
  own_netns || { log "refusing to start a real node in the machine's network namespace: run it through tests/controlplane/netns.sh"; return 1; }
  ip link set lo up
  ip link show cni0 >/dev/null 2>&1 || ip link add cni0 type bridge
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev cni0
  ip link set cni0 up
  # Services' addresses onto the bridge, as a real node's default route carries them: kube-
  # proxy's rules turn them into a pod's address on the way out, so that the node's own
  # processes (the tests' browser, make demo's proxy) reach Services too.
  ip route replace "$SERVICE_CIDR" dev cni0
}

certs() (
  cd "$P"
  leaf() {
    openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" -extfile <(printf '%b' "$3")
  }
  local client="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
  leaf kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  leaf kubelet-serving "/CN=$NODE_NAME" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$NODE_IP,DNS:$NODE_NAME\n"
  leaf kube-proxy "/CN=system:kube-proxy" "$client"
) >/dev/null 2>&1

# kubeconfig NAME CERT: a kubeconfig for the node's components, reaching the API server
# on loopback (they share the node's namespace with it).
kubeconfig() {
  local server; server=$(sed -n 's/^ *server: //p' "$RUN/kubeconfig")
  cat >"$N/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$P/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$P/$2.crt", client-key: "$P/$2.key"}}]
contexts: [{name: local, context: {cluster: local, user: $1}}]
current-context: local
KC
}

configs() {
  mkdir -p "$N"/{containerd,cni/net.d,cni/ipam,kubelet,pod-logs,volumes}
  local pause; pause=$(image_ref pause)
  # No CAP_SYS_RESOURCE in this sandbox: a sandbox may not lower its oom_score_adj, so
  # containerd keeps it at the parent's (restrict_oom_score_adj).
  cat >"$N/containerd/config.toml" <<TOML
version = 3
root = "$N/containerd/root"
state = "$N/containerd/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  # Pods' network namespaces under the node's state, so stopping the node unmounts them too.
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
      BinaryName = "$(command -v runc)"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$CNI_DIR"]
    conf_dir = "$N/cni/net.d"
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "$pause"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
TOML
  # ipMasq off: there is nothing beyond the node to masquerade towards.
  cat >"$N/cni/net.d/10-mediana.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "mediana", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$N/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
  # Pods resolve through CoreDNS only: no upstream name server is handed to them.
  : >"$N/resolv.conf"
  cat >"$N/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: "$P/ca.crt"}}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
resolvConf: $N/resolv.conf
podLogsDir: $N/pod-logs
tlsCertFile: $P/kubelet-serving.crt
tlsPrivateKeyFile: $P/kubelet-serving.key
readOnlyPort: 0
serializeImagePulls: false
# The images are imported, never pulled: image GC must not remove them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
YAML
  cat >"$N/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$N/kube-proxy.kubeconfig"}
mode: nftables
clusterCIDR: 10.244.0.0/16
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# The namespace's conntrack table is the kernel's: leave its sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  kubeconfig kubelet kubelet-client
  kubeconfig kube-proxy kube-proxy
}

# image_ref NAME / image_archive NAME: from images/build.sh's "REFERENCE ARCHIVE" lines.
image_ref() { awk -v n="/$1:" 'index($1, n) {print $1}' "$N/images"; }

# The kubelet's cgroup root, in every v1 hierarchy (cpuset needs its cpus and mems set).
cgroup_root() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ $h == */unified/ || ! -w $h ]] && continue
    mkdir -p "$h$CGROUP_ROOT"
    if [[ -f $h/cpuset.cpus ]]; then
      cat "$h/cpuset.cpus" >"$h$CGROUP_ROOT/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

# The names the node's images were built as (images/build.sh NAME or NAME@VERSION).
loaded_names() { cat "$N/loaded" 2>/dev/null || true; }

# Imports the "REFERENCE ARCHIVE" lines read from stdin; each name is in the index, so
# containerd records that name and no other.
import_images() {
  local ref archive
  while read -r ref archive; do
    ctr --address "$SOCK" -n k8s.io images import "$archive" >/dev/null 2>>"$RUN/logs/images.log"
  done
}

load() {
  if (($# == 0)); then
    mapfile -t names < <(comm -23 <("$repo/images/build.sh" --list | sort) <(loaded_names | sort))
    ((${#names[@]})) || return 0
    set -- "${names[@]}"
  fi
  local built; built=$("$repo/images/build.sh" "$@" 2>>"$RUN/logs/images.log") || { tail -20 "$RUN/logs/images.log" >&2; return 1; }
  import_images <<<"$built"
  echo "$built" >>"$N/images"
  printf '%s\n' "$@" >>"$N/loaded"
}

up() {
  network
  log "building the node's images (cached by recipe)"
  local base=(pause coredns busybox local-path-provisioner)
  "$repo/images/build.sh" "${base[@]}" >"$N.images" 2>"$RUN/logs/images.log" \
    || { tail -20 "$RUN/logs/images.log" >&2; return 1; }
  mkdir -p "$N"; mv "$N.images" "$N/images"; printf '%s\n' "${base[@]}" >"$N/loaded"
  certs; configs; cgroup_root
  log "starting containerd"
  start containerd "$CONTAINERD_DIR/containerd" --config "$N/containerd/config.toml"
  wait_for containerd "ctr --address $SOCK version" 60
  import_images <"$N/images"
  log "starting kubelet and kube-proxy ($NODE_NAME, $NODE_IP)"
  start kubelet "$K8S_DIR/kubelet" --config="$N/kubelet.yaml" --kubeconfig="$N/kubelet.kubeconfig" \
    --root-dir="$N/kubelet" --cert-dir="$N/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
  start kube-proxy "$K8S_DIR/kube-proxy" --config="$N/kube-proxy.yaml"
  local kubectl="kubectl --kubeconfig=$RUN/kubeconfig"
  wait_for kubelet "$kubectl wait --for=condition=Ready node/$NODE_NAME --timeout=5s" 120
  log "starting CoreDNS and local-path-provisioner"
  local f
  for f in "$here"/node/*.yaml; do
    sed -e "s|@COREDNS_IMAGE@|$(image_ref coredns)|" -e "s|@LOCAL_PATH_IMAGE@|$(image_ref local-path-provisioner)|" \
      -e "s|@BUSYBOX_IMAGE@|$(image_ref busybox)|" -e "s|@VOLUMES_DIR@|$N/volumes|" -e "s|@CLUSTER_DNS@|$CLUSTER_DNS|" "$f"
    echo ---
  done | $kubectl apply -f - >/dev/null
  wait_for kubelet "$kubectl -n kube-system rollout status deployment/coredns --timeout=5s" 120
  wait_for kubelet "$kubectl -n local-path-storage rollout status deployment/local-path-provisioner --timeout=5s" 120
  log "node $NODE_NAME ready"
}

pids_of() { local f; for f in "$@"; do [[ -f $RUN/pids/$f.pid ]] && cat "$RUN/pids/$f.pid"; done; return 0; }

# Pods first (so the CNI releases their addresses and namespaces and runc unmounts their
# file systems), then the processes, then whatever the kubelet left mounted.
down() {
  [[ -d $N ]] || return 0
  local p
  for p in $(pids_of kubelet kube-proxy); do kill -TERM -- "-$p" 2>/dev/null || true; done
  if [[ -S $SOCK ]]; then
    crictl --runtime-endpoint "unix://$SOCK" --timeout 60s rmp --all --force >/dev/null 2>&1 || true
  fi
  for p in $(pids_of containerd); do kill -TERM -- "-$p" 2>/dev/null || true; done
  for _ in $(seq 40); do
    [[ -z $(node_processes) ]] && break
    sleep 0.25
  done
  for p in $(node_processes); do kill -KILL "$p" 2>/dev/null || true; done
  # Containers whose sandbox the CRI could not remove still run in the kubelet's cgroups.
  for _ in $(seq 20); do
    [[ -z $(cgroup_processes) ]] && break
    for p in $(cgroup_processes); do kill -KILL "$p" 2>/dev/null || true; done
    sleep 0.25
  done
  rm -f "$RUN"/pids/{kubelet,kube-proxy,containerd}.pid
  local m
  for m in $(node_mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  local c
  for c in $(node_cgroups | sort -r); do rmdir "$c" 2>/dev/null || true; done
  # A pod whose sandbox the CRI could not remove keeps its veth pair: deleting the bridge's
  # end deletes both (the node has its network namespace to itself).
  local l
  for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$l" 2>/dev/null || true
  done
  ip link del cni0 2>/dev/null || true
}

# What would be left behind, each kind on its own.
node_processes() { pgrep -f -- "$N/" || true; }
node_mounts() { awk -v n="$N/" 'index($5, n) == 1 {print $5}' /proc/self/mountinfo; }
node_cgroups() { find /sys/fs/cgroup/*/"$CGROUP_ROOT" -type d 2>/dev/null || true; }
cgroup_processes() { local c; for c in $(node_cgroups); do cat "$c/cgroup.procs" 2>/dev/null; done | sort -u; }
leftovers() {
  local p; for p in $(node_processes); do echo "process $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"; done
  node_mounts | sed 's/^/mount /'
  node_cgroups | sed 's/^/cgroup /'
  cgroup_processes | sed 's/^/process in a node cgroup /'
  ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^(veth|cni0)/ {print "link " $2}'
}

case $cmd in
  up) up ;;
  load) shift 2; load "$@" ;;
  down) down ;;
  leftovers) leftovers ;;
  *) echo "usage: node.sh up|load|down|leftovers RUN" >&2; exit 2 ;;
esac
