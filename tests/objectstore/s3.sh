#!/usr/bin/env bash
# An S3-compatible object store for the backup tests: SeaweedFS (tests/controlplane/build.sh
# builds and caches it), one `weed server -s3` process on 127.0.0.1 with a single identity and
# one bucket.
#
#   tests/objectstore/s3.sh up DIR     start it; write DIR/env when it answers
#   tests/objectstore/s3.sh down DIR   stop it and remove its data
#
# DIR/env (shell-sourceable, written last: it exists => ready) holds the endpoint (plain HTTP,
# and HTTPS with a certificate from a CA made for this run, whose PEM it names), the bucket,
# the region and the paths of two files holding the access key id and the secret access key.
# The keys themselves are only in those files (mode 0600) and in the server's identities
# file: never in an argument list or in DIR/env, as mediana reads them.
#
# MEDIANA_S3_BIND=0.0.0.0 listens on every address instead of loopback only: tests/run.sh sets
# it inside its network namespace (loopback and the real node's bridge, no route off the
# machine), so that backup pods reach the store at the node's address. MEDIANA_S3_VOLUMES (8
# by default) is how many 64 MiB volumes SeaweedFS may make: 512 MiB for the tests, more for
# a benchmark's backups.
set -euo pipefail
cmd=${1:-}; DIR=${2:-}
[[ ($cmd == up || $cmd == down) && -n $DIR ]] || { echo "usage: $0 up|down DIR" >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUCKET=mediana-backups

log() { printf '[s3 %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }

# Stops the server of DIR, if it runs and is ours (its command line names DIR).
stop() {
  local pid
  [[ -f $DIR/weed.pid ]] || return 0
  pid=$(cat "$DIR/weed.pid")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/data"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [[ -e /proc/$pid ]] || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/weed.pid"
}

if [[ $cmd == down ]]; then
  stop
  rm -rf "${DIR:?}/data" "$DIR/env" "$DIR/s3.json" "$DIR/access-key-id" "$DIR/secret-access-key" "$DIR/tls"
  log "down: $DIR"
  exit 0
fi

weed_dir=$(eval "$("$repo/tests/controlplane/build.sh" --print)"; echo "$SEAWEEDFS_DIR")
weed=$weed_dir/weed
[[ -x $weed ]] || die "no SeaweedFS at $weed: run tests/controlplane/build.sh"

mkdir -p "$DIR"
rm -f "$DIR/env"
# Set before anything starts: a failed start leaves no server behind.
trap 'stop' EXIT

# Ports free on 127.0.0.1 now, each with its gRPC twin (SeaweedFS's default is port + 10000,
# which may be taken: every port is given explicitly).
ports=$(python3 -c '
import socket
socks = []
for _ in range(9):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')
read -r master master_grpc volume volume_grpc filer filer_grpc s3 s3_grpc s3_https <<<"$ports"

umask 077
key_id=mediana-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$key_id" >"$DIR/access-key-id"
printf '%s' "$secret" >"$DIR/secret-access-key"
cat >"$DIR/s3.json" <<EOF
{"identities": [{"name": "mediana", "credentials": [{"accessKey": "$key_id", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
# A CA of this run and the server's certificate for 127.0.0.1, signed by it: the TLS test
# trusts the CA through --ca-bundle, as a store with a private CA is reached.
rm -rf "$DIR/tls"; mkdir -p "$DIR/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mediana test CA" \
  -keyout "$DIR/tls/ca.key" -out "$DIR/tls/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$DIR/tls/server.key" -out "$DIR/tls/server.csr" 2>/dev/null
openssl x509 -req -in "$DIR/tls/server.csr" -CA "$DIR/tls/ca.pem" -CAkey "$DIR/tls/ca.key" -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n') -out "$DIR/tls/server.pem" 2>/dev/null
umask 022
rm -rf "$DIR/data"; mkdir -p "$DIR/data"

bind=${MEDIANA_S3_BIND:-127.0.0.1}
[[ $bind == 127.0.0.1 || $bind == 0.0.0.0 ]] || die "MEDIANA_S3_BIND must be 127.0.0.1 or 0.0.0.0, not $bind"
"$weed" server -dir="$DIR/data" -ip=127.0.0.1 -ip.bind="$bind" \
  -master.port="$master" -master.port.grpc="$master_grpc" -master.volumeSizeLimitMB=64 \
  -volume.port="$volume" -volume.port.grpc="$volume_grpc" -volume.max="${MEDIANA_S3_VOLUMES:-8}" \
  -filer.port="$filer" -filer.port.grpc="$filer_grpc" \
  -s3 -s3.port="$s3" -s3.port.grpc="$s3_grpc" -s3.config="$DIR/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
  -s3.port.https="$s3_https" -s3.cert.file="$DIR/tls/server.pem" -s3.key.file="$DIR/tls/server.key" \
  >"$DIR/weed.log" 2>&1 &
echo $! >"$DIR/weed.pid"

# Ready when the bucket is made (a signed S3 PUT, the keys through curl's config on a pipe,
# not its arguments): that needs the master, a volume, the filer and the gateway.
signed() { printf 'user = "%s:%s"\n' "$key_id" "$secret" | curl -sS -K - --aws-sigv4 aws:amz:us-east-1:s3 "$@"; }
for try in $(seq 120); do
  [[ -e /proc/$(cat "$DIR/weed.pid") ]] || { tail -n 30 "$DIR/weed.log" >&2; die "SeaweedFS exited (log: $DIR/weed.log)"; }
  code=$(signed -m 5 -o "$DIR/bucket.reply" -w '%{http_code}' -X PUT "http://127.0.0.1:$s3/$BUCKET" 2>/dev/null || true)
  [[ $code == 200 ]] && break
  ((try < 120)) || { cat "$DIR/bucket.reply" >&2; tail -n 30 "$DIR/weed.log" >&2; die "SeaweedFS did not become ready in 60 s"; }
  sleep 0.5
done

cat >"$DIR/env.tmp" <<EOF
MEDIANA_S3_DIR=$DIR
MEDIANA_S3_ENDPOINT=http://127.0.0.1:$s3
MEDIANA_S3_TLS_ENDPOINT=https://127.0.0.1:$s3_https
MEDIANA_S3_CA_BUNDLE=$DIR/tls/ca.pem
MEDIANA_S3_BUCKET=$BUCKET
MEDIANA_S3_REGION=us-east-1
MEDIANA_S3_ACCESS_KEY_ID_FILE=$DIR/access-key-id
MEDIANA_S3_SECRET_ACCESS_KEY_FILE=$DIR/secret-access-key
EOF
mv "$DIR/env.tmp" "$DIR/env"
trap - EXIT
log "up: http://127.0.0.1:$s3 (bucket $BUCKET, PID $(cat "$DIR/weed.pid")); source $DIR/env"
