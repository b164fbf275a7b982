# Cluster DNS: CoreDNS built from its Go module (static), as nonroot. Port 53 needs no
# capability: containerd lets pods bind low ports (enable_unprivileged_ports).
IMAGE=ghcr.io/mediana-dev/coredns
TAG=$COREDNS_VERSION
INPUTS=("$COREDNS_DIR/coredns")
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/coredns --config.exposedports=53/udp --config.exposedports=53/tcp)
assemble() { install -m 0755 "$COREDNS_DIR/coredns" "$1/coredns"; }
