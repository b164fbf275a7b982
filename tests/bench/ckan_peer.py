#!/usr/bin/env python3
"""CKAN's own package_create rate, the baseline for mediana's write throughput.

    ckan_peer.py create URL ORG PREFIX N CONCURRENCY SOURCE JOB [--dcatapit] [--purge]
    ckan_peer.py purge URL ORG
    ckan_peer.py shape URL ORG_A ORG_B
(the API token in $CKAN_TOKEN)

create: makes ORG, then posts N package dicts (dcat_catalog.package: the dict mediana sends
the same generated dataset, for a CKAN with the DCAT-AP_IT schema with --dcatapit) with
CONCURRENCY threads, each a requests.Session with keep-alive, as the client of the research
notes (ckan-local.md) did. Prints one JSON object: seconds (first request to last answer),
ok, failed, p50/p95 latency, first error. With --purge, the datasets and ORG are purged
after the clock stops (as `purge` does), so that what harvests the CKAN next does not find
them.

purge: purges ORG and its datasets.

shape: "same" when a stored package of ORG_A has the fields, extras and resource fields of
one of ORG_B, else what differs: the check that the peer measures the writes mediana makes.
"""

import json
import os
import sys
import threading
import time
import urllib.request

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dcat_catalog  # noqa: E402


def create(args):
    flags = {a for a in args if a.startswith("--")}
    url, org, prefix, n, concurrency, source, job = [a for a in args if a not in flags]
    if flags - {"--dcatapit", "--purge"}:
        sys.exit(f"unknown options {sorted(flags - {'--dcatapit', '--purge'})}\n{__doc__}")
    n, concurrency = int(n), int(concurrency)
    token = os.environ["CKAN_TOKEN"]
    api = url.rstrip("/") + "/api/3/action/"
    headers = {"Authorization": token, "Content-Type": "application/json"}
    r = requests.post(api + "organization_create", headers=headers, data=json.dumps({"name": org}), timeout=60)
    if not r.json().get("success"):
        sys.exit(f"organization_create {org}: {r.text[:500]}")
    # Bodies are built before the clock starts: the peer measures CKAN, not the client.
    bodies = [
        json.dumps(dcat_catalog.package(
            i, "https://dati.example.it", f"{prefix}-{i:06d}", org, job, source, "--dcatapit" in flags))
        for i in range(n)
    ]
    lock = threading.Lock()
    next_index = [0]
    latencies, errors = [], []

    def worker():
        session = requests.Session()
        session.headers.update(headers)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= n:
                return
            t = time.perf_counter()
            try:
                resp = session.post(api + "package_create", data=bodies[i], timeout=120)
                ok = resp.status_code == 200 and resp.json().get("success")
                why = None if ok else f"HTTP {resp.status_code}: {resp.text[:300]}"
            except requests.RequestException as e:
                ok, why = False, str(e)
            elapsed = time.perf_counter() - t
            with lock:
                (latencies.append(elapsed) if ok else errors.append(why))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000) if latencies else None

    if "--purge" in flags:
        purge([url, org])
    print(json.dumps({
        "seconds": round(seconds, 3), "ok": len(latencies), "failed": len(errors),
        "p50_ms": pct(0.5), "p95_ms": pct(0.95), "first_error": errors[0] if errors else None,
    }))


def purge(args):
    url, org = args
    api = url.rstrip("/") + "/api/3/action/"
    session = requests.Session()
    session.headers.update({"Authorization": os.environ["CKAN_TOKEN"], "Content-Type": "application/json"})
    while True:
        found = session.post(api + "package_search", data=json.dumps(
            {"fq": f"organization:{org}", "rows": 1000, "include_private": True}), timeout=120).json()["result"]
        if not found["results"]:
            break
        for package in found["results"]:
            session.post(api + "dataset_purge", data=json.dumps({"id": package["id"]}), timeout=120).raise_for_status()
    session.post(api + "organization_purge", data=json.dumps({"id": org}), timeout=120).raise_for_status()


def shape(args):
    url, org_a, org_b = args

    def show(org):
        with urllib.request.urlopen(f"{url}/api/3/action/package_search?rows=1&fq=organization:{org}") as r:
            p = json.load(r)["result"]["results"][0]
        return (sorted(k for k, v in p.items() if v not in (None, "", [])), sorted(e["key"] for e in p["extras"]),
                sorted(k for k, v in p["resources"][0].items() if v not in (None, "")), len(p["resources"]),
                len(p["tags"]))

    a, b = show(org_a), show(org_b)
    print("same" if a == b else f"DIFFERENT: {org_a} {a} / {org_b} {b}")


if __name__ == "__main__":
    commands = {"create": create, "purge": purge, "shape": shape}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])
