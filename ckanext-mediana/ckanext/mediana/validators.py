"""Validators of the DCAT-AP_IT dataset fields (schemas/dcatapit.yaml).

Each refuses a bad value with a message naming what is wrong and what would be right; values
that arrive as lists or dicts (API clients) are kept as the JSON text the field stores, the form
ckanext-dcatapit used, so portals migrating from it keep their data.
"""

from __future__ import annotations

import datetime
import json
import re

from ckan.plugins.toolkit import Invalid, missing

from . import vocabularies

# An IPA code (Indice dei domicili digitali della PA): letters, digits and underscores, such
# as `agid`, `c_e783` or `r_marche`, or an 11-digit VAT number for a holder outside IndicePA;
# real catalogues add the office (AOO/UO) after a slash, as dati.unibo.it's `uni_bo/CLE/AFORM`.
# IndicePA changes weekly, so the shape is what is checked.
IPA_CODE = re.compile(r"^[A-Za-z0-9_]{2,20}(/[A-Za-z0-9_.-]{1,40})*$")


def _empty(value) -> bool:
    return value is missing or value is None or value == "" or value == []


def _json_list(value, field: str) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise Invalid(f"{field} is not JSON: {error}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Invalid(f"{field} must be a JSON list of objects")
    return value


def ipa_code(value, context):
    """An IPA code, e.g. `c_e783`, optionally with its office: `uni_bo/CLE/AFORM`."""
    if _empty(value):
        return value
    value = str(value).strip()
    if not IPA_CODE.match(value):
        raise Invalid(
            f"{value!r} is not an IPA code (2 to 20 letters, digits or _, e.g. c_e783, "
            "optionally /office codes: uni_bo/CLE/AFORM)"
        )
    return value


def themes_aggregate(value, context):
    """`[{"theme": "GOVE", "subthemes": ["http://eurovoc…"]}]`: EU data-theme codes (or URIs),
    each with its EuroVoc sub-themes; stored as JSON text."""
    if _empty(value):
        return value
    if isinstance(value, str) and not value.lstrip().startswith(("[", "{")):
        # A plain list of codes, as a form or a CSV import gives them: "GOVE,ECON".
        value = [{"theme": code.strip()} for code in value.split(",") if code.strip()]
    entries = []
    for entry in _json_list(value, "themes_aggregate"):
        theme = vocabularies.code(entry.get("theme"), vocabularies.THEME_BASE)
        if theme not in vocabularies.themes():
            known = ", ".join(vocabularies.themes())
            raise Invalid(f"theme {theme!r} is not an EU data theme (one of {known})")
        subthemes = entry.get("subthemes") or []
        if not isinstance(subthemes, list) or not all(isinstance(s, str) and s.startswith("http") for s in subthemes):
            raise Invalid(f"the sub-themes of {theme} must be a list of EuroVoc URIs")
        entries.append({"theme": theme, "subthemes": subthemes})
    if not entries:
        raise Invalid("at least one theme is required (DCAT-AP_IT dcat:theme, 1..n)")
    return json.dumps(entries, ensure_ascii=False)


def frequency(value, context):
    """An EU frequency code (`ANNUAL`) or URI; stored as the code."""
    if _empty(value):
        return value
    code = vocabularies.code(str(value), vocabularies.FREQUENCY_BASE).upper()
    if code not in vocabularies.frequencies():
        raise Invalid(f"{value!r} is not an EU frequency (e.g. ANNUAL, MONTHLY, IRREG, UNKNOWN)")
    return code


def iso_date(value, context):
    """An ISO 8601 date (`2024-05-31`), or a date-time of which the date is kept."""
    if _empty(value):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    text = str(value).strip()
    try:
        datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(f"{text!r} is not an ISO 8601 date (YYYY-MM-DD)") from None
    if len(text) > 10 and text[10] != "T":
        raise Invalid(f"{text!r} is not an ISO 8601 date (YYYY-MM-DD)")
    return text[:10]


def languages(value, context):
    """EU language codes: `{ITA,ENG}` (ckanext-dcatapit's form), a list, or `ITA ENG`."""
    if _empty(value):
        return value
    items = value if isinstance(value, list) else re.split(r"[{},\s]+", str(value))
    codes = []
    for item in filter(None, (str(i).strip() for i in items)):
        code = vocabularies.language(item)
        if not code:
            raise Invalid(f"{item!r} is not a language code of the EU table (ITA, ENG, … or it, en, …)")
        codes.append(code)
    return "{" + ",".join(codes) + "}"


def temporal_coverage(value, context):
    """`[{"temporal_start": "2020-01-01", "temporal_end": "2020-12-31"}]`; a start is mandatory."""
    if _empty(value):
        return value
    periods = []
    for period in _json_list(value, "temporal_coverage"):
        start = period.get("temporal_start") or period.get("start")
        if not start:
            raise Invalid("every period of temporal_coverage needs a temporal_start")
        end = period.get("temporal_end") or period.get("end")
        periods.append({"temporal_start": iso_date(start, context), "temporal_end": iso_date(end, context) or None})
    return json.dumps(periods, ensure_ascii=False)


def json_objects(value, context):
    """A JSON list of objects (creators, standards, other identifiers), stored as JSON text."""
    if _empty(value):
        return value
    return json.dumps(_json_list(value, "the field"), ensure_ascii=False)


def licence(value, context):
    """An AgID licence (its URI, code or own document URI) or a CKAN licence id; stored as the
    AgID URI."""
    if _empty(value):
        return value
    found = vocabularies.licence(str(value))
    if found is None:
        raise Invalid(
            f"{value!r} is not a licence of the AgID vocabulary ({vocabularies.LICENCE_BASE}A21_CCBY40, …), "
            "the URI of one (https://creativecommons.org/licenses/by/4.0/) or a CKAN licence id (cc-by)"
        )
    return found.uri


def all_validators() -> dict:
    """The validators by the names the schema uses."""
    return {
        "mediana_ipa_code": ipa_code,
        "mediana_themes_aggregate": themes_aggregate,
        "mediana_frequency": frequency,
        "mediana_iso_date": iso_date,
        "mediana_languages": languages,
        "mediana_temporal_coverage": temporal_coverage,
        "mediana_json_objects": json_objects,
        "mediana_licence": licence,
    }
