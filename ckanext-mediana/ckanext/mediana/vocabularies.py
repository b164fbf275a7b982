"""The controlled vocabularies DCAT-AP_IT names, read once from the files beside this module.

The codes of the EU Publications Office tables (data theme, frequency, file type, language)
are the code lists eu-*.txt, each naming its source and version; the labels of the first three
come from the tables as ckanext-dcatapit trims them (*-filtered.rdf, older versions: a code
they lack is labelled by its code); languages are codes only. AgID's licence vocabulary is
licences.ttl (sources: operator/data/SOURCES.md). The operator's harvester embeds the same
code lists (operator/src/harvest/vocab.rs), so the portal and the harvester agree on what a
valid code is.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

FILES = pathlib.Path(__file__).parent / "vocabularies"

THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"
LANGUAGE_BASE = "http://publications.europa.eu/resource/authority/language/"
LICENCE_BASE = "https://w3id.org/italia/controlled-vocabulary/licences/"
THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"
DCATAPIT_LICENCE = URIRef("http://dati.gov.it/onto/dcatapit#LicenseDocument")

# ISO 639-1 codes of the EU's official languages (what CKAN's locales are named by), to the
# codes of the EU language table DCAT-AP_IT asks for in dct:language.
LANGUAGES = {
    "bg": "BUL", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG", "es": "SPA",
    "et": "EST", "fi": "FIN", "fr": "FRA", "ga": "GLE", "hr": "HRV", "hu": "HUN", "it": "ITA",
    "lt": "LIT", "lv": "LAV", "mt": "MLT", "nl": "NLD", "pl": "POL", "pt": "POR", "ro": "RON",
    "sk": "SLK", "sl": "SLV", "sv": "SWE",
}  # fmt: skip

# CKAN's own licence register (ckan/model/license.py) to AgID's vocabulary, for datasets that
# name a licence by CKAN id; what has no AgID counterpart is "unknown" (C1_Unknown).
CKAN_LICENCES = {
    "cc-by": "A21_CCBY40",
    "cc-by-sa": "A31_CCBYSA40",
    "cc-zero": "A11_CCO10",
    "cc-nc": "B11_CCBYNC40",
    "odc-by": "A210_ODCBY",
    "odc-odbl": "A310_ODBL",
    "odc-pddl": "A12_PDDL",
    "gfdl": "A311_GFDL13",
}
UNKNOWN_LICENCE = "C1_Unknown"


@dataclasses.dataclass(frozen=True)
class Concept:
    """One entry of a vocabulary: its URI, its code (the URI's last segment) and labels."""

    uri: str
    code: str
    labels: tuple[tuple[str, str], ...]

    def label(self, lang: str) -> str:
        """The label in `lang`, else in Italian, else in English, else the code."""
        by_lang = dict(self.labels)
        return by_lang.get(lang) or by_lang.get("it") or by_lang.get("en") or self.code


def _concepts(file: str, base: str, kind: URIRef = SKOS.Concept) -> dict[str, Concept]:
    graph = Graph()
    graph.parse(FILES / file)
    table = {}
    for subject in graph.subjects(RDF.type, kind):
        uri = str(subject)
        if not uri.startswith(base):
            continue
        code = uri[len(base):]
        labels = tuple(sorted((label.language or "", str(label)) for label in graph.objects(subject, SKOS.prefLabel)))
        table[code] = Concept(uri, code, labels)
    return dict(sorted(table.items()))


def codes(file: str) -> list[str]:
    """The codes of a code list: one a line, `#` lines naming its source and version."""
    lines = (line.strip() for line in (FILES / file).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _table(codes_file: str, labels_file: str, base: str) -> dict[str, Concept]:
    labelled = _concepts(labels_file, base)
    return {code: labelled.get(code) or Concept(base + code, code, ()) for code in sorted(codes(codes_file))}


@functools.cache
def themes() -> dict[str, Concept]:
    """The EU data themes (13, plus the table's placeholder OP_DATPRO), by code."""
    return _table("eu-data-theme.txt", "data-theme-filtered.rdf", THEME_BASE)


@functools.cache
def frequencies() -> dict[str, Concept]:
    """The EU update frequencies, by code (e.g. ANNUAL, 1MIN, UNKNOWN)."""
    return _table("eu-frequency.txt", "frequencies-filtered.rdf", FREQUENCY_BASE)


@functools.cache
def file_types() -> dict[str, Concept]:
    """The EU file types, by code (e.g. CSV, JSON, RDF_TURTLE)."""
    return _table("eu-file-type.txt", "filetypes-filtered.rdf", FILE_TYPE_BASE)


@functools.cache
def languages() -> frozenset[str]:
    """The codes of the EU language table (e.g. ITA, SLV, MUL, ZXX, OP_DATPRO)."""
    return frozenset(codes("eu-language.txt"))


@functools.cache
def licences() -> dict[str, Concept]:
    """AgID's licences (the leaves of the vocabulary, not its categories), by code."""
    return _concepts("licences.ttl", LICENCE_BASE, DCATAPIT_LICENCE)


def _document_key(uri: str) -> str:
    # Creative Commons URIs come with or without https, www, a trailing slash or /legalcode.
    key = uri.strip().lower().split("://", 1)[-1].removeprefix("www.")
    return key.removesuffix("/").removesuffix("/legalcode").removesuffix("/deed.it").removesuffix("/")


@functools.cache
def licence_documents() -> dict[str, str]:
    """AgID licence codes by the licence text each names (dcatapit:referenceDoc), so that a
    Creative Commons URI finds its AgID entry."""
    graph = Graph()
    graph.parse(FILES / "licences.ttl")
    documents = {}
    for subject, document in graph.subject_objects(URIRef("http://dati.gov.it/onto/dcatapit#referenceDoc")):
        code = str(subject).removeprefix(LICENCE_BASE)
        if code in licences():
            documents.setdefault(_document_key(str(document)), code)
    return documents


def code(value: str | None, base: str) -> str:
    """The code of a vocabulary value given either as its URI or as the code itself."""
    value = (value or "").strip()
    return value[len(base):] if value.startswith(base) else value


def file_type(value: str | None) -> Concept | None:
    """The EU file type of a CKAN format (`CSV`, `csv`, `.csv`, a file-type URI), if any."""
    wanted = code(value, FILE_TYPE_BASE).lstrip(".").upper().replace("-", "_").replace(" ", "_")
    return file_types().get(wanted)


def licence(value: str | None) -> Concept | None:
    """The AgID licence of a value: an AgID URI or code, the licence's own URI (Creative
    Commons…), or a CKAN licence id; None when it is none of these."""
    wanted = code(value, LICENCE_BASE)
    table = licences()
    by_document = licence_documents().get(_document_key(wanted), "") if "://" in wanted else ""
    return table.get(wanted) or table.get(by_document) or table.get(CKAN_LICENCES.get(wanted.lower(), ""))


def language(value: str | None) -> str | None:
    """The EU language code of a code or URI of the table (`ITA`, `…/language/ITA`) or of a
    CKAN locale (`it`, `it_IT`); None for a code the table lacks."""
    value = code(value, LANGUAGE_BASE)
    if value.upper() in languages():
        return value.upper()
    return LANGUAGES.get(value.split("_")[0].lower())
