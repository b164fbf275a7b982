"""Shared by the tests: a DCAT-AP_IT dataset as an API client sends it, and the portal under
test (a real CKAN running this extension, started by tests/ckan/ckan.sh)."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import requests


def full_dataset(name: str, organization: str) -> dict:
    """A dataset with every DCAT-AP_IT field the schema has, as package_create takes it."""
    return {
        "name": name,
        "owner_org": organization,
        "title": "Bilancio di previsione 2024",
        "notes": "Entrate e uscite previste per il 2024.",
        "identifier": f"c_e783:{name}",
        "themes_aggregate": json.dumps([{"theme": "GOVE", "subthemes": ["http://eurovoc.europa.eu/100223"]}, {"theme": "ECON"}]),
        "frequency": "ANNUAL",
        "modified": "2024-05-31",
        "issued": "2024-01-15",
        "holder_name": "Comune di Macerata",
        "holder_identifier": "c_e783",
        "publisher_name": "Regione Marche",
        "publisher_identifier": "r_marche",
        "creator": [{"creator_name": {"it": "Ufficio ragioneria"}, "creator_identifier": "c_e783"}],
        "language": "ITA ENG",
        "temporal_coverage": [{"temporal_start": "2024-01-01", "temporal_end": "2024-12-31"}],
        "geographical_name": "Macerata",
        "geographical_geonames_url": "http://www.geonames.org/3174004",
        "conforms_to": [{"identifier": "SIOPE", "uri": "https://www.siope.it/standard", "title": {"it": "SIOPE"}}],
        "license_id": "cc-by",
        "maintainer": "Ufficio open data",
        "maintainer_email": "opendata@comune.macerata.it",
        "tags": [{"name": "bilancio"}],
        "resources": [
            {"name": "Bilancio (CSV)", "url": "https://dati.comune.macerata.it/bilancio-2024.csv", "format": "csv"},
            {
                "name": "Bilancio (JSON)",
                "url": "https://dati.comune.macerata.it/bilancio-2024.json",
                "format": "JSON",
                "license_type": "https://creativecommons.org/licenses/by-sa/4.0/",
            },
        ],
    }


class Portal:
    """The CKAN under test: its URL, and its action API as the sysadmin or anonymously."""

    def __init__(self, url: str, token: str, publisher: str):
        self.url = url.rstrip("/")
        self.token = token
        # The IPA code of the administration publishing the catalogue (its ckan.ini).
        self.publisher = publisher

    def action(self, name: str, data: dict | None = None, anonymous: bool = False) -> requests.Response:
        headers = {} if anonymous else {"Authorization": self.token}
        return requests.post(f"{self.url}/api/3/action/{name}", json=data or {}, headers=headers, timeout=60)

    def ok(self, name: str, data: dict | None = None) -> dict:
        reply = self.action(name, data)
        assert reply.status_code == 200 and reply.json()["success"], f"{name}: {reply.status_code} {reply.text[:2000]}"
        return reply.json()["result"]

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=60)


@pytest.fixture(scope="session")
def portal() -> Portal:
    url, token = os.environ.get("MEDIANA_CKAN_DCATAPIT_URL"), os.environ.get("MEDIANA_CKAN_DCATAPIT_TOKEN")
    if not (url and token):
        pytest.fail(
            "MEDIANA_CKAN_DCATAPIT_URL and MEDIANA_CKAN_DCATAPIT_TOKEN name the CKAN under test "
            "(tests/ckan/ckan.sh up DIR with MEDIANA_CKAN_DCATAPIT; make test sets them)"
        )
    # tests/ckan/ckan.sh's portals publish as r_prova<N>; a CatalogNode as its spec.publisher.
    return Portal(url, token, os.environ.get("MEDIANA_CKAN_DCATAPIT_PUBLISHER", "r_prova"))


@pytest.fixture
def organization(portal: Portal):
    """An organization of its own for one test, purged afterwards with its datasets."""
    name = f"org-{uuid.uuid4().hex[:10]}"
    portal.ok("organization_create", {"name": name, "title": "Comune di Macerata"})
    yield name
    for dataset in portal.ok("package_search", {"fq": f"organization:{name}", "rows": 1000, "include_private": True})["results"]:
        portal.ok("dataset_purge", {"id": dataset["id"]})
    portal.ok("organization_purge", {"id": name})
