# The default StorageClass's provisioner (rancher/local-path-provisioner from its Go
# module, static): volumes are directories on the node, made by busybox helper pods.
IMAGE=ghcr.io/mediana-dev/local-path-provisioner
TAG=$LOCAL_PATH_VERSION
INPUTS=("$LOCAL_PATH_DIR/local-path-provisioner")
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/local-path-provisioner)
assemble() { install -m 0755 "$LOCAL_PATH_DIR/local-path-provisioner" "$1/local-path-provisioner"; }
