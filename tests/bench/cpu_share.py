#!/usr/bin/env python3
"""Where a benchmark's CPU went: the pods of the real node, by role, and the rest of the machine.

    cpu_share.py sample NODE OUT      # every 2 s until killed: the node's per-pod CPU counters
    cpu_share.py report OUT NODE_NAME # CPU-seconds by role between the first and last sample

`sample` reads the kubelet's /stats/summary (through the API server, with kubectl) and the
machine's /proc/stat, one JSON line per sample. The kubelet's counters are cumulative per pod
(its cgroup, init containers included); a pod that ends between two samples loses at most the
last 2 s. `report` prints one line per role: "role seconds", the roles of a CatalogNode NODE_NAME
(its CKAN web, background worker, PostgreSQL, Solr, Redis), the harvester pods (HarvestJob
run-now Jobs' pods), the operator, the other pods, and the machine outside the pods
(control plane, kubelet, containerd, the benchmark itself), then "machine seconds" and "wall".
"""
import json
import subprocess
import sys
import time


def machine_busy_seconds():
    """CPU time spent not idle by the whole machine, in seconds (all cores)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / 100  # USER_HZ


def sample(node, out):
    with open(out, "a") as sink:
        while True:
            raw = subprocess.run(
                ["kubectl", "get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary"],
                capture_output=True, check=False).stdout
            try:
                summary = json.loads(raw)
            except ValueError:
                time.sleep(2)
                continue
            pods = {}
            for pod in summary.get("pods", []):
                ref = pod["podRef"]
                nanos = (pod.get("cpu") or {}).get("usageCoreNanoSeconds")
                if nanos is not None:
                    pods[f"{ref['namespace']}/{ref['name']}/{ref['uid']}"] = nanos / 1e9
            sink.write(json.dumps({"t": time.time(), "machine": machine_busy_seconds(), "pods": pods}) + "\n")
            sink.flush()
            time.sleep(2)


def role(key, node_name):
    namespace, name, _uid = key.split("/")
    for suffix, label in (("-ckan-worker-", "CKAN background worker"), ("-ckan-", "CKAN web"),
                          ("-postgres-", "PostgreSQL"), ("-solr-", "Solr"), ("-redis-", "Redis")):
        if name.startswith(node_name + suffix):
            return f"{node_name}: {label}"
    if "-now-" in name:  # the Job of a run-now: `<harvestjob>-now-<hash>`
        return "harvester pods"
    if namespace == "mediana-system":
        return "operator"
    return "other pods"


def report(path, node_name):
    samples = [json.loads(line) for line in open(path) if line.strip()]
    if len(samples) < 2:
        sys.exit(f"{path}: fewer than two samples")
    first, last = samples[0], samples[-1]
    # Each pod's growth over the window: a pod already running at the first sample counts
    # from there, one started later from zero; its last value is its largest.
    start = first["pods"]
    peak = {}
    for s in samples:
        for key, seconds in s["pods"].items():
            peak[key] = max(peak.get(key, 0.0), seconds)
    by_role = {}
    for key, seconds in peak.items():
        used = seconds - start.get(key, 0.0)
        by_role[role(key, node_name)] = by_role.get(role(key, node_name), 0.0) + used
    machine = last["machine"] - first["machine"]
    by_role["outside the pods"] = max(0.0, machine - sum(by_role.values()))
    for name, seconds in sorted(by_role.items(), key=lambda kv: -kv[1]):
        print(f"{name}\t{seconds:.0f}")
    print(f"machine\t{machine:.0f}")
    print(f"wall\t{last['t'] - first['t']:.0f}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"sample": sample, "report": report}[command](*args)
