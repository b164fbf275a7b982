#!/usr/bin/env python3
"""CKAN's own package_create rate, the baseline for mediana's write throughput.

    ckan_peer.py URL ORG PREFIX N CONCURRENCY SOURCE JOB   (API token in $CKAN_TOKEN)

Creates ORG, then posts N package dicts (dcat_catalog.package: the dict mediana sends a
stock CKAN for the same generated dataset) with CONCURRENCY threads, each a requests.Session
with keep-alive, as the client of the research notes (ckan-local.md) did. Prints one JSON
object: seconds (first request to last answer), ok, failed, p50/p95 latency, first error.
"""

import json
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dcat_catalog  # noqa: E402


def main():
    url, org, prefix, n, concurrency, source, job = sys.argv[1:8]
    n, concurrency = int(n), int(concurrency)
    token = os.environ["CKAN_TOKEN"]
    api = url.rstrip("/") + "/api/3/action/"
    headers = {"Authorization": token, "Content-Type": "application/json"}
    r = requests.post(api + "organization_create", headers=headers, data=json.dumps({"name": org}), timeout=60)
    if not r.json().get("success"):
        sys.exit(f"organization_create {org}: {r.text[:500]}")
    # Bodies are built before the clock starts: the peer measures CKAN, not the client.
    bodies = [
        json.dumps(dcat_catalog.package(i, "https://dati.example.it", f"{prefix}-{i:06d}", org, job, source))
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

    print(json.dumps({
        "seconds": round(seconds, 3), "ok": len(latencies), "failed": len(errors),
        "p50_ms": pct(0.5), "p95_ms": pct(0.95), "first_error": errors[0] if errors else None,
    }))


if __name__ == "__main__":
    main()
