"""The `it_dcat_ap` profile of ckanext-dcat: DCAT-AP_IT 2.0 from and to the fields of
schemas/dcatapit.yaml.

It builds on ckanext-dcat's DCAT-AP 2 profile, which writes what DCAT-AP_IT shares with the EU
profile (titles, descriptions, keywords, dates, landing page, contact point, distributions'
URLs), and writes itself what DCAT-AP_IT says differently: the dcatapit classes, themes and
frequency as EU vocabulary URIs, the rights holder and publisher as dcatapit:Agent with their
IPA code, languages, temporal and spatial coverage, standards, file types and AgID licences.
Fields it writes are withheld from the DCAT-AP 2 profile, which would write them again as
literals. Used alone: `ckanext.dcat.rdf.profiles = it_dcat_ap`.
"""

from __future__ import annotations

import json

from ckan.plugins import toolkit
from ckanext.dcat.profiles.base import ADMS, DCAT, DCT, FOAF, LOCN, SKOS, VCARD, CleanedURIRef
from ckanext.dcat.profiles.euro_dcat_ap_2 import EuropeanDCATAP2Profile
from ckanext.dcat.utils import resource_uri
from rdflib import RDF, BNode, Literal, Namespace, URIRef
from rdflib.namespace import XSD

from . import vocabularies as vocab

DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")

# Fields this profile writes itself, withheld from the DCAT-AP 2 profile.
ITALIAN_FIELDS = {
    "themes_aggregate", "frequency", "language", "holder_name", "holder_identifier",
    "publisher_name", "publisher_identifier", "creator", "temporal_coverage",
    "geographical_name", "geographical_geonames_url", "conforms_to", "alternate_identifier",
    "modified", "issued",
}  # fmt: skip
ITALIAN_RESOURCE_FIELDS = {"format", "distribution_format", "license_type", "license"}
# What the EU profile parses into extras that the schema has as fields of its own; its
# `theme` extra (a list of URIs) this profile parses again into themes_aggregate.
EXTRAS_AS_FIELDS = {"identifier": "identifier", "contact_name": "maintainer", "contact_email": "maintainer_email"}
PARSED_AGAIN = {"theme"}


def _json(value) -> list:
    """A JSON text field as a list (empty when missing or not JSON)."""
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value) if value else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else [parsed]


def _text(value) -> str | None:
    """A name that may be multilingual (`{"it": "…"}`): its Italian text, else any."""
    if isinstance(value, dict):
        return value.get("it") or next((v for v in value.values() if v), None)
    return value or None


def catalog_publisher() -> tuple[str | None, str | None]:
    """The administration publishing the catalogue: name and IPA code from the site's config."""
    return (
        toolkit.config.get("ckanext.mediana.publisher_name"),
        toolkit.config.get("ckanext.mediana.publisher_identifier"),
    )


class ItalianDCATAPProfile(EuropeanDCATAP2Profile):
    """DCAT-AP_IT 2.0 (AgID), serialising and parsing the schema's fields."""

    # --- CKAN → RDF ------------------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict, dataset_ref):
        shared = {k: v for k, v in dataset_dict.items() if k not in ITALIAN_FIELDS}
        shared["resources"] = [
            {k: v for k, v in r.items() if k not in ITALIAN_RESOURCE_FIELDS} for r in dataset_dict.get("resources", [])
        ]
        # The publisher this profile writes, not the organization the EU profile falls back to.
        shared.pop("organization", None)
        super().graph_from_dataset(shared, dataset_ref)

        g = self.g
        g.bind("dcatapit", DCATAPIT)
        g.add((dataset_ref, RDF.type, DCATAPIT.Dataset))
        for date_field, predicate, fallback in (("modified", DCT.modified, "metadata_modified"), ("issued", DCT.issued, None)):
            value = dataset_dict.get(date_field) or (dataset_dict.get(fallback) if fallback else None)
            if value:
                g.add((dataset_ref, predicate, Literal(str(value)[:10], datatype=XSD.date)))
        for entry in _json(dataset_dict.get("themes_aggregate")):
            theme = vocab.themes().get(vocab.code(entry.get("theme"), vocab.THEME_BASE))
            if theme:
                g.add((dataset_ref, DCAT.theme, URIRef(theme.uri)))
                g.add((URIRef(theme.uri), RDF.type, SKOS.Concept))
            for subtheme in entry.get("subthemes") or []:
                g.add((dataset_ref, DCT.subject, URIRef(subtheme)))
        frequency = vocab.frequencies().get(vocab.code(dataset_dict.get("frequency"), vocab.FREQUENCY_BASE))
        if frequency:
            g.add((dataset_ref, DCT.accrualPeriodicity, URIRef(frequency.uri)))
        holder = (dataset_dict.get("holder_name"), dataset_dict.get("holder_identifier"))
        if any(holder):
            self._add_agent(dataset_ref, DCT.rightsHolder, *holder)
        publisher = (dataset_dict.get("publisher_name"), dataset_dict.get("publisher_identifier"))
        if any(publisher) or any(holder):
            # DCAT-AP_IT recommends a publisher; the holder publishes when none is named.
            self._add_agent(dataset_ref, DCT.publisher, *(publisher if any(publisher) else holder))
        for creator in _json(dataset_dict.get("creator")):
            name, identifier = _text(creator.get("creator_name")), creator.get("creator_identifier")
            if name or identifier:
                self._add_agent(dataset_ref, DCT.creator, name, identifier)
        for language in str(dataset_dict.get("language") or "").strip("{}").split(","):
            code = vocab.language(language)
            if code:
                g.add((dataset_ref, DCT.language, URIRef(vocab.LANGUAGE_BASE + code)))
        for period in _json(dataset_dict.get("temporal_coverage")):
            node = BNode()
            g.add((node, RDF.type, DCT.PeriodOfTime))
            for key, predicate in (("temporal_start", DCATAPIT.startDate), ("temporal_end", DCATAPIT.endDate)):
                if period.get(key):
                    g.add((node, predicate, Literal(str(period[key])[:10], datatype=XSD.date)))
            g.add((dataset_ref, DCT.temporal, node))
        self._add_location(dataset_ref, dataset_dict.get("geographical_name"), dataset_dict.get("geographical_geonames_url"))
        for standard in _json(dataset_dict.get("conforms_to")):
            self._add_standard(dataset_ref, standard)
        for other in _json(dataset_dict.get("alternate_identifier")):
            if other.get("identifier"):
                node = BNode()
                g.add((node, RDF.type, ADMS.Identifier))
                g.add((node, SKOS.notation, Literal(other["identifier"])))
                g.add((dataset_ref, ADMS.identifier, node))
        for contact in g.objects(dataset_ref, DCAT.contactPoint):
            g.add((contact, RDF.type, DCATAPIT.Organization))
        for resource in dataset_dict.get("resources", []):
            self._add_distribution_fields(CleanedURIRef(resource_uri(resource)), resource, dataset_dict)

    def _add_agent(self, subject, predicate, name, identifier):
        agent = BNode()
        self.g.add((agent, RDF.type, DCATAPIT.Agent))
        self.g.add((agent, RDF.type, FOAF.Agent))
        if name:
            self.g.add((agent, FOAF.name, Literal(name)))
        if identifier:
            self.g.add((agent, DCT.identifier, Literal(identifier)))
        self.g.add((subject, predicate, agent))

    def _add_location(self, dataset_ref, name, identifier):
        if not (name or identifier):
            return
        location = BNode()
        self.g.add((location, RDF.type, DCT.Location))
        if name:
            self.g.add((location, LOCN.geographicalName, Literal(name)))
        if identifier:
            self.g.add((location, DCATAPIT.geographicalIdentifier, Literal(identifier)))
        self.g.add((dataset_ref, DCT.spatial, location))

    def _add_standard(self, dataset_ref, standard):
        uri, identifier = standard.get("uri"), standard.get("identifier")
        if not (uri or identifier):
            return
        node = URIRef(uri) if uri and uri.startswith("http") else BNode()
        self.g.add((node, RDF.type, DCATAPIT.Standard))
        self.g.add((node, RDF.type, DCT.Standard))
        if identifier:
            self.g.add((node, DCT.identifier, Literal(identifier)))
        title = _text(standard.get("title"))
        if title:
            self.g.add((node, DCT.title, Literal(title)))
        self.g.add((dataset_ref, DCT.conformsTo, node))

    def _add_distribution_fields(self, distribution, resource, dataset_dict):
        g = self.g
        g.add((distribution, RDF.type, DCATAPIT.Distribution))
        file_type = vocab.file_type(resource.get("distribution_format") or resource.get("format"))
        if file_type:
            g.add((distribution, DCT["format"], URIRef(file_type.uri)))
            g.add((URIRef(file_type.uri), RDF.type, DCT.MediaTypeOrExtent))
        # The resource's licence, else the dataset's, else AgID's "unknown licence".
        licence = (
            vocab.licence(resource.get("license_type"))
            or vocab.licence(dataset_dict.get("license_id"))
            or vocab.licences()[vocab.UNKNOWN_LICENCE]
        )
        document = URIRef(licence.uri)
        g.add((distribution, DCT.license, document))
        g.add((document, RDF.type, DCATAPIT.LicenseDocument))
        g.add((document, RDF.type, DCT.LicenseDocument))
        g.add((document, FOAF.name, Literal(licence.label("it"), lang="it")))

    def graph_from_catalog(self, catalog_dict, catalog_ref):
        super().graph_from_catalog(catalog_dict, catalog_ref)
        g = self.g
        g.bind("dcatapit", DCATAPIT)
        g.add((catalog_ref, RDF.type, DCATAPIT.Catalog))
        g.add((catalog_ref, DCAT.themeTaxonomy, URIRef(vocab.THEME_SCHEME)))
        for language in list(g.objects(catalog_ref, DCT.language)):
            code = vocab.language(str(language))
            if code and not str(language).startswith(vocab.LANGUAGE_BASE):
                g.remove((catalog_ref, DCT.language, language))
                g.add((catalog_ref, DCT.language, URIRef(vocab.LANGUAGE_BASE + code)))
        name, identifier = catalog_publisher()
        if name or identifier:
            g.remove((catalog_ref, DCT.publisher, None))
            self._add_agent(catalog_ref, DCT.publisher, name, identifier)

    # --- RDF → CKAN ------------------------------------------------------------------------

    def parse_dataset(self, dataset_dict, dataset_ref):
        dataset_dict = super().parse_dataset(dataset_dict, dataset_ref)
        fields = self._italian_fields(dataset_ref)
        # The EU profile leaves in extras what the schema has as fields of its own.
        extras = {e["key"]: e["value"] for e in dataset_dict.get("extras", [])}
        for extra, field in EXTRAS_AS_FIELDS.items():
            if extras.get(extra):
                fields.setdefault(field, extras[extra])
        dataset_dict["extras"] = [
            e
            for e in dataset_dict.get("extras", [])
            if e["key"] not in fields and e["key"] not in EXTRAS_AS_FIELDS and e["key"] not in PARSED_AGAIN
        ]
        dataset_dict.update(fields)
        for distribution, resource in zip(self._distributions(dataset_ref), dataset_dict.get("resources", [])):
            file_type = vocab.file_type(self._object_value(distribution, DCT["format"]))
            if file_type:
                resource["format"] = resource["distribution_format"] = file_type.code
            licence = vocab.licence(self._object_value(distribution, DCT.license))
            if licence:
                resource["license_type"] = licence.uri
        return dataset_dict

    def _italian_fields(self, dataset_ref) -> dict:
        g, fields = self.g, {}
        themes = [vocab.code(str(t), vocab.THEME_BASE) for t in g.objects(dataset_ref, DCAT.theme)]
        subjects = [str(s) for s in g.objects(dataset_ref, DCT.subject) if isinstance(s, URIRef)]
        # RDF does not say which theme a sub-theme (dct:subject) belongs to: to the first.
        themes = sorted(t for t in themes if t in vocab.themes())
        if themes:
            aggregate = [{"theme": t, "subthemes": subjects if i == 0 else []} for i, t in enumerate(themes)]
            fields["themes_aggregate"] = json.dumps(aggregate)
        frequency = vocab.code(self._object_value(dataset_ref, DCT.accrualPeriodicity), vocab.FREQUENCY_BASE)
        if frequency in vocab.frequencies():
            fields["frequency"] = frequency
        for prefix, predicate in (("holder", DCT.rightsHolder), ("publisher", DCT.publisher)):
            agent = next(iter(g.objects(dataset_ref, predicate)), None)
            if agent is not None:
                fields[f"{prefix}_name"] = self._object_value(agent, FOAF.name)
                fields[f"{prefix}_identifier"] = self._object_value(agent, DCT.identifier)
        creators = [
            {"creator_name": {"it": self._object_value(a, FOAF.name)}, "creator_identifier": self._object_value(a, DCT.identifier)}
            for a in g.objects(dataset_ref, DCT.creator)
        ]
        if creators:
            fields["creator"] = json.dumps(creators, ensure_ascii=False)
        languages = sorted(filter(None, (vocab.language(str(lang)) for lang in g.objects(dataset_ref, DCT.language))))
        if languages:
            fields["language"] = "{" + ",".join(languages) + "}"
        periods = []
        for period in g.objects(dataset_ref, DCT.temporal):
            start, end = (
                self._object_value(period, DCATAPIT.startDate) or self._object_value(period, DCAT.startDate),
                self._object_value(period, DCATAPIT.endDate) or self._object_value(period, DCAT.endDate),
            )
            if start:
                periods.append({"temporal_start": start[:10], "temporal_end": end[:10] if end else None})
        if periods:
            fields["temporal_coverage"] = json.dumps(periods)
        for date_field, predicate in (("modified", DCT.modified), ("issued", DCT.issued)):
            value = self._object_value(dataset_ref, predicate)
            if value:
                fields[date_field] = value[:10]
        return {k: v for k, v in fields.items() if v}
