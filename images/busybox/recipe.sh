# A shell and the usual tools in one static binary (Debian's busybox-static): the helper
# pods of local-path-provisioner (mkdir/rm of volume directories) and the tests' client pods.
IMAGE=ghcr.io/mediana-dev/busybox
TAG=$(apt-cache show --no-all-versions busybox-static | sed -n 's/^Version: //p' | sed 's/[^A-Za-z0-9._-]/_/g')
DEBIAN=(busybox-static)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/bin/sh)
assemble() {
  local root=$1 tool
  mkdir -p "$root/bin"
  for tool in $("$root/bin/busybox" --list); do [[ -e $root/bin/$tool ]] || ln -s busybox "$root/bin/$tool"; done
}
