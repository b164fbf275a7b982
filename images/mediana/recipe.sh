# The operator: the release build of `mediana` (cargo build --release) on glibc, libgcc and
# the CA roots from Debian, as nonroot (65532). The chart runs `mediana run`; HarvestJob
# pods run `mediana harvest-job` from the same image.
IMAGE=ghcr.io/mediana-dev/mediana
TAG=$(sed -n 's/^version = "\(.*\)"/\1/p' "$MEDIANA_REPO/Cargo.toml" | head -1)
MEDIANA_BIN=${MEDIANA_BIN:-$MEDIANA_REPO/target/release/mediana}
DEBIAN=(libc6 libgcc-s1 ca-certificates tzdata)
INPUTS=("$MEDIANA_BIN")
CONFIG=(--config.user="$NONROOT:$NONROOT" --config.entrypoint=/usr/local/bin/mediana --config.cmd=run
  --config.exposedports=8080/tcp --config.label=org.opencontainers.image.title=mediana
  --config.label=org.opencontainers.image.licenses=EUPL-1.2)
assemble() {
  ca_bundle "$1"
  install -D -m 0755 "$MEDIANA_BIN" "$1/usr/local/bin/mediana"
}
