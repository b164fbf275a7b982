#!/usr/bin/env bash
# `make demo`: the Macerata area's open data flowing municipality → region → nation on real
# pods, opened in a browser on this machine.
#
# Builds what it needs (Go binaries, the release operator, mediana's images), starts a local
# cluster with a real node in the network namespace $MEDIANA_DEMO_NETNS (default
# mediana-demo), installs the chart (the operator runs as pods), applies the examples
# adapted to one node (examples/demo/one_node.py), publishes the municipality's datasets,
# runs every harvest once and prints each portal's URL, how to log in and the datasets counted
# at each hop. The portals open at http://<name>.localhost on 127.0.0.1:$MEDIANA_DEMO_PORT
# (default 80, the port of their site URL): socat carries each connection into the namespace,
# where nginx sends it to the portal its Host names. Enter stops and removes it all.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export MEDIANA_REPO=$repo
. tests/controlplane/lib.sh
. tests/controlplane/portals.sh
demo_dir=$repo/.controlplane/demo
netns=${MEDIANA_DEMO_NETNS:-mediana-demo}
port=${MEDIANA_DEMO_PORT:-80}
started=$((SECONDS - ${MEDIANA_DEMO_ELAPSED:-0}))
log() { printf '[demo %(%H:%M:%S)T +%ss] %s\n' -1 "$((SECONDS - started))" "$*" >&2; }
die() { log "$*"; exit 1; }

examples=(examples/comune-macerata.yaml examples/regional-node-marche.yaml examples/harvest-macerata.yaml)
files=(--file comune-di-recanati=recanati.rdf --file comune-di-tolentino=tolentino.ttl)
region_ns=opendata-marche national_ns=opendata-nazionale municipal_ns=opendata-comune-macerata

# Commands that undo what the demo started, newest first (global: the EXIT trap runs after
# the function that set them has returned).
cleanup=()
stop_all() { local c; for c in "${cleanup[@]}"; do eval "$c" || true; done; }

# Outside the namespace: what needs the package registries, then the namespace and the
# bridge from this machine's loopback into it.
outside() {
  ((EUID == 0)) || die "make demo starts a node (containerd, network namespaces): run it as root"
  local missing=() tool
  for tool in runc nft conntrack mmdebstrap umoci socat nginx; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if ((${#missing[@]})); then
    log "installing Debian's packages for ${missing[*]}"
    local pkgs=("${missing[@]/#nft/nftables}"); pkgs=("${pkgs[@]/#nginx/nginx-light}")
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  # The adapter reads YAML: Debian's python3-yaml when this python has none.
  if ! python3 -c 'import yaml' 2>/dev/null && ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
  fi
  if ss -Hltn "sport = :$port" | grep -q .; then
    die "127.0.0.1:$port is taken: free it or set MEDIANA_DEMO_PORT (then the portals' redirects lose the port)"
  fi
  trap stop_all EXIT
  log "building the Go binaries, the operator (release) and mediana's images"
  tests/controlplane/build.sh >"$repo/.controlplane/build.log" 2>&1 || die "building the Go binaries failed: .controlplane/build.log"
  cargo build --locked --release --quiet
  MEDIANA_BIN=${CARGO_TARGET_DIR:-$repo/target}/release/mediana images/build.sh --all >/dev/null
  export MEDIANA_BIN=${CARGO_TARGET_DIR:-$repo/target}/release/mediana
  log "built"
  ip netns del "$netns" 2>/dev/null || true
  ip netns add "$netns"
  cleanup=("ip netns del $netns" "${cleanup[@]}")
  ip netns exec "$netns" ip link set lo up
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:nsenter --net=/run/netns/$netns socat STDIO TCP\\:127.0.0.1\\:8080" &
  cleanup=("kill $!" "${cleanup[@]}")
  MEDIANA_DEMO_ELAPSED=$((SECONDS - started)) nsenter --net="/run/netns/$netns" "$0" --inside
}

# Inside the namespace: the cluster, the chart, the portals and the harvests.
inside() {
  mediana_toolchain_env
  # Global, as cleanup is: the EXIT trap runs after this function has returned.
  cluster=$demo_dir/cluster nginx_pid=
  mkdir -p "$demo_dir"
  trap 'if [[ -n $nginx_pid ]]; then kill "$nginx_pid"; fi; tests/controlplane/cluster.sh down "$cluster" >/dev/null 2>&1' EXIT
  log "starting the cluster and its real node (log: .controlplane/demo/cluster.log)"
  tests/controlplane/cluster.sh up-node "$cluster" >"$demo_dir/cluster.log" 2>&1 || die "the cluster did not start: $demo_dir/cluster.log"
  tests/controlplane/node.sh load "$cluster" >/dev/null
  export KUBECONFIG=$cluster/kubeconfig
  local operator busybox
  operator=$(mediana_node_image "$cluster" mediana) busybox=$(mediana_node_image "$cluster" busybox)
  log "installing the chart (operator $operator)"
  helm install mediana charts/mediana -n mediana-system --create-namespace --wait --timeout 300s \
    --set "image.repository=${operator%:*}" --set "image.tag=${operator##*:}" >/dev/null
  log "applying ${examples[*]}, adapted to one node"
  local python=python3; python3 -c 'import yaml' 2>/dev/null || python=/usr/bin/python3
  "$python" examples/demo/one_node.py --busybox "$busybox" "${files[@]}" "${examples[@]}" |
    kubectl apply --server-side --field-manager=mediana-demo -f - >/dev/null
  kubectl wait --for=condition=Ready catalognodes --all -A --timeout=900s >/dev/null
  log "three portals serving"
  proxy "$demo_dir/nginx" & nginx_pid=$!

  log "the Comune di Macerata publishes its datasets"
  portal_publish "$municipal_ns" dati-comune-macerata tests/fixtures/chain/macerata.json
  log "the region harvests its municipalities"
  harvest "$region_ns" comune-di-macerata comune-di-recanati comune-di-tolentino
  log "the nation harvests the region"
  harvest "$national_ns" regione-marche
  log "ready"
  report
  if [[ -t 0 ]]; then
    read -rp "Press Enter to stop the demo and remove everything it started. "
  fi
}

# Runs the HarvestJobs now and says how each run ended.
harvest() {
  local ns=$1 job result message; shift
  portal_harvest_now "$ns" "$@" | while read -r job result message; do log "  $job: $result, $message"; done
}

# nginx on the namespace's 127.0.0.1:8080, one server per portal by host name.
proxy() {
  local dir=$1 ns name host
  mkdir -p "$dir"
  {
    echo "daemon off; pid $dir/nginx.pid; error_log $dir/error.log;"
    # Streamed both ways: nginx's workers (user nobody) then need no temporary files.
    echo "events {} http { access_log $dir/access.log; client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;"
    echo "  fastcgi_temp_path $dir/fcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi; client_max_body_size 100m;"
    echo "  proxy_buffering off; proxy_request_buffering off;"
    kubectl get catalognodes -A -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name} {.spec.hostname}{"\n"}{end}' |
      while read -r ns name host; do
        echo "  server { listen 127.0.0.1:8080; server_name $host;"
        echo "    location / { proxy_pass $(portal_url "$ns" "$name"); proxy_set_header Host \$host; } }"
      done
    echo "}"
  } >"$dir/nginx.conf"
  exec nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir"
}

# Each portal: its URL, its datasets, how to log in; then each harvest's last run.
report() {
  local ns name host count
  echo
  printf '%-26s %-45s %s\n' PORTAL URL DATASETS
  kubectl get catalognodes -A -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name} {.spec.hostname}{"\n"}{end}' |
    while read -r ns name host; do
      count=$(portal_count "$ns" "$name")
      printf '%-26s %-45s %s\n' "$name" "http://$host$([[ $port == 80 ]] || echo ":$port")/" "$count"
    done
  echo
  kubectl get harvestjobs -A
  echo
  echo "Log in as admin; the password of a portal (here the region's):"
  echo "  nsenter --net=/run/netns/$netns env KUBECONFIG=$KUBECONFIG $(command -v kubectl) get secret -n $region_ns \\"
  echo "    dati-regione-marche-ckan-secrets -o jsonpath='{.data.sysadmin-password}' | base64 -d"
  echo
}

if [[ ${1:-} == --inside ]]; then inside; else outside; fi
