#!/usr/bin/env python3
"""Generated DCAT-AP_IT catalogues and the matching CKAN package dicts, for tests/bench/harvest.sh
and tests/bench/chain.sh (whose municipal sources number their datasets apart with --first).

    dcat_catalog.py catalog N FILE.ttl|FILE.rdf [--base URL] [--first I]
                                     write a catalogue of N datasets, numbered from I (default 0)
    (as a module) package(i, ...)                              the package dict of dataset i

String templates, no rdflib: generating must not cost more than what is measured, and the
generator must not share code with either side of the comparison. Each dataset has a title
and a ~300-character description holding & < and " (so escaping is exercised), an
identifier of the form <IPA code>:<id>, an EU data theme, a publisher and rights holder
(one of 50 shared agents, described once before the datasets), a frequency, dct:modified
as xsd:dateTime, 2 keywords and 2 distributions (title, accessURL, format, media type,
licence). Publisher, theme and keywords are what the research's generator had
(research notes, ckan-local.md); rights holder and frequency are added because DCAT-AP_IT
makes them mandatory, and mediana in Enforce mode writes only valid datasets.

Turtle lists the agents, the catalogue (with one dcat:dataset link per dataset), then each
dataset followed by its distributions. RDF/XML nests the distributions inside their dataset.
Both carry the same triples.
"""

import sys
from xml.sax.saxutils import escape as xml_escape

AGENTS = 50
THEMES = ["AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"]
FREQUENCIES = ["ANNUAL", "MONTHLY", "QUARTERLY", "WEEKLY", "IRREG"]
KEYWORDS = ["ambiente", "bilancio", "mobilità", "scuole", "turismo", "popolazione", "rifiuti", "acqua"]
FORMATS = [("CSV", "text/csv", "csv"), ("JSON", "application/json", "json")]

THEME = "http://publications.europa.eu/resource/authority/data-theme/"
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA = "https://www.iana.org/assignments/media-types/"
LICENCE = "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"


def agent_code(a):
    return f"c_b{a:03d}"


def record(i, base):
    """The values of dataset i, shared by the RDF and the package dict."""
    a = i % AGENTS
    title = f"Dataset {i} del Comune {a}: servizi & territorio"
    description = (
        f'Descrizione del dataset {i}: dati "aperti" su servizi & territorio del Comune {a}, '
        f"aggiornati quando il valore < soglia; fonte: uffici comunali & società partecipate. "
        f"Il dataset riporta per ogni anno gli indicatori richiesti, con note sulla raccolta, "
        f'la copertura territoriale e le unità di misura "standard" adottate ({i:06d}).'
    )
    return {
        "uri": f"{base}/dataset/ds-{i:06d}",
        "title": title,
        "description": description,
        "identifier": f"{agent_code(a)}:ds-{i:06d}",
        "theme": THEMES[i % len(THEMES)],
        "frequency": FREQUENCIES[i % len(FREQUENCIES)],
        "agent": f"{base}/agent/{agent_code(a)}",
        "agent_code": agent_code(a),
        "agent_name": f"Comune di Esempio {a}",
        "modified": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00",
        "keywords": [KEYWORDS[i % len(KEYWORDS)], f"tema-{i % 97}"],
        "distributions": [
            {
                "uri": f"{base}/dataset/ds-{i:06d}/{ext}",
                "title": f"Dati {i} in {code}",
                "url": f"{base}/files/ds-{i:06d}.{ext}",
                "format": code,
                "media": media,
            }
            for code, media, ext in FORMATS
        ],
    }


def ttl_literal(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_turtle(out, indices, base):
    w = out.write
    w(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
        "@prefix dcatapit: <http://dati.gov.it/onto/dcatapit#> .\n"
        "@prefix dct: <http://purl.org/dc/terms/> .\n"
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\n"
    )
    for a in range(AGENTS):
        w(
            f"<{base}/agent/{agent_code(a)}> a foaf:Agent, dcatapit:Agent ;\n"
            f'  foaf:name "Comune di Esempio {a}"@it ;\n  dct:identifier "{agent_code(a)}" .\n\n'
        )
    w(f'<{base}/catalog> a dcat:Catalog ;\n  dct:title "Catalogo generato"@it')
    if indices:
        w(" ;\n  dcat:dataset " + ",\n    ".join(f"<{base}/dataset/ds-{i:06d}>" for i in indices))
    w(" .\n\n")
    for i in indices:
        r = record(i, base)
        d = r["distributions"]
        w(
            f"<{r['uri']}> a dcat:Dataset, dcatapit:Dataset ;\n"
            f"  dct:title {ttl_literal(r['title'])}@it ;\n"
            f"  dct:description {ttl_literal(r['description'])}@it ;\n"
            f'  dct:identifier "{r["identifier"]}" ;\n'
            f"  dcat:theme <{THEME}{r['theme']}> ;\n"
            f"  dct:publisher <{r['agent']}> ;\n"
            f"  dct:rightsHolder <{r['agent']}> ;\n"
            f"  dct:accrualPeriodicity <{FREQ}{r['frequency']}> ;\n"
            f'  dct:modified "{r["modified"]}"^^xsd:dateTime ;\n'
            f'  dcat:keyword "{r["keywords"][0]}"@it, "{r["keywords"][1]}"@it ;\n'
            f"  dcat:distribution <{d[0]['uri']}>, <{d[1]['uri']}> .\n\n"
        )
        for x in d:
            w(
                f"<{x['uri']}> a dcat:Distribution, dcatapit:Distribution ;\n"
                f"  dct:title {ttl_literal(x['title'])}@it ;\n"
                f"  dcat:accessURL <{x['url']}> ;\n"
                f"  dct:format <{FILE_TYPE}{x['format']}> ;\n"
                f"  dcat:mediaType <{MEDIA}{x['media']}> ;\n"
                f"  dct:license <{LICENCE}> .\n\n"
            )


def write_rdfxml(out, indices, base):
    w = out.write
    w(
        '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF\n'
        '  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        '  xmlns:dcat="http://www.w3.org/ns/dcat#"\n'
        '  xmlns:dcatapit="http://dati.gov.it/onto/dcatapit#"\n'
        '  xmlns:dct="http://purl.org/dc/terms/"\n'
        '  xmlns:foaf="http://xmlns.com/foaf/0.1/">\n'
    )
    for a in range(AGENTS):
        w(
            f'<foaf:Agent rdf:about="{base}/agent/{agent_code(a)}">'
            f'<rdf:type rdf:resource="http://dati.gov.it/onto/dcatapit#Agent"/>'
            f'<foaf:name xml:lang="it">Comune di Esempio {a}</foaf:name>'
            f"<dct:identifier>{agent_code(a)}</dct:identifier></foaf:Agent>\n"
        )
    w(f'<dcat:Catalog rdf:about="{base}/catalog"><dct:title xml:lang="it">Catalogo generato</dct:title>\n')
    for i in indices:
        w(f'  <dcat:dataset rdf:resource="{base}/dataset/ds-{i:06d}"/>\n')
    w("</dcat:Catalog>\n")
    for i in indices:
        r = record(i, base)
        w(
            f'<dcat:Dataset rdf:about="{r["uri"]}">'
            f'<rdf:type rdf:resource="http://dati.gov.it/onto/dcatapit#Dataset"/>\n'
            f'  <dct:title xml:lang="it">{xml_escape(r["title"])}</dct:title>\n'
            f'  <dct:description xml:lang="it">{xml_escape(r["description"])}</dct:description>\n'
            f"  <dct:identifier>{r['identifier']}</dct:identifier>\n"
            f'  <dcat:theme rdf:resource="{THEME}{r["theme"]}"/>\n'
            f'  <dct:publisher rdf:resource="{r["agent"]}"/>\n'
            f'  <dct:rightsHolder rdf:resource="{r["agent"]}"/>\n'
            f'  <dct:accrualPeriodicity rdf:resource="{FREQ}{r["frequency"]}"/>\n'
            f'  <dct:modified rdf:datatype="http://www.w3.org/2001/XMLSchema#dateTime">{r["modified"]}</dct:modified>\n'
            f'  <dcat:keyword xml:lang="it">{r["keywords"][0]}</dcat:keyword>'
            f'<dcat:keyword xml:lang="it">{r["keywords"][1]}</dcat:keyword>\n'
        )
        for x in r["distributions"]:
            w(
                f'  <dcat:distribution><dcat:Distribution rdf:about="{x["uri"]}">'
                f'<rdf:type rdf:resource="http://dati.gov.it/onto/dcatapit#Distribution"/>'
                f'<dct:title xml:lang="it">{xml_escape(x["title"])}</dct:title>'
                f'<dcat:accessURL rdf:resource="{x["url"]}"/>'
                f'<dct:format rdf:resource="{FILE_TYPE}{x["format"]}"/>'
                f'<dcat:mediaType rdf:resource="{MEDIA}{x["media"]}"/>'
                f'<dct:license rdf:resource="{LICENCE}"/>'
                f"</dcat:Distribution></dcat:distribution>\n"
            )
        w("</dcat:Dataset>\n")
    w("</rdf:RDF>\n")


def package(i, base, name, org, job, source, dcatapit=False):
    """The package_create dict mediana sends a stock CKAN (ckan + dcat, no dcatapit schema)
    for dataset i: its ckanext-dcatapit fields travel as extras (sink::fields_as_extras),
    plus the four provenance extras. With dcatapit, the dict mediana sends a CKAN with the
    DCAT-AP_IT schema (a CatalogNode's): those fields at the top, only provenance in extras. The content hash is a fixed-length stand-in: the peer
    measures CKAN's write, not the hashing."""
    r = record(i, base)
    extras = {
        "identifier": r["identifier"],
        "themes_aggregate": '[{"subthemes":[],"theme":"%s"}]' % r["theme"],
        "frequency": r["frequency"],
        "modified": r["modified"][:10],
        "publisher_name": r["agent_name"],
        "publisher_identifier": r["agent_code"],
        "holder_name": r["agent_name"],
        "holder_identifier": r["agent_code"],
        "mediana_harvest_source": source,
        "mediana_harvest_job": job,
        "mediana_source_key": r["identifier"],
        "mediana_content_hash": f"{i:064x}",
    }
    dict_ = {
        "name": name,
        "title": r["title"],
        "notes": r["description"],
        "owner_org": org,
        "license_id": "cc-by",
        "tags": [{"name": k} for k in r["keywords"]],
        "resources": [
            {
                "name": x["title"],
                "description": "",
                "url": x["url"],
                "access_url": x["url"],
                "format": x["format"],
                "distribution_format": x["format"],
                "mimetype": MEDIA + x["media"],
                "license_type": LICENCE,
                "uri": x["uri"],
            }
            for x in r["distributions"]
        ],
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
    }
    if dcatapit:
        fields = {k: v for k, v in extras.items() if not k.startswith("mediana_")}
        dict_ = dict(dict_, **fields)
        dict_["extras"] = [e for e in dict_["extras"] if e["key"].startswith("mediana_")]
    return dict_


def main(argv):
    if len(argv) < 4 or argv[1] != "catalog":
        sys.exit(__doc__)
    n, path, options = int(argv[2]), argv[3], dict(zip(argv[4::2], argv[5::2]))
    unknown = set(options) - {"--base", "--first"}
    if unknown or len(argv[4:]) % 2:
        sys.exit(f"unknown or incomplete options {sorted(unknown) or argv[-1:]}\n{__doc__}")
    base = options.get("--base", "https://dati.example.it")
    first = int(options.get("--first", "0"))
    indices = range(first, first + n)
    # A large buffer: the writes are many small strings.
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        if path.endswith(".ttl"):
            write_turtle(out, indices, base)
        elif path.endswith(".rdf"):
            write_rdfxml(out, indices, base)
        else:
            sys.exit(f"{path}: the extension must be .ttl or .rdf")


if __name__ == "__main__":
    main(sys.argv)
