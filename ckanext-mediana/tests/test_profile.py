"""The it_dcat_ap profile without a portal: a dataset to DCAT-AP_IT and back."""

import json

import pytest
from ckan.common import config
from ckanext.dcat.processors import RDFParser, RDFSerializer
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from ckanext.mediana import vocabularies

from conftest import full_dataset

DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")


@pytest.fixture(autouse=True)
def site(monkeypatch):
    monkeypatch.setitem(config, "ckanext.dcat.base_uri", "https://dati.regione.marche.it")
    monkeypatch.setitem(config, "ckanext.mediana.publisher_name", "Regione Marche")
    monkeypatch.setitem(config, "ckanext.mediana.publisher_identifier", "r_marche")


def stored(name="bilancio-2024"):
    """The dataset as package_show returns it: JSON fields as text, ids on every resource."""
    dataset = full_dataset(name, "comune-di-macerata")
    dataset["id"] = "6f1c7a52-3c1e-4e55-9d0b-3f3c6f0b2a11"
    for field in ("creator", "temporal_coverage", "conforms_to"):
        dataset[field] = json.dumps(dataset[field])
    dataset["language"] = "{ITA,ENG}"
    for i, resource in enumerate(dataset["resources"]):
        resource.update(id=f"r{i}", package_id=dataset["id"])
    return dataset


def graph_of(dataset) -> tuple[Graph, URIRef]:
    serializer = RDFSerializer(profiles=["it_dcat_ap"])
    serializer.graph_from_dataset(dataset)
    subject = next(serializer.g.subjects(RDF.type, DCATAPIT.Dataset))
    return serializer.g, subject


def agent(g, subject, predicate):
    node = g.value(subject, predicate)
    assert node is not None, f"no {predicate}"
    assert (node, RDF.type, DCATAPIT.Agent) in g
    return str(g.value(node, FOAF.name)), str(g.value(node, DCTERMS.identifier))


def test_a_dataset_is_written_as_dcat_ap_it():
    g, ds = graph_of(stored())
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert str(g.value(ds, DCTERMS.identifier)) == "c_e783:bilancio-2024"
    assert set(g.objects(ds, DCAT.theme)) == {URIRef(vocabularies.THEME_BASE + c) for c in ("GOVE", "ECON")}
    assert URIRef("http://eurovoc.europa.eu/100223") in set(g.objects(ds, DCTERMS.subject))
    assert g.value(ds, DCTERMS.accrualPeriodicity) == URIRef(vocabularies.FREQUENCY_BASE + "ANNUAL")
    assert str(g.value(ds, DCTERMS.modified)) == "2024-05-31"
    assert agent(g, ds, DCTERMS.rightsHolder) == ("Comune di Macerata", "c_e783")
    assert agent(g, ds, DCTERMS.publisher) == ("Regione Marche", "r_marche")
    assert agent(g, ds, DCTERMS.creator) == ("Ufficio ragioneria", "c_e783")
    assert set(g.objects(ds, DCTERMS.language)) == {URIRef(vocabularies.LANGUAGE_BASE + c) for c in ("ITA", "ENG")}
    period = g.value(ds, DCTERMS.temporal)
    assert str(g.value(period, DCATAPIT.startDate)) == "2024-01-01"
    assert (g.value(ds, DCTERMS.conformsTo), RDF.type, DCATAPIT.Standard) in g
    # One literal each, not the EU profile's copy beside this profile's URI.
    assert len(list(g.objects(ds, DCTERMS.accrualPeriodicity))) == 1
    assert len(list(g.objects(ds, DCTERMS.publisher))) == 1

    distributions = {str(g.value(d, DCTERMS.title)): d for d in g.objects(ds, DCAT.distribution)}
    csv, json_ = distributions["Bilancio (CSV)"], distributions["Bilancio (JSON)"]
    for d in (csv, json_):
        assert (d, RDF.type, DCATAPIT.Distribution) in g
        assert (g.value(d, DCTERMS.license), RDF.type, DCATAPIT.LicenseDocument) in g
    assert g.value(csv, DCTERMS["format"]) == URIRef(vocabularies.FILE_TYPE_BASE + "CSV")
    # The resource's own licence; the dataset's (cc-by → AgID's CC BY 4.0) otherwise.
    assert g.value(json_, DCTERMS.license) == URIRef(vocabularies.LICENCE_BASE + "A31_CCBYSA40")
    assert g.value(csv, DCTERMS.license) == URIRef(vocabularies.LICENCE_BASE + "A21_CCBY40")


def test_the_holder_publishes_when_no_publisher_is_named():
    dataset = stored()
    del dataset["publisher_name"], dataset["publisher_identifier"]
    g, ds = graph_of(dataset)
    assert agent(g, ds, DCTERMS.publisher) == ("Comune di Macerata", "c_e783")


def test_what_is_written_reads_back_into_the_same_fields():
    original = stored()
    serializer = RDFSerializer(profiles=["it_dcat_ap"])
    turtle = serializer.serialize_dataset(original, _format="turtle")
    parser = RDFParser(profiles=["it_dcat_ap"])
    parser.parse(turtle, _format="turtle")
    (parsed,) = list(parser.datasets())
    for field in ("identifier", "frequency", "holder_name", "holder_identifier", "publisher_name",
                  "publisher_identifier", "modified", "issued", "maintainer"):  # fmt: skip
        assert parsed[field] == original[field], field
    assert set(parsed["language"].strip("{}").split(",")) == {"ITA", "ENG"}
    themes = json.loads(parsed["themes_aggregate"])
    assert {t["theme"] for t in themes} == {"GOVE", "ECON"}
    assert [s for t in themes for s in t["subthemes"]] == ["http://eurovoc.europa.eu/100223"]
    assert json.loads(parsed["temporal_coverage"]) == json.loads(original["temporal_coverage"])
    resources = {r["name"]: r for r in parsed["resources"]}
    assert resources["Bilancio (CSV)"]["format"] == "CSV"
    assert resources["Bilancio (JSON)"]["license_type"] == vocabularies.LICENCE_BASE + "A31_CCBYSA40"
    assert not {e["key"] for e in parsed.get("extras", [])} & {"identifier", "theme", "frequency"}
