"""The extension in a real CKAN 2.12 (PostgreSQL, Solr with mediana's core), over its API and
its DCAT endpoints, as a portal's users and harvesters meet it."""

import json
import os
import pathlib
import subprocess
import uuid

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from ckanext.mediana import vocabularies

from conftest import full_dataset

DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")


def name() -> str:
    return f"bilancio-{uuid.uuid4().hex[:10]}"


def test_the_portal_runs_the_extension(portal):
    status = portal.ok("status_show")
    assert status["ckan_version"] == "2.12.0"
    assert {"dcat", "scheming_datasets", "mediana_dcatapit"} <= set(status["extensions"])
    schema = portal.ok("scheming_dataset_schema_show", {"type": "dataset"})
    assert {"themes_aggregate", "holder_identifier", "frequency"} <= {f["field_name"] for f in schema["dataset_fields"]}


def test_a_dataset_keeps_its_dcat_ap_it_fields_normalised(portal, organization):
    dataset = portal.ok("package_create", full_dataset(name(), organization))
    shown = portal.ok("package_show", {"id": dataset["id"]})
    assert shown["holder_identifier"] == "c_e783"
    assert shown["frequency"] == "ANNUAL"
    assert shown["language"] == "{ITA,ENG}"
    assert [t["theme"] for t in json.loads(shown["themes_aggregate"])] == ["GOVE", "ECON"]
    assert json.loads(shown["temporal_coverage"]) == [{"temporal_start": "2024-01-01", "temporal_end": "2024-12-31"}]
    licences = {r["name"]: r.get("license_type") for r in shown["resources"]}
    assert licences["Bilancio (JSON)"] == vocabularies.LICENCE_BASE + "A31_CCBYSA40"
    # DCAT-AP_IT fields are fields, not extras.
    assert not {e["key"] for e in shown.get("extras", [])} & {"holder_identifier", "themes_aggregate"}


def test_search_finds_datasets_by_theme_and_holder(portal, organization):
    dataset = portal.ok("package_create", full_dataset(name(), organization))
    by_theme = portal.ok("package_search", {"fq": f"dcat_theme:ECON AND organization:{organization}", "facet.field": ["dcat_theme"]})
    assert [d["name"] for d in by_theme["results"]] == [dataset["name"]]
    assert by_theme["facets"]["dcat_theme"] == {"GOVE": 1, "ECON": 1}
    by_holder = portal.ok("package_search", {"fq": f'holder_identifier:"c_e783" AND organization:{organization}'})
    assert by_holder["count"] == 1


def test_a_dataset_without_a_mandatory_field_is_refused_by_name_and_not_created(portal, organization):
    dataset = full_dataset(name(), organization)
    del dataset["holder_identifier"]
    dataset["themes_aggregate"] = "GOVE,NOPE"
    reply = portal.action("package_create", dataset)
    assert reply.status_code == 409, reply.text
    error = reply.json()["error"]
    assert error["__type"] == "Validation Error"
    # CKAN's own message, in the portal's default language ("Missing value", "Valore mancante").
    assert len(error["holder_identifier"]) == 1 and error["holder_identifier"][0], error
    assert "theme 'NOPE' is not an EU data theme" in error["themes_aggregate"][0]
    assert portal.action("package_show", {"id": dataset["name"]}).status_code == 404


def test_an_anonymous_request_cannot_create_a_dataset(portal, organization):
    dataset = full_dataset(name(), organization)
    reply = portal.action("package_create", dataset, anonymous=True)
    assert reply.status_code == 403, reply.text
    assert portal.action("package_show", {"id": dataset["name"]}).status_code == 404


def test_a_dataset_page_is_dcat_ap_it(portal, organization):
    dataset = portal.ok("package_create", full_dataset(name(), organization))
    reply = portal.get(f"/dataset/{dataset['name']}.ttl")
    assert reply.status_code == 200, reply.text[:500]
    g = Graph().parse(data=reply.text, format="turtle")
    (subject,) = g.subjects(RDF.type, DCATAPIT.Dataset)
    holder = g.value(subject, DCTERMS.rightsHolder)
    assert (holder, RDF.type, DCATAPIT.Agent) in g and str(g.value(holder, DCTERMS.identifier)) == "c_e783"
    assert g.value(subject, DCTERMS.accrualPeriodicity) == URIRef(vocabularies.FREQUENCY_BASE + "ANNUAL")
    distributions = list(g.objects(subject, DCAT.distribution))
    assert len(distributions) == 2
    for distribution in distributions:
        assert (distribution, RDF.type, DCATAPIT.Distribution) in g
        assert str(g.value(distribution, DCTERMS["format"])).startswith(vocabularies.FILE_TYPE_BASE)


def test_the_catalogue_is_dcat_ap_it_that_mediana_validates(portal, organization, tmp_path):
    portal.ok("package_create", full_dataset(name(), organization))
    for suffix, rdf_format in (("ttl", "turtle"), ("rdf", "xml")):
        reply = portal.get(f"/catalog.{suffix}?q=organization:{organization}")
        assert reply.status_code == 200, reply.text[:500]
        g = Graph().parse(data=reply.text, format=rdf_format)
        (catalog,) = g.subjects(RDF.type, DCATAPIT.Catalog)
        publisher = g.value(catalog, DCTERMS.publisher)
        assert (publisher, RDF.type, DCATAPIT.Agent) in g
        assert str(g.value(publisher, DCTERMS.identifier)).startswith(portal.publisher)
        assert len(list(g.objects(catalog, DCAT.dataset))) == 1
        (tmp_path / f"catalog.{suffix}").write_text(reply.text)
    # mediana's own validator (the harvester's rules) finds no error in what the portal serves.
    binary = pathlib.Path(os.environ.get("MEDIANA_BIN", pathlib.Path(__file__).parents[2] / "target/debug/mediana"))
    checked = subprocess.run(
        [binary, "validate", "dcat", tmp_path / "catalog.ttl"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 valid, 0 invalid, 0 warnings" in checked.stdout, checked.stdout
