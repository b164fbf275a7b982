# CKAN with ckanext-dcat, ckanext-scheming and gunicorn (images/ckan/requirements.txt) and
# mediana's own extension (ckanext-mediana/) in a venv on Debian's Python, as nonroot (65532),
# with no writable path but the volumes the operator mounts: uploads at /var/lib/ckan, /tmp.
# CKAN_INI names the configuration (the operator mounts it); the default command serves it with
# gunicorn on port 5000, and `ckan` is on PATH for the operator's Jobs. Tagged with the CKAN
# version.
# The variant is the previous CKAN line, which the upgrade test (tests/real_node.rs) starts a
# node on: the same requirements with that CKAN release, whose [requirements] pin the rest.
VARIANTS=(2.11.6)
REQUIREMENTS=$MEDIANA_REPO/images/ckan/requirements.txt
if [[ -n $VERSION ]]; then
  mkdir -p "$IMAGES_CACHE/requirements"
  sed "s/^ckan\[requirements\]==.*/ckan[requirements]==$VERSION/" "$REQUIREMENTS" >"$IMAGES_CACHE/requirements/ckan-$VERSION.txt"
  REQUIREMENTS=$IMAGES_CACHE/requirements/ckan-$VERSION.txt
fi
IMAGE=ghcr.io/mediana-dev/ckan
TAG=$(sed -n 's/^ckan\[requirements\]==//p' "$REQUIREMENTS")
EXTENSION=$MEDIANA_REPO/ckanext-mediana
# What the extension installs (not its tests, not what building it leaves) goes into the hash.
mapfile -t INPUTS < <(find "$EXTENSION/ckanext" "$EXTENSION/pyproject.toml" "$EXTENSION/README.md" -type f ! -path '*/__pycache__/*' | sort)
[[ -z $VERSION ]] || INPUTS+=("$REQUIREMENTS")
# libmagic1: python-magic, which CKAN uses to tell uploads' types; dash and coreutils: the
# operator's Jobs run shell steps (the API token).
DEBIAN=(python3 libpq5 libmagic1 ca-certificates tzdata dash coreutils)
BUILD_DEBIAN=(libpq-dev)
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.workingdir=/opt/ckan
  --config.env=PATH=/opt/ckan/venv/bin:/usr/bin:/bin --config.env=CKAN_INI=/etc/ckan/ckan.ini
  --config.env=PYTHONDONTWRITEBYTECODE=1 --config.env=PYTHONUNBUFFERED=1
  --config.cmd=gunicorn --config.cmd=--bind=0.0.0.0:5000 --config.cmd=--workers=2
  --config.cmd=--timeout=120 --config.cmd=--no-control-socket --config.cmd=wsgi:application
  --config.exposedports=5000/tcp --config.label=org.opencontainers.image.title=ckan
  --config.label=org.opencontainers.image.licenses=AGPL-3.0-or-later)
assemble() {
  local root=$1
  ca_bundle "$root"
  python_venv "$root" /opt/ckan/venv "$REQUIREMENTS" "$EXTENSION"
  install -D -m 0644 "$MEDIANA_REPO/images/ckan/wsgi.py" "$root/opt/ckan/wsgi.py"
  mkdir -p "$root/etc/ckan" "$root/var/lib/ckan"
  chown "$NONROOT:$NONROOT" "$root/var/lib/ckan"
}
