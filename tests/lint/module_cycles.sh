#!/usr/bin/env bash
# `make modules`: the cycles among the library's modules, from cargo-modules' graph of `use`
# edges (cargo install cargo-modules --version 0.27.0 --locked; 0.28 needs rustc 1.98).
# `cargo modules dependencies --acyclic` cannot be used alone: it also counts a type and its
# own trait methods (`Default::default`) as a cycle, so the module-level strongly connected
# groups are found here. Prints each group and its edges; exits 1 when there is one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../operator"
graph=$(mktemp); trap 'rm -f "$graph"' EXIT
cargo modules dependencies --lib --no-externs --no-sysroot --no-fns --no-traits --no-types >"$graph" 2>/dev/null
python3 - "$graph" <<'PY'
import re, sys
edges = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*"([^"]+)" -> "([^"]+)" \[label="uses"', line)
    if m:
        edges.setdefault(m.group(1), set()).add(m.group(2))
index, low, stack, on, groups = {}, {}, [], set(), []
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = len(index); stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        group = []
        while True:
            w = stack.pop(); on.discard(w); group.append(w)
            if w == v: break
        if len(group) > 1: groups.append(sorted(group))
for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
    if v not in index: visit(v)
for group in groups:
    print("cycle:", " <-> ".join(group))
    for a in group:
        for b in sorted(edges.get(a, ())):
            if b in group: print("   ", a, "->", b)
print(f"{len(groups)} module cycle(s)")
sys.exit(1 if groups else 0)
PY
