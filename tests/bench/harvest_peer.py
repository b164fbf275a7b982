#!/usr/bin/env python3
"""The CKAN side of part 4 of tests/bench/harvest.sh: mediana beside ckanext-harvest.

    harvest_peer.py source URL ORG CATALOG_URL RDF_FORMAT   make ORG and a dcat_rdf harvest
                                                            source in it; print the source id
    harvest_peer.py job URL SOURCE_ID     the source's last job: status and report, one line
    harvest_peer.py wait URL ORG N TIMEOUT [PID]
                                          poll ORG's dataset count every 0.5 s until it is N;
                                          fail after TIMEOUT s, or once PID has exited with
                                          the count still short
    harvest_peer.py wait-job URL SOURCE_ID N TIMEOUT
                                          poll the source's last job every 1 s until N of
                                          its objects have a report status (added, updated,
                                          not modified, errored, deleted); print its stats
    harvest_peer.py modified URL ORG FILE  write {dataset id: metadata_modified} of ORG
    harvest_peer.py writes BEFORE AFTER   compare two such files: "created updated unchanged"
(the API token in $CKAN_TOKEN; stdlib only)

Searches are anonymous, so public datasets only (both sides write public ones). A dataset
here is a package of type dataset: a harvest source is a package of type harvest
in the same organization, and is not counted.
"""

import json
import os
import sys
import time
import urllib.parse
import urllib.request


def call(url, action, body=None, timeout=120, token=True):
    """One CKAN action: POST with a JSON body, or GET with none; the result. Without the
    token for searches: CKAN records each use of a token (an UPDATE of api_token), which
    would count among the writes the benchmark measures."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = os.environ["CKAN_TOKEN"]
    req = urllib.request.Request(
        url.rstrip("/") + "/api/3/action/" + action,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        reply = json.load(r)
    if not reply.get("success"):
        sys.exit(f"{action}: {json.dumps(reply)[:500]}")
    return reply["result"]


def search(url, org, **params):
    # Public datasets only (anonymous): both sides create public ones.
    q = {"fq": f'organization:"{org}" +dataset_type:dataset', **params}
    return call(url, "package_search?" + urllib.parse.urlencode(q), token=False)


def source(url, org, catalog_url, rdf_format):
    call(url, "organization_create", {"name": org})
    result = call(url, "harvest_source_create", {
        "name": f"{org}-source",
        "title": f"{org} source",
        "url": catalog_url,
        "source_type": "dcat_rdf",
        "owner_org": org,
        "frequency": "MANUAL",
        "config": json.dumps({"rdf_format": rdf_format}),
    })
    print(result["id"])


def last_job(url, source_id):
    """The source's newest job (harvest_job_list orders by creation, newest first)."""
    jobs = call(url, "harvest_job_list?" + urllib.parse.urlencode({"source_id": source_id}))
    return jobs[0] if jobs else None


def stats(job):
    """The job's objects counted by report status, without those still in progress (null)."""
    return {k: v for k, v in job.get("stats", {}).items() if k not in (None, "null")}


def job(url, source_id):
    last = last_job(url, source_id)
    print(f"{last['status']} {json.dumps(stats(last), sort_keys=True)}" if last else "none")


def wait_job(url, source_id, n, timeout):
    n, deadline = int(n), time.monotonic() + float(timeout)
    while True:
        last = last_job(url, source_id)
        done = sum(stats(last).values()) if last else 0
        if done >= n:
            print(json.dumps(stats(last), sort_keys=True))
            return
        if time.monotonic() > deadline:
            sys.exit(f"timeout: {done} of {n} objects reported after {timeout} s")
        time.sleep(1)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def wait(url, org, n, timeout, pid=None):
    n, deadline = int(n), time.monotonic() + float(timeout)
    pid = int(pid) if pid else None
    while True:
        # Whether the watched process was gone before the count was read: then a short
        # count is final.
        gone = pid is not None and not alive(pid)
        count = search(url, org, rows=0)["count"]
        if count >= n:
            print(count)
            return
        if gone:
            sys.exit(f"process {pid} exited with {count} of {n} datasets in {org}")
        if time.monotonic() > deadline:
            sys.exit(f"timeout: {count} of {n} datasets in {org} after {timeout} s")
        time.sleep(0.5)


def modified(url, org, path):
    out, start = {}, 0
    while True:
        page = search(url, org, rows=1000, start=start, fl="id,metadata_modified", sort="id asc")
        for d in page["results"]:
            out[d["id"]] = d["metadata_modified"]
        start += 1000
        if start >= page["count"]:
            break
    with open(path, "w") as f:
        json.dump(out, f)


def writes(before, after):
    with open(before) as f:
        b = json.load(f)
    with open(after) as f:
        a = json.load(f)
    created = sum(1 for k in a if k not in b)
    updated = sum(1 for k in a if k in b and a[k] != b[k])
    print(created, updated, len(a) - created - updated)


COMMANDS = {"source": (source, 4), "job": (job, 2), "wait": (wait, 4), "wait-job": (wait_job, 4), "modified": (modified, 3), "writes": (writes, 2)}

if __name__ == "__main__":
    cmd = COMMANDS.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if not cmd or len(sys.argv) - 2 not in (cmd[1], cmd[1] + (sys.argv[1] == "wait")):
        sys.exit(__doc__)
    cmd[0](*sys.argv[2:])
