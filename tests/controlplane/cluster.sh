#!/usr/bin/env bash
# Starts and stops a real Kubernetes control plane as local processes, on loopback only:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes whose
# pods become Running and Ready, and whose Job pods complete).
#
#   tests/controlplane/cluster.sh up [DIR]     start (building binaries first if missing);
#                                              prints the path of the kubeconfig
#   tests/controlplane/cluster.sh down [DIR]   stop every process started by `up` in DIR
#   tests/controlplane/cluster.sh status [DIR] exit 0 when the cluster in DIR answers
#
# DIR holds certificates, logs, PIDs and the kubeconfig (default: .controlplane/ at the
# repository root). Several clusters can run at once in different DIRs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cmd=${1:?usage: cluster.sh up|down|status [DIR]}
RUN=${2:-${MEDIANA_CLUSTER_DIR:-$repo/.controlplane}}
eval "$("$here/build.sh" --print | tr ' ' '\n' | sed 's/^/export /')"
P=$RUN/pki
COMPONENTS="kwok kube-scheduler kube-controller-manager kube-apiserver etcd"

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# One CA; a serving certificate for 127.0.0.1/localhost (end-entity, serverAuth, IP SAN:
# what rustls/webpki insist on) and an admin client certificate in system:masters.
make_pki() {
  mkdir -p "$P"
  (
    cd "$P"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=mediana-test-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature
    leaf() {
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" -extfile <(printf '%b' "$3")
    }
    leaf serving /CN=kube-apiserver "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1\n"
    leaf admin "/O=system:masters/CN=mediana-admin" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >/dev/null 2>&1
}

# Starts a component in its own process group, so `down` can stop it and its children.
start() {
  local name=$1; shift
  setsid "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}

wait_for() {
  local name=$1 check=$2 timeout=$3 deadline=$((SECONDS + $3))
  until eval "$check" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "$name not ready after ${timeout}s; last lines of its log:"
      tail -30 "$RUN/logs/$name.log" >&2 || true
      return 1
    fi
    if [[ -f $RUN/pids/$name.pid ]] && ! kill -0 "$(cat "$RUN/pids/$name.pid")" 2>/dev/null; then
      log "$name exited; last lines of its log:"
      tail -30 "$RUN/logs/$name.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

up() {
  "$here/build.sh"
  down_quiet
  rm -rf "$RUN"; mkdir -p "$RUN"/{logs,pids,home}
  make_pki
  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port data
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  kcm_port=$(free_port); sched_port=$(free_port); kwok_port=$(free_port)
  data=$(mktemp -d /dev/shm/mediana-etcd.XXXXXX 2>/dev/null || mktemp -d)
  echo "$data" >"$RUN/etcd-data-dir"
  cat >"$RUN/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: mediana-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $P/ca.crt
users:
- name: admin
  user:
    client-certificate: $P/admin.crt
    client-key: $P/admin.key
contexts:
- name: mediana-local
  context: {cluster: mediana-local, user: admin, namespace: default}
current-context: mediana-local
KC
  local curl_admin="curl -fsS --cacert $P/ca.crt --cert $P/admin.crt --key $P/admin.key"

  log "starting etcd"
  start etcd "$ETCD_DIR/etcd" --name=node0 --data-dir="$data" --unsafe-no-fsync=true \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="node0=http://127.0.0.1:$etcd_peer" --initial-cluster-state=new \
    --listen-metrics-urls="" --log-level=warn
  wait_for etcd "curl -fsS http://127.0.0.1:$etcd_port/health | grep -q true" 30

  log "starting kube-apiserver"
  start kube-apiserver "$K8S_DIR/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" --cert-dir="$P" \
    --endpoint-reconciler-type=none --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" \
    --client-ca-file="$P/ca.crt" --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --enable-priority-and-fairness=false
  wait_for kube-apiserver "$curl_admin https://127.0.0.1:$api_port/readyz" 120

  log "starting kube-controller-manager, kube-scheduler and kwok"
  start kube-controller-manager "$K8S_DIR/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$kcm_port" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
    --use-service-account-credentials=true --node-monitor-grace-period=3m20s \
    --kube-api-qps=5000 --kube-api-burst=10000
  start kube-scheduler "$K8S_DIR/kube-scheduler" --kubeconfig="$RUN/kubeconfig" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$sched_port" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --kube-api-qps=5000 --kube-api-burst=10000
  local s=$KWOK_DIR/stages
  # A clean HOME: kwok would otherwise also load ~/.kwok/kwok.yaml.
  start kwok env HOME="$RUN/home" "$KWOK_DIR/kwok" --kubeconfig="$RUN/kubeconfig" --manage-all-nodes=true \
    -c "$s/node-initialize.yaml" -c "$s/node-heartbeat-with-lease.yaml" -c "$s/pod-ready.yaml" \
    -c "$s/pod-complete.yaml" -c "$s/pod-delete.yaml" -c "$s/job-pod-fail.yaml" \
    -c "$s/pvc-provision.yaml" -c "$s/pv-bind.yaml" -c "$s/pvc-delete.yaml" -c "$s/pv-delete.yaml" \
    --node-ip=127.0.0.1 --node-name=localhost --node-port="$kwok_port" --server-address="127.0.0.1:$kwok_port" \
    --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" --node-lease-duration-seconds=40
  wait_for kube-controller-manager "curl -fsSk https://127.0.0.1:$kcm_port/healthz" 90
  wait_for kube-scheduler "curl -fsSk https://127.0.0.1:$sched_port/readyz" 90
  wait_for kwok "curl -fsSk https://127.0.0.1:$kwok_port/healthz" 60

  log "creating fake node kwok-node-0"
  local kubectl="$K8S_DIR/kubectl --kubeconfig=$RUN/kubeconfig"
  $kubectl apply -f - >/dev/null <<'NODE'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
status:
  # A fake node stands for a whole cluster: room for thousands of catalogue nodes.
  allocatable: {cpu: "4000", memory: 32Ti, pods: "100000"}
  capacity: {cpu: "4000", memory: 32Ti, pods: "100000"}
NODE
  wait_for kwok "$kubectl wait --for=condition=Ready node/kwok-node-0 --timeout=5s" 90
  # The default StorageClass, whose claims kwok provisions and binds at once.
  $kubectl apply -f "$s/storage-class.yaml" >/dev/null
  # Pods need the default ServiceAccount, which the controller manager creates.
  wait_for kube-controller-manager "$kubectl get serviceaccount default -n default" 60
  log "ready: export KUBECONFIG=$RUN/kubeconfig"
  echo "$RUN/kubeconfig"
}

down_quiet() {
  [[ -d $RUN/pids ]] || return 0
  local name pid pids=()
  # Each component leads its own process group (setsid): signal the whole group, all
  # components at once, then wait for them together. The data is throwaway, so after a
  # short grace period (the API server would otherwise drain for up to a minute) kill them.
  for name in $COMPONENTS; do
    [[ -f $RUN/pids/$name.pid ]] || continue
    pid=$(cat "$RUN/pids/$name.pid")
    kill -TERM -- "-$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$RUN/pids/$name.pid"
  done
  for _ in $(seq 12); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [[ -f $RUN/etcd-data-dir ]]; then rm -rf "$(cat "$RUN/etcd-data-dir")" "$RUN/etcd-data-dir"; fi
}

case $cmd in
  up) up ;;
  down) down_quiet; log "stopped the control plane in $RUN" ;;
  status) [[ -f $RUN/kubeconfig ]] && "$K8S_DIR/kubectl" --kubeconfig="$RUN/kubeconfig" get --raw /readyz >/dev/null 2>&1 ;;
  *) echo "usage: cluster.sh up|down|status [DIR]" >&2; exit 2 ;;
esac
