#!/usr/bin/env bash
# `make bench BENCH=backup`: a CatalogNode's backup to object storage and its restore, for a
# CKAN holding N datasets (default 10,000) and FILES_MIB of uploaded files (default 256),
# beside the same work done by hand on local disk, in one run so the ratios hold on a busy
# machine.
#
#   N=10000 FILES_MIB=256 CONCURRENCY=4 tests/bench/backup.sh
#
# A CKAN 2.12 (tests/ckan/ckan.sh) and SeaweedFS (tests/objectstore/s3.sh), both started
# here on loopback and stopped on exit. The datasets are made through CKAN's API
# (tests/bench/ckan_peer.py, CONCURRENCY clients), so the database is what CKAN writes; the
# files are random bytes (they do not compress) in 1 MiB files. Then, each timed:
# - baseline backup, what a cron script does: `pg_dump --format=custom` and `tar` of the
#   files to local files, then each uploaded to the same store with curl (`--aws-sigv4`, one
#   PUT per file);
# - `mediana backup run` (release build) to the store: the same two programs streamed into
#   multipart uploads with SHA-256 on the way, then the manifest;
# - baseline restore: both files downloaded with curl, then `pg_restore --single-transaction`
#   into a new database and `tar -x` into a new directory;
# - `mediana backup restore` into another new database and directory: download and check
#   every part, then the same two programs.
# Reported and appended to docs/benchmarks.md: each time, mediana's peak RSS, the bytes
# stored, and the ratios mediana / baseline (goals: at most 1.2 for each). The restored
# database's package count and the restored files are checked against the source.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
NAME=backup # read by lib.sh
N=${N:-10000} # before lib.sh, whose default is the operator benchmarks'
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
FILES_MIB=${FILES_MIB:-256}
CONCURRENCY=${CONCURRENCY:-4}
work=$repo/.bench/backup
ckan_dir=$work/ckan s3_dir=$work/s3
cleanup=()
# shellcheck disable=SC2154  # c is the trap's own loop variable
trap 'for c in "${cleanup[@]}"; do eval "$c" || true; done' EXIT
rm -rf "$work"; mkdir -p "$work"
calc() { python3 -c "print($1)"; }

eval "$(tests/ckan/setup.sh --print)"
cargo build --release --locked --quiet
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- operator Cargo.toml Cargo.lock || echo "+changes")
load_start=$(uptime | sed 's/.*load average: //')

cleanup+=("tests/ckan/ckan.sh down '$ckan_dir' >/dev/null 2>&1" "tests/objectstore/s3.sh down '$s3_dir' >/dev/null 2>&1")
tests/ckan/ckan.sh up "$ckan_dir" 1 >"$work/ckan.log" 2>&1
# Room for the backups: 64 MiB volumes, as many as the files and the dumps need with margin.
MEDIANA_S3_VOLUMES=$((FILES_MIB / 16 + 32)) tests/objectstore/s3.sh up "$s3_dir" >"$work/s3.log" 2>&1
set -a; . "$ckan_dir/env"; . "$s3_dir/env"; set +a
export PGHOST=$MEDIANA_PG_HOST PGPORT=$MEDIANA_PG_PORT PGUSER=postgres
source_db=${MEDIANA_CKAN_1_DB_URL##*/}
psql_value() { psql -X -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

log "making $N datasets through CKAN's API ($CONCURRENCY clients)"
t0=$(now)
CKAN_TOKEN=$MEDIANA_CKAN_1_TOKEN "$CKAN_CACHE/venv/bin/python" tests/bench/ckan_peer.py create \
  "$MEDIANA_CKAN_1_URL" comune-bench bench "$N" "$CONCURRENCY" "$MEDIANA_CKAN_1_URL" bench/backup >"$work/create.json"
t_load=$(elapsed "$t0")
packages=$(psql_value "$source_db" "SELECT count(*) FROM package WHERE state = 'active'")
((packages >= N)) || { log "only $packages datasets in CKAN's database: $(cat "$work/create.json")"; exit 1; }
files=$work/files
mkdir -p "$files/resources"
for i in $(seq "$FILES_MIB"); do head -c 1048576 /dev/urandom >"$files/resources/upload-$i.bin"; done

# Runs CMD under /usr/bin/time; sets secs (wall) and rss_mib (max RSS).
timed() {
  local t0; t0=$(now)
  /usr/bin/time -f '%M' -o "$work/time.txt" "$@" >>"$work/commands.log" 2>&1
  secs=$(elapsed "$t0")
  rss_mib=$(calc "round($(tail -1 "$work/time.txt") / 1024, 1)")
}
store_args=(--store "s3://$MEDIANA_S3_BUCKET/bench" --endpoint "$MEDIANA_S3_ENDPOINT")
export MEDIANA_BACKUP_ACCESS_KEY_ID_FILE=$MEDIANA_S3_ACCESS_KEY_ID_FILE
export MEDIANA_BACKUP_SECRET_ACCESS_KEY_FILE=$MEDIANA_S3_SECRET_ACCESS_KEY_FILE

# curl's S3 requests, the keys through its config on a pipe (never its arguments).
key_id=$(cat "$MEDIANA_S3_ACCESS_KEY_ID_FILE") secret=$(cat "$MEDIANA_S3_SECRET_ACCESS_KEY_FILE")
# Without waiting for "100 Continue" (SeaweedFS does not send it: curl would wait before each
# upload); the header itself stays, it is signed.
s3() { printf 'user = "%s:%s"\n' "$key_id" "$secret" | curl -sSf -K - --expect100-timeout 0.01 --aws-sigv4 "aws:amz:$MEDIANA_S3_REGION:s3" "$@"; }
export -f s3; export key_id secret
baseline="$MEDIANA_S3_ENDPOINT/$MEDIANA_S3_BUCKET/baseline"
# The store's first write makes its volumes (seconds): done before either side is timed.
echo warm >"$work/warm"; s3 -T "$work/warm" "$baseline/warm" >/dev/null
log "baseline backup: pg_dump and tar to local files, then uploaded with curl"
timed bash -c "pg_dump --format=custom --file='$work/base.dump' '$source_db' && tar --create --file='$work/base.tar' --directory='$files' . \
  && s3 -T '$work/base.dump' '$baseline/base.dump' && s3 -T '$work/base.tar' '$baseline/base.tar'"
t_base_backup=$secs
base_bytes=$(( $(stat -c %s "$work/base.dump") + $(stat -c %s "$work/base.tar") ))
rm -f "$work/base.dump" "$work/base.tar"
log "mediana backup run"
timed env PGDATABASE="$source_db" "$mediana" backup run "${store_args[@]}" --node bench --ckan-version 2.12.0 --files-dir "$files"
t_backup=$secs rss_backup=$rss_mib
stored=$("$mediana" backup list "${store_args[@]}" --node bench | awk 'NR == 2 {print $6}')

log "baseline restore: downloaded with curl, then pg_restore and tar -x"
createdb restored_base; createdb restored_mediana
mkdir -p "$work/restored-base" "$work/restored-mediana"
timed bash -c "s3 -o '$work/base.dump' '$baseline/base.dump' && s3 -o '$work/base.tar' '$baseline/base.tar' \
  && pg_restore --no-owner --no-privileges --single-transaction --exit-on-error -d restored_base '$work/base.dump' \
  && tar --extract --file='$work/base.tar' --directory='$work/restored-base'"
t_base_restore=$secs
log "mediana backup restore"
timed env PGDATABASE=restored_mediana "$mediana" backup restore "${store_args[@]}" --node bench --backup latest \
  --work-dir "$work/restore-work" --files-dir "$work/restored-mediana"
t_restore=$secs rss_restore=$rss_mib

restored=$(psql_value restored_mediana "SELECT count(*) FROM package WHERE state = 'active'")
[[ $restored == "$packages" ]] || { log "restored $restored datasets of $packages"; exit 1; }
diff -r "$files" "$work/restored-mediana" >/dev/null || { log "the restored files differ from the source"; exit 1; }
load_end=$(uptime | sed 's/.*load average: //')

ratio() { calc "round($1 / $2, 2)"; }
report=$(cat <<MD

### $(date -u +%Y-%m-%d) — N=$N datasets, ${FILES_MIB} MiB of files (\`N=$N FILES_MIB=$FILES_MIB make bench BENCH=backup\`), commit $commit

2 cores; load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end.
CKAN 2.12.0 with $packages datasets made through its API in $t_load s; PostgreSQL $(psql_value postgres "SHOW server_version"); SeaweedFS on loopback.
The restored database holds the $packages datasets and the restored files equal the source's (checked).

| measure | figure | goal |
|---|---|---|
| baseline backup: \`pg_dump --format=custom\` and \`tar\` to local files, then each uploaded with curl | $t_base_backup s, $base_bytes bytes | |
| \`mediana backup run\` to the object store (streamed, SHA-256, manifest) | $t_backup s, $stored bytes stored, peak RSS $rss_backup MiB | |
| backup, mediana / baseline | $(ratio "$t_backup" "$t_base_backup") | ≤ 1.2 |
| baseline restore: both files downloaded with curl, then \`pg_restore --single-transaction\` and \`tar -x\` | $t_base_restore s | |
| \`mediana backup restore\` from the object store (download, check every part, then restore) | $t_restore s, peak RSS $rss_restore MiB | |
| restore, mediana / baseline | $(ratio "$t_restore" "$t_base_restore") | ≤ 1.2 |
MD
)
echo "$report"
bench_append "$report"
