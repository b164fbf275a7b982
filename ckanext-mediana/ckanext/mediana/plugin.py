"""The `mediana_dcatapit` plugin: DCAT-AP_IT datasets in CKAN 2.12.

Enable it with ckanext-scheming's `scheming_datasets` and ckanext-dcat's `dcat`:

    ckan.plugins = … dcat scheming_datasets mediana_dcatapit
    scheming.dataset_schemas = ckanext.mediana:schemas/dcatapit.yaml
    scheming.presets = ckanext.scheming:presets.json
    ckanext.dcat.rdf.profiles = it_dcat_ap
    ckanext.mediana.publisher_name = Regione Marche
    ckanext.mediana.publisher_identifier = r_marche

The plugin gives the schema its validators and choice lists, indexes the themes for facets
and declares its options; the schema (schemas/dcatapit.yaml) holds the fields and the
`it_dcat_ap` profile (profile.py) their RDF.
"""

from __future__ import annotations

import json

import ckan.plugins as p
from ckan.config.declaration import Declaration, Key

from . import validators, vocabularies


def _choices(table: dict[str, vocabularies.Concept], value_of) -> list[dict]:
    lang = p.toolkit.h.lang() if p.toolkit.request else "it"
    return [{"value": value_of(c), "label": c.label(lang)} for c in table.values()]


def frequency_choices(field) -> list[dict]:
    """The EU frequencies, as scheming choices (code, label in the page's language)."""
    return _choices(vocabularies.frequencies(), lambda c: c.code)


def licence_choices(field) -> list[dict]:
    """AgID's licences, as scheming choices (URI, label in the page's language)."""
    return _choices(vocabularies.licences(), lambda c: c.uri)


def theme_codes(pkg_dict: dict) -> list[str]:
    """The data-theme codes of a dataset's themes_aggregate."""
    try:
        entries = json.loads(pkg_dict.get("themes_aggregate") or "[]")
    except ValueError:
        return []
    return [e["theme"] for e in entries if isinstance(e, dict) and e.get("theme")]


class DcatApItPlugin(p.SingletonPlugin):
    """DCAT-AP_IT fields, validators, facets and options."""

    p.implements(p.IValidators)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IConfigDeclaration)

    def get_validators(self):
        return validators.all_validators()

    def get_helpers(self):
        return {"mediana_frequency_choices": frequency_choices, "mediana_licence_choices": licence_choices}

    def before_dataset_index(self, pkg_dict):
        # A multi-valued field of the ckan core (images/solr/core/schema.xml), for facets and
        # for `fq=dcat_theme:GOVE`.
        pkg_dict["dcat_theme"] = theme_codes(pkg_dict)
        return pkg_dict

    def dataset_facets(self, facets_dict, package_type):
        facets_dict["dcat_theme"] = p.toolkit._("Themes")
        facets_dict["holder_name"] = p.toolkit._("Rights holder")
        return facets_dict

    def declare_config_options(self, declaration: Declaration, key: Key):
        declaration.annotate("mediana DCAT-AP_IT")
        group = key.ckanext.mediana
        declaration.declare(group.publisher_name).set_description(
            "Name of the administration publishing the catalogue (dcatapit:Catalog dct:publisher)"
        )
        declaration.declare(group.publisher_identifier).set_description(
            "IPA code of the administration publishing the catalogue"
        )
