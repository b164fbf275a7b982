#!/usr/bin/env bash
# Runs the unit tests in a copy of the repository that has nothing beside it (the tracked
# files and the untracked ones git does not ignore), to prove a clone needs no file outside.
#
# Usage: tests/alone.sh [cargo test arguments...]
#   e.g. tests/alone.sh --test cli --test publiccode_cli   (adds those integration tests)
# Builds into $CARGO_TARGET_DIR (default: the repository's target/), so the compiled
# dependencies are reused; mediana itself is rebuilt, as the copy is at another path.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
mkdir -p "$CARGO_TARGET_DIR"
target=$(cd "$CARGO_TARGET_DIR" && pwd)

tmp=
trap 'if [[ -n $tmp ]]; then rm -rf "$tmp"; fi' EXIT
tmp=$(mktemp -d)

# Files deleted in the work tree are skipped; a target dir inside the repository that git
# does not ignore is not copied.
mkdir "$tmp/alone"
(cd "$repo" && git ls-files -z -co --exclude-standard) |
  while IFS= read -r -d '' f; do
    if [[ -e $repo/$f && $repo/$f != "$target"/* ]]; then printf '%s\0' "$f"; fi
  done |
  tar -C "$repo" --null -T - -cf - | tar -C "$tmp/alone" -xf -

cd "$tmp/alone"
cargo test --locked --lib --bins "$@"
