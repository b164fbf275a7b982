#!/usr/bin/env python3
"""The examples adapted to `make demo`'s one-node cluster, as one YAML stream on stdout.

    one_node.py [--file JOB=FILE ...] --busybox IMAGE EXAMPLE.yaml ...

What changes, and why (everything else is the example as written):
- CatalogNodes: one replica, no placement (the local cluster), CPU requests of 100m for CKAN
  and 50m for the rest, so that three portals fit on two CPUs; no Ingress and no TLS (the
  demo's proxy serves them), and a host name under `.localhost`, which a browser resolves to
  this machine by itself: `dati.regione.marche.it` becomes `dati-regione-marche.localhost`.
- HarvestJobs: a source on the host name of a CatalogNode of the examples is read on that
  node's Service; a source named by `--file JOB=FILE` is read from the demo's municipal file
  server (tests/fixtures/chain/FILE); both are inside the cluster (`allowPrivateNetworks`).
  A job whose source is neither is left out, and said so on stderr.
- The municipal file server: a ConfigMap of the files, busybox's httpd and a Service,
  `siti-comunali` in the namespace `demo-siti-comunali`.
"""

import argparse
import pathlib
import sys
from urllib.parse import urlsplit

import yaml

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "chain"
FILES_NS = "demo-siti-comunali"


def local_host(hostname):
    return hostname.replace(".", "-") + ".localhost"


def small(resources, cpu):
    resources = dict(resources or {})
    resources["requests"] = {**resources.get("requests", {}), "cpu": cpu}
    return resources


def adapt_node(node):
    spec = node["spec"]
    spec["hostname"] = local_host(spec["hostname"])
    spec["replicas"] = 1
    spec.pop("placement", None)
    spec["ingress"] = {"enabled": False}
    spec["resources"] = small(spec.get("resources"), "100m")
    for service in ("database", "search", "redis"):
        if "external" not in spec.get(service, {}):
            managed = spec.setdefault(service, {}).setdefault("managed", {})
            managed["resources"] = small(managed.get("resources"), "50m")
    return node


def service_url(node, path):
    meta = node["metadata"]
    return f"http://{meta['name']}-ckan.{meta['namespace']}.svc.cluster.local{path}"


def adapt_job(job, nodes, files):
    name, source = job["metadata"]["name"], job["spec"]["source"]
    parts = urlsplit(source["url"])
    if name in files:
        source["url"] = f"http://siti-comunali.{FILES_NS}.svc.cluster.local/{files[name]}"
    elif parts.hostname in nodes:
        source["url"] = service_url(nodes[parts.hostname], parts.path.rstrip("/"))
    else:
        print(f"one_node.py: {name} left out: its source {source['url']} is not in the demo", file=sys.stderr)
        return None
    job["spec"]["allowPrivateNetworks"] = True
    return job


def file_server(busybox, files):
    data = {file: (FIXTURES / file).read_text() for file in sorted(set(files.values()))}
    labels = {"app.kubernetes.io/name": "siti-comunali"}
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": FILES_NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "opendata", "namespace": FILES_NS},
         "data": data},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "siti-comunali", "namespace": FILES_NS, "labels": labels},
         "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                      "seccompProfile": {"type": "RuntimeDefault"}},
                  "containers": [{"name": "httpd", "image": busybox,
                                  "command": ["httpd", "-f", "-p", "8080", "-h", "/srv/www"],
                                  "ports": [{"containerPort": 8080}],
                                  "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 2},
                                  "securityContext": {"allowPrivilegeEscalation": False,
                                                      "capabilities": {"drop": ["ALL"]},
                                                      "readOnlyRootFilesystem": True},
                                  "volumeMounts": [{"name": "opendata", "mountPath": "/srv/www"}]}],
                  "volumes": [{"name": "opendata", "configMap": {"name": "opendata"}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "siti-comunali", "namespace": FILES_NS},
         "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
    ]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", action="append", default=[], metavar="JOB=FILE")
    parser.add_argument("--busybox", required=True, metavar="IMAGE")
    parser.add_argument("examples", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    files = dict(f.split("=", 1) for f in args.file)
    documents = [d for path in args.examples for d in yaml.safe_load_all(path.read_text()) if d]
    nodes = {d["spec"]["hostname"]: d for d in documents if d["kind"] == "CatalogNode"}
    out = []
    for document in documents:
        if document["kind"] == "CatalogNode":
            out.append(adapt_node(document))
        elif document["kind"] == "HarvestJob":
            job = adapt_job(document, nodes, files)
            if job:
                out.append(job)
        elif document["kind"] == "Namespace":
            out.append(document)
    # Namespaces first (kubectl applies in order), once each.
    namespaces = {d["metadata"]["name"]: d for d in out if d["kind"] == "Namespace"}
    rest = [d for d in out if d["kind"] != "Namespace"]
    yaml.safe_dump_all([*namespaces.values(), *file_server(args.busybox, files), *rest], sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
