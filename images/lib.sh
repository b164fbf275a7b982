# Shared by images/build.sh (sourced): how a recipe becomes an OCI image archive.
#
# A recipe (images/<name>/recipe.sh) sets
#   IMAGE      the repository, e.g. ghcr.io/mediana-dev/coredns
#   TAG        the tag, carrying the component's version
#   DEBIAN     Debian packages of the root file system (may be empty)
#   VARIANT    mmdebstrap variant: "extract" (files only, no maintainer scripts: the
#              smallest images) or "minbase" (a configured system, for daemons whose
#              packages set themselves up), default extract
#   INPUTS     files whose content goes into the recipe hash (binaries copied in)
#   CONFIG     umoci config arguments (user, entrypoint, ports, env, labels)
# and defines assemble ROOTFS, which adds the image's own files.
# Every image gets the user and group 65532 "nonroot" unless its packages define it.

IMAGES_CACHE=${MEDIANA_CACHE:-$HOME/.cache/mediana}/images
DEBIAN_SUITE=bookworm
NONROOT=65532

# image_hash NAME: a hash of what the image is made of: its recipe, this file, the inputs.
image_hash() {
  local dir=$MEDIANA_REPO/images/$1
  { cat "$MEDIANA_REPO/images/lib.sh"; find "$dir" -type f -print0 | sort -z | xargs -0 cat
    local f; for f in "${INPUTS[@]}"; do sha256sum <"$f"; done; } | sha256sum | cut -c1-16
}

# image_archive NAME: the cached archive of the recipe as it is now.
image_archive() { echo "$IMAGES_CACHE/$1-$TAG-$(image_hash "$1").oci.tar"; }

# rootfs_debian DIR: the recipe's Debian packages unpacked (or configured) into DIR. The
# machine's own apt sources and settings are used; the downloaded packages are cached.
rootfs_debian() {
  local root=$1 apt_cache=$IMAGES_CACHE/apt-archives
  mkdir -p "$apt_cache"
  if ((${#DEBIAN[@]} == 0)); then mkdir -p "$root"; return 0; fi
  local include; include=$(IFS=,; echo "${DEBIAN[*]}")
  mmdebstrap --quiet --variant="${VARIANT:-extract}" --include="$include" \
    --skip=cleanup/apt/cache --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && cp -a $apt_cache/. \"\$1/var/cache/apt/archives/\" 2>/dev/null || true" \
    --customize-hook="cp -a \"\$1\"/var/cache/apt/archives/*.deb $apt_cache/ 2>/dev/null || true" \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/*' \
    "$DEBIAN_SUITE" "$root"
  # The package cache and lists, documentation, manuals and message translations: no
  # container reads them (the customize hook above does not see what the extract variant
  # unpacks, nor the packages the setup hook copied in).
  rm -rf "$root"/usr/share/{doc,man,info,locale,i18n} "$root"/var/cache/apt/archives/* "$root"/var/lib/apt/lists/*
}

# add_nonroot ROOTFS: /etc/passwd and /etc/group with root and nonroot (65532), kept as
# they are when the packages wrote them (then nonroot is appended if missing).
add_nonroot() {
  local root=$1
  mkdir -p "$root/etc" "$root/home/nonroot" "$root/tmp"
  chmod 1777 "$root/tmp"
  [[ -f $root/etc/passwd ]] || echo 'root:x:0:0:root:/root:/sbin/nologin' >"$root/etc/passwd"
  [[ -f $root/etc/group ]] || echo 'root:x:0:' >"$root/etc/group"
  grep -q "^nonroot:" "$root/etc/passwd" || echo "nonroot:x:$NONROOT:$NONROOT:nonroot:/home/nonroot:/sbin/nologin" >>"$root/etc/passwd"
  grep -q "^nonroot:" "$root/etc/group" || echo "nonroot:x:$NONROOT:" >>"$root/etc/group"
  chown "$NONROOT:$NONROOT" "$root/home/nonroot"
}

# ca_bundle ROOTFS: the Mozilla roots of Debian's ca-certificates as the one bundle TLS
# clients read (its maintainer script, which builds it, does not run in "extract").
ca_bundle() {
  local root=$1
  mkdir -p "$root/etc/ssl/certs"
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
}

# oci_from_rootfs ROOTFS ARCHIVE: one layer with the whole root file system, the recipe's
# config, and the full reference in the index (so containerd imports it under that name
# and no other).
oci_from_rootfs() {
  local root=$1 out=$2 work; work=$(mktemp -d "$IMAGES_CACHE/.build.XXXXXX")
  local layout=$work/layout ref=$IMAGE:$TAG
  umoci init --layout "$layout"
  umoci new --image "$layout:$TAG"
  umoci unpack --image "$layout:$TAG" "$work/bundle" >/dev/null
  rm -rf "$work/bundle/rootfs"; mv "$root" "$work/bundle/rootfs"
  umoci repack --image "$layout:$TAG" "$work/bundle"
  umoci config --image "$layout:$TAG" --os linux --architecture amd64 --no-history \
    --config.label "org.opencontainers.image.version=$TAG" \
    --config.label "org.opencontainers.image.source=https://github.com/mediana-dev/mediana" "${CONFIG[@]}"
  umoci gc --layout "$layout"
  python3 - "$layout/index.json" "$ref" <<'PY'
import json, sys
path, ref = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})["io.containerd.image.name"] = ref
json.dump(index, open(path, "w"))
PY
  tar -C "$layout" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

# python_venv ROOTFS VENV REQUIREMENTS [PACKAGE_DIR...]: a venv at VENV (an absolute path inside
# the image) with the requirements file REQUIREMENTS installed from PyPI, then the Python
# packages of this repository in PACKAGE_DIRs (without dependencies: the requirements file
# names them all), built in a throw-away root of Debian's
# Python, compilers and BUILD_DEBIAN (headers of what packages build against), then copied
# into ROOTFS, whose python3 is the same Debian package. pip reaches PyPI as the host does
# (its resolver, CA bundle and index settings); /proc, /dev and pip's cache are mounted in a
# mount namespace of its own, so nothing stays mounted whatever happens.
python_venv() {
  local root=$1 venv=$2 requirements=$3 package
  local build=$root.venv-build
  (
    DEBIAN=(python3 python3-venv python3-dev gcc libc6-dev ca-certificates "${BUILD_DEBIAN[@]}") VARIANT=minbase
    rootfs_debian "$build"
  )
  cp /etc/resolv.conf "$build/etc/resolv.conf"
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$build/etc/ssl/certs/host-ca.crt"
  cp "$requirements" "$build/tmp/requirements.txt"
  mkdir -p "$build/tmp/packages"
  for package in "${@:4}"; do
    cp -r "$package" "$build/tmp/packages/"
    rm -rf "$build/tmp/packages/${package##*/}"/{build,*.egg-info} && find "$build/tmp/packages" -name __pycache__ -prune -exec rm -rf {} +
  done
  # pip's cache (the wheels it built: with the wheel package, sdists such as psycopg2 become
  # wheels) outlives the build root, for the next build.
  mkdir -p "$IMAGES_CACHE/pip" "$build/var/cache/pip"
  unshare --mount --propagation private -- sh -c 'mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && mount --bind "$2" "$1/var/cache/pip" && root=$1 && shift 2 && exec chroot "$root" "$@"' \
    sh "$build" "$IMAGES_CACHE/pip" env -i PATH=/usr/bin:/bin HOME=/tmp PIP_CERT=/etc/ssl/certs/host-ca.crt PIP_CACHE_DIR=/var/cache/pip \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} \
    sh -c 'python3 -m venv "$0" && "$0/bin/pip" install -q --no-input wheel && "$0/bin/pip" install -q --no-input -r /tmp/requirements.txt \
      && for p in /tmp/packages/*/; do [ ! -d "$p" ] || "$0/bin/pip" install -q --no-input --no-deps --no-build-isolation "$p" || exit 1; done' "$venv"
  mkdir -p "$root$(dirname "$venv")"
  cp -a "$build$venv" "$root$venv"
  rm -rf "$build"
}
