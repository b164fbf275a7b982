# The pod sandbox: Kubernetes' own pause program (build/pause/linux/pause.c of the release,
# linked statically by tests/controlplane/build.sh), nothing else.
IMAGE=ghcr.io/mediana-dev/pause
TAG=$K8S_VERSION
INPUTS=("$PAUSE_DIR/pause")
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/pause)
assemble() { install -m 0755 "$PAUSE_DIR/pause" "$1/pause"; }
