#!/usr/bin/env bash
# Starts and stops a real Kubernetes control plane as local processes, on loopback only:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes whose
# pods become Running and Ready, and whose Job pods complete).
#
#   tests/controlplane/cluster.sh up [DIR]     start (building binaries first if missing);
#                                              prints the path of the kubeconfig
#   tests/controlplane/cluster.sh up-node [DIR]  the same with a real worker node (node.sh)
#                                              instead of kwok: real pods, CoreDNS, a default
#                                              StorageClass; only inside a network namespace
#                                              of its own (netns.sh)
#   tests/controlplane/cluster.sh down [DIR]   stop every process started by `up` in DIR
#   tests/controlplane/cluster.sh status [DIR] exit 0 when the cluster in DIR answers
#   tests/controlplane/cluster.sh apiserver-stop [DIR]   stop only kube-apiserver (an outage:
#                                              etcd keeps the data, the other components
#                                              keep running and retry)
#   tests/controlplane/cluster.sh apiserver-start [DIR]  start it again with the same
#                                              arguments (port, etcd, certificates); waits
#                                              until it is ready
#
# DIR holds certificates, logs, PIDs and the kubeconfig (default: .controlplane/ at the
# repository root), and DIR/kubeconfig.flat, the same kubeconfig with the certificates
# inline (for a Secret, or any working directory). Several clusters can run at once in
# different DIRs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cmd=${1:?usage: cluster.sh up|up-node|down|status|apiserver-stop|apiserver-start [DIR]}
RUN=${2:-${MEDIANA_CLUSTER_DIR:-$repo/.controlplane}}
# Absolute: the kubeconfig names its certificates by this path, read from other directories.
mkdir -p "$RUN" && RUN=$(cd "$RUN" && pwd)
eval "$("$here/build.sh" --print)"
# shellcheck source=versions.env
. "$here/versions.env"
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
    leaf serving /CN=kube-apiserver "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1\n"
    leaf admin "/O=system:masters/CN=mediana-admin" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >/dev/null 2>&1
}

# Starts a component in its own process group, so `down` can stop it and its children.
# The log is appended to (`up` starts from an empty DIR): the API server restarted by
# apiserver-start keeps what it logged before the outage.
start() {
  local name=$1; shift
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
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
  local real_node=${1:-}
  "$here/build.sh"
  down_quiet
  rm -rf "$RUN"; mkdir -p "$RUN"/{logs,pids,home}
  make_pki
  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port data
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  kcm_port=$(free_port); sched_port=$(free_port); kwok_port=$(free_port)
  data=$(mktemp -d /dev/shm/mediana-etcd.XXXXXX 2>/dev/null || mktemp -d)
  echo "$data" >"$RUN/etcd-data-dir"
  write_kubeconfig "$RUN/kubeconfig" "$api_port" "certificate-authority: $P/ca.crt" \
    "client-certificate: $P/admin.crt" "client-key: $P/admin.key"
  # The same, self-contained: it can go into a Secret (the multi-cluster tests hand spokes
  # to the operator that way) and works from any directory. It holds the admin key.
  (
    umask 077
    write_kubeconfig "$RUN/kubeconfig.flat" "$api_port" "certificate-authority-data: $(base64 -w0 "$P/ca.crt")" \
      "client-certificate-data: $(base64 -w0 "$P/admin.crt")" "client-key-data: $(base64 -w0 "$P/admin.key")"
  )

  log "starting etcd"
  start etcd "$ETCD_DIR/etcd" --name=node0 --data-dir="$data" --unsafe-no-fsync=true \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="node0=http://127.0.0.1:$etcd_peer" --initial-cluster-state=new \
    --listen-metrics-urls="" --log-level=warn
  wait_for etcd "curl -fsS http://127.0.0.1:$etcd_port/health | grep -q true" 30

  log "starting kube-apiserver"
  # shellcheck disable=SC2054 # the commas are inside arguments (Node,RBAC)
  local api_args=("$K8S_DIR/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" --cert-dir="$P" \
    --endpoint-reconciler-type=none --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" \
    --client-ca-file="$P/ca.crt" --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --enable-priority-and-fairness=false)
  if [[ -n $real_node ]]; then
    # Pods reach the API server through the Service kubernetes (10.96.0.1), whose endpoint
    # is the node's address; the API server reaches the kubelet there too (logs, exec).
    api_args=("${api_args[@]/--bind-address=127.0.0.1/--bind-address=0.0.0.0}")
    api_args=("${api_args[@]/--advertise-address=127.0.0.1/--advertise-address=$NODE_IP}")
    api_args=("${api_args[@]/--endpoint-reconciler-type=none/--endpoint-reconciler-type=lease}")
    api_args+=(--kubelet-client-certificate="$P/admin.crt" --kubelet-client-key="$P/admin.key"
      --kubelet-certificate-authority="$P/ca.crt" --kubelet-preferred-address-types=InternalIP)
    touch "$RUN/real-node"
  fi
  # Recorded (one argument a line) for apiserver-start, which replays it as is.
  printf '%s\n' "${api_args[@]}" >"$RUN/kube-apiserver.args"
  start kube-apiserver "${api_args[@]}"
  wait_apiserver "$api_port"

  log "starting kube-controller-manager and kube-scheduler"
  start kube-controller-manager "$K8S_DIR/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$kcm_port" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
    --use-service-account-credentials=true --node-monitor-grace-period=3m20s \
    --kube-api-qps=5000 --kube-api-burst=10000
  start kube-scheduler "$K8S_DIR/kube-scheduler" --kubeconfig="$RUN/kubeconfig" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$sched_port" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --kube-api-qps=5000 --kube-api-burst=10000
  wait_for kube-controller-manager "curl -fsSk https://127.0.0.1:$kcm_port/healthz" 90
  wait_for kube-scheduler "curl -fsSk https://127.0.0.1:$sched_port/readyz" 90
  local kubectl="$K8S_DIR/kubectl --kubeconfig=$RUN/kubeconfig"
  if [[ -n $real_node ]]; then
    "$here/node.sh" up "$RUN"
  else
    start_kwok "$kwok_port"
  fi
  # Pods need the default ServiceAccount, which the controller manager creates.
  wait_for kube-controller-manager "$kubectl get serviceaccount default -n default" 60
  log "ready: export KUBECONFIG=$RUN/kubeconfig"
  echo "$RUN/kubeconfig"
}

# kwok and its fake node kwok-node-0, with the StorageClass whose claims kwok binds.
start_kwok() {
  local kwok_port=$1 s=$KWOK_DIR/stages kubectl="$K8S_DIR/kubectl --kubeconfig=$RUN/kubeconfig"
  log "starting kwok"
  # A clean HOME: kwok would otherwise also load ~/.kwok/kwok.yaml.
  start kwok env HOME="$RUN/home" "$KWOK_DIR/kwok" --kubeconfig="$RUN/kubeconfig" --manage-all-nodes=true \
    -c "$s/node-initialize.yaml" -c "$s/node-heartbeat-with-lease.yaml" -c "$s/pod-ready.yaml" \
    -c "$s/pod-complete.yaml" -c "$s/pod-delete.yaml" -c "$s/job-pod-fail.yaml" \
    -c "$s/pvc-provision.yaml" -c "$s/pv-bind.yaml" -c "$s/pvc-delete.yaml" -c "$s/pv-delete.yaml" \
    --node-ip=127.0.0.1 --node-name=localhost --node-port="$kwok_port" --server-address="127.0.0.1:$kwok_port" \
    --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" --node-lease-duration-seconds=40
  wait_for kwok "curl -fsSk https://127.0.0.1:$kwok_port/healthz" 60

  log "creating fake node kwok-node-0"
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
}

# write_kubeconfig FILE API_PORT CA_LINE CERT_LINE KEY_LINE: the admin's kubeconfig, with
# the certificates as given (file paths or inline data).
write_kubeconfig() {
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: mediana-local
  cluster:
    server: https://127.0.0.1:$2
    $3
users:
- name: admin
  user:
    $4
    $5
contexts:
- name: mediana-local
  context: {cluster: mediana-local, user: admin, namespace: default}
current-context: mediana-local
KC
}

wait_apiserver() {
  wait_for kube-apiserver "curl -fsS --cacert $P/ca.crt --cert $P/admin.crt --key $P/admin.key https://127.0.0.1:$1/readyz" 120
}

# A process counts until it is reaped or a zombie (whoever adopted it may reap late).
alive() { [[ -e /proc/$1 ]] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# stop_groups PID...: each PID leads its own process group (setsid): signal the whole
# groups at once, then wait for them together. The data is throwaway (or, for an outage,
# safe in etcd), so after a short grace period (the API server would otherwise drain for up
# to a minute) kill them, and wait until they are gone.
stop_groups() {
  local pid left
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 12); do
    left=0
    for pid in "$@"; do alive "$pid" && left=1; done
    ((left)) || return 0
    sleep 0.25
  done
  for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 40); do
    left=0
    for pid in "$@"; do alive "$pid" && left=1; done
    ((left)) || return 0
    sleep 0.25
  done
  log "still alive after SIGKILL: $*"
  return 1
}

down_quiet() {
  [[ -d $RUN/pids ]] || return 0
  [[ -f $RUN/real-node ]] && "$here/node.sh" down "$RUN"
  local name pids=()
  for name in $COMPONENTS; do
    [[ -f $RUN/pids/$name.pid ]] || continue
    pids+=("$(cat "$RUN/pids/$name.pid")")
    rm -f "$RUN/pids/$name.pid"
  done
  ((${#pids[@]} == 0)) || stop_groups "${pids[@]}" || true
  if [[ -f $RUN/etcd-data-dir ]]; then rm -rf "$(cat "$RUN/etcd-data-dir")" "$RUN/etcd-data-dir"; fi
}

# An outage of the API server alone: etcd keeps the data; the controller manager, the
# scheduler and kwok keep running and reconnect once it is back.
apiserver_stop() {
  local f=$RUN/pids/kube-apiserver.pid
  if [[ ! -f $f ]]; then log "kube-apiserver is not running in $RUN"; return 0; fi
  stop_groups "$(cat "$f")"
  rm -f "$f"
  log "stopped kube-apiserver in $RUN"
}

# Starts the API server `up` started, with the same command line (the same port, etcd and
# certificates, so clients and the other components find it again), and waits until ready.
apiserver_start() {
  local args port f=$RUN/pids/kube-apiserver.pid
  if [[ ! -f $RUN/kube-apiserver.args ]]; then
    log "no $RUN/kube-apiserver.args: start the cluster with \`cluster.sh up $RUN\` first"
    return 1
  fi
  mapfile -t args <"$RUN/kube-apiserver.args"
  port=$(sed -n 's/^--secure-port=//p' "$RUN/kube-apiserver.args")
  if [[ -f $f ]] && alive "$(cat "$f")"; then
    log "kube-apiserver is already running in $RUN"
  else
    log "starting kube-apiserver again on port $port"
    printf -- '--- restarted by cluster.sh apiserver-start at %(%F %T)T\n' -1 >>"$RUN/logs/kube-apiserver.log"
    start kube-apiserver "${args[@]}"
  fi
  wait_apiserver "$port"
  log "kube-apiserver ready in $RUN"
}

case $cmd in
  up) up ;;
  up-node) up real-node ;;
  down) down_quiet; log "stopped the control plane in $RUN" ;;
  status) [[ -f $RUN/kubeconfig ]] && "$K8S_DIR/kubectl" --kubeconfig="$RUN/kubeconfig" get --raw /readyz >/dev/null 2>&1 ;;
  apiserver-stop) apiserver_stop ;;
  apiserver-start) apiserver_start ;;
  *) echo "usage: cluster.sh up|up-node|down|status|apiserver-stop|apiserver-start [DIR]" >&2; exit 2 ;;
esac
