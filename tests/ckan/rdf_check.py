"""Parses an RDF document CKAN served through ckanext-dcat and prints, as JSON, what
tests/ckan/smoke.sh asserts on: how many dcat:Dataset nodes carry the given dct:identifier,
how many dcat:distribution links the first of them has, and its dct:title.

    python rdf_check.py FILE FORMAT IDENTIFIER      (FORMAT: turtle, xml, json-ld)

Run with the CKAN venv's python, which has rdflib (a dependency of ckanext-dcat). Always prints
one JSON object (with "error" when the file does not parse) and exits 0.
"""
import json
import sys

from rdflib import Graph, Literal
from rdflib.namespace import DCAT, DCTERMS, RDF


def main(path, fmt, identifier):
    graph = Graph()
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # report, do not crash: smoke.sh shows the message
        return {"error": f"{type(exc).__name__}: {exc}", "datasets_with_identifier": 0}
    datasets = [
        node
        for node in graph.subjects(RDF.type, DCAT.Dataset)
        if Literal(identifier) in set(graph.objects(node, DCTERMS.identifier))
    ]
    result = {
        "triples": len(graph),
        "datasets": len(set(graph.subjects(RDF.type, DCAT.Dataset))),
        "datasets_with_identifier": len(datasets),
    }
    if datasets:
        node = datasets[0]
        result["uri"] = str(node)
        result["distributions"] = len(set(graph.objects(node, DCAT.distribution)))
        result["title"] = str(graph.value(node, DCTERMS.title) or "")
    return result


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
