"""mediana_status_show: what the operator reads to decide Ready and status.versions."""

from __future__ import annotations

from ckanext.mediana import status


def test_the_portal_reports_its_database_and_solr_as_it_finds_them(portal):
    reply = portal.action("mediana_status_show", anonymous=True)
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"]
    assert result["ckan_version"] == "2.12.0"
    assert "mediana_status" in result["extensions"]
    database, search = result["components"]["database"], result["components"]["search"]
    assert database["ok"] is True, database
    assert database["version"].startswith("15"), database
    # CKAN's own history and the activity plugin's, each at its head after `ckan db init`.
    assert database["migrations"]["ckan"]["at_head"] is True, database
    assert database["migrations"]["activity"]["head"], database
    assert database["migrations"]["activity"]["at_head"] is True, database
    assert search == {"ok": True, "version": "9.10.1", "schema": "ckan-2.12"}


def test_a_component_that_does_not_answer_is_named_and_the_others_still_reported(portal):
    # The test portals run without Redis (ckan.redis.url on the closed port 1).
    components = portal.ok("mediana_status_show")["components"]
    assert components["redis"]["ok"] is False
    assert "Connection" in components["redis"]["error"], components["redis"]
    assert components["database"]["ok"] is True


def test_an_unreachable_solr_is_a_failure_with_its_reason(monkeypatch):
    monkeypatch.setattr(status, "config", {"solr_url": "http://127.0.0.1:1/solr/ckan"})
    found = status.search()
    assert found["ok"] is False
    assert "ConnectionError" in found["error"], found
