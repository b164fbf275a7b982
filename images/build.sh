#!/usr/bin/env bash
# Builds mediana's images from their recipes (images/<name>/recipe.sh) without a container
# engine or registry: a root file system from Debian's packages (mmdebstrap) plus the
# image's own files, one OCI layer (umoci), cached as an OCI archive by a hash of the
# recipe and its inputs. Prints, per image, "REFERENCE ARCHIVE".
#
#   images/build.sh NAME...    build these images (whatever is not cached yet); NAME@VERSION
#                              builds a recipe's other version (one of its VARIANTS)
#   images/build.sh --all      every recipe, and each recipe's VARIANTS
#   images/build.sh --list     the image names, then NAME@VERSION for each variant
#
# Run as root (mmdebstrap and umoci keep file owners). A release pipeline publishes the
# same archives, e.g. `skopeo copy oci-archive:ARCHIVE docker://REFERENCE`.
set -euo pipefail
MEDIANA_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MEDIANA_REPO
# shellcheck source=lib.sh
. "$MEDIANA_REPO/images/lib.sh"
eval "$("$MEDIANA_REPO/tests/controlplane/build.sh" --print)"
# shellcheck source=../tests/controlplane/versions.env
. "$MEDIANA_REPO/tests/controlplane/versions.env"

log() { printf '[images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
names() { local d; for d in "$MEDIANA_REPO"/images/*/recipe.sh; do basename "$(dirname "$d")"; done; }
# A recipe's VARIANTS, a line of its own (`VARIANTS=(2.11.6)`): the other versions it builds,
# e.g. the CKAN release a node upgrades from.
variants() {
  local name v; for name in $(names); do
    for v in $(sed -n 's/^VARIANTS=(\(.*\))$/\1/p' "$MEDIANA_REPO/images/$name/recipe.sh"); do echo "$name@$v"; done
  done
}
all() { names; variants; }

case ${1:-} in
  --list) all; exit 0 ;;
  --all) mapfile -t names < <(all) ;;
  "") echo "usage: images/build.sh NAME... | --all | --list" >&2; exit 2 ;;
  *) names=("$@") ;;
esac
for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { echo "images/build.sh: $tool is needed (apt-get install mmdebstrap umoci)" >&2; exit 1; }
done
mkdir -p "$IMAGES_CACHE"

# build_one NAME[@VERSION]: in a subshell, so one recipe's variables never leak into the next.
# A recipe may declare VARIANTS, other versions it builds: it sees VERSION (empty for its own)
# and gives the variant its own TAG, which names the cached archive apart.
build_one() (
  local name=${1%%@*} recipe=$MEDIANA_REPO/images/${1%%@*}/recipe.sh
  VERSION=''; [[ $1 == *@* ]] && VERSION=${1#*@}
  [[ -f $recipe ]] || { echo "images/build.sh: no recipe images/$name/recipe.sh (images: $(names | tr '\n' ' '))" >&2; exit 2; }
  IMAGE='' TAG='' DEBIAN=() VARIANT=extract INPUTS=() CONFIG=() VARIANTS=()
  # shellcheck source=/dev/null
  . "$recipe"
  if [[ -n $VERSION && " ${VARIANTS[*]} " != *" $VERSION "* ]]; then
    echo "images/build.sh: $name has no variant $VERSION (its variants: ${VARIANTS[*]:-none})" >&2; exit 2
  fi
  local f; for f in "${INPUTS[@]}"; do
    [[ -f $f ]] || { echo "images/build.sh: $name needs $f, which is not built" >&2; exit 1; }
  done
  local out; out=$(image_archive "$name")
  exec {lock}>"$IMAGES_CACHE/.lock-$name"; flock "$lock"
  if [[ ! -f $out ]]; then
    local start=$SECONDS root; root=$(mktemp -d "$IMAGES_CACHE/.rootfs.XXXXXX")
    # "$root".*: what a recipe builds beside it (python_venv's build root).
    trap 'rm -rf "$root" "$root".*' EXIT
    log "$name: building $IMAGE:$TAG"
    rm -rf "$root"; rootfs_debian "$root"
    add_nonroot "$root"
    assemble "$root"
    oci_from_rootfs "$root" "$out"
    # Archives of earlier recipes of this image and version are never used again.
    find "$IMAGES_CACHE" -maxdepth 1 -name "$name-$TAG-*.oci.tar" ! -path "$out" -delete
    log "$name: $(du -m "$out" | cut -f1) MiB in $((SECONDS - start)) s"
  fi
  echo "$IMAGE:$TAG $out"
)

for name in "${names[@]}"; do build_one "$name"; done
