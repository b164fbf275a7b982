"""`ckan mediana sysadmin`, the sysadmin Job's command, against the CKAN under test: the
account made, then updated in place, with the password given in the environment; and
`ckan mediana install`, a node's first install, on an empty database of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import psycopg2
import pytest
import requests


@pytest.fixture(scope="module")
def ini() -> str:
    path = os.environ.get("MEDIANA_CKAN_DCATAPIT_INI")
    if not path:
        pytest.fail("MEDIANA_CKAN_DCATAPIT_INI names the ckan.ini of the CKAN under test (make test sets it)")
    return path


def run(ini: str, *args: str, password: str | None, database: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CKAN_SYSADMIN_PASSWORD"}
    if password is not None:
        env["CKAN_SYSADMIN_PASSWORD"] = password
    if database is not None:
        # CKAN reads this over the ini's sqlalchemy.url (ckan/config/environment.py).
        env["CKAN_SQLALCHEMY_URL"] = database
    ckan = os.path.join(os.path.dirname(sys.executable), "ckan")
    return subprocess.run([ckan, "-c", ini, "mediana", *args], env=env, capture_output=True, text=True, timeout=300)


def logs_in(portal, name: str, password: str) -> bool:
    """Whether CKAN's login form accepts the password (what a person does)."""
    with requests.Session() as browser:
        form = browser.get(f"{portal.url}/user/login", timeout=60).text
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form)
        data = {"login": name, "password": password, **({"_csrf_token": csrf.group(1)} if csrf else {})}
        browser.post(f"{portal.url}/user/login", data=data, timeout=60)
        me = browser.get(f"{portal.url}/api/3/action/user_show", params={"id": name}, timeout=60).json()
        # Anonymous callers see no e-mail address; the logged-in user sees its own.
        return bool(me.get("success") and me["result"].get("email"))


def test_the_account_is_made_then_updated_in_place(portal, ini):
    name = f"admin-{uuid.uuid4().hex[:8]}"
    made = run(ini, "sysadmin", name, "--email", f"{name}@comune.macerata.it", password="prima-password-lunga")
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"created the user {name}" in made.stdout, made.stdout
    user = portal.ok("user_show", {"id": name})
    assert user["sysadmin"] is True and user["email"] == f"{name}@comune.macerata.it", user
    assert logs_in(portal, name, "prima-password-lunga")

    again = run(ini, "sysadmin", name, "--email", "opendata@comune.macerata.it", password="seconda-password-lunga")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created" not in again.stdout, again.stdout
    user = portal.ok("user_show", {"id": name})
    assert user["sysadmin"] is True and user["email"] == "opendata@comune.macerata.it", user
    assert logs_in(portal, name, "seconda-password-lunga")
    assert not logs_in(portal, name, "prima-password-lunga"), "the old password no longer opens the account"
    portal.ok("user_delete", {"id": name})


def test_without_a_password_nothing_is_made(portal, ini):
    name = f"admin-{uuid.uuid4().hex[:8]}"
    refused = run(ini, "sysadmin", name, "--email", f"{name}@comune.macerata.it", password=None)
    assert refused.returncode != 0
    assert "CKAN_SYSADMIN_PASSWORD is not set" in refused.stderr, refused.stderr
    assert portal.action("user_show", {"id": name}).status_code == 404


def test_an_invalid_account_is_refused_naming_it(portal, ini):
    refused = run(ini, "sysadmin", "Not A Name", "--email", "x@comune.macerata.it", password="una-password-lunga")
    assert refused.returncode != 0
    assert "the sysadmin 'Not A Name' cannot be created" in refused.stderr, refused.stderr


def test_xloaders_token_is_recorded_once(ini):
    first = run(ini, "xloader-token", password=None)
    assert first.returncode == 0, first.stdout + first.stderr
    again = run(ini, "xloader-token", password=None)
    assert "XLoader's API token already recorded" in again.stdout, again.stdout


@pytest.fixture
def empty_database():
    """A database of its own on the test's PostgreSQL, dropped afterwards: its URL, and a
    function running one query in it."""
    host, port = os.environ.get("MEDIANA_PG_HOST"), os.environ.get("MEDIANA_PG_PORT")
    if not host or not port:
        pytest.fail("MEDIANA_PG_HOST and MEDIANA_PG_PORT name the test's PostgreSQL (make test sets them)")
    name = f"install_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")

    def query(sql: str) -> list:
        with psycopg2.connect(host=host, port=port, user="postgres", dbname=name) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    yield f"postgresql://postgres@{host}:{port}/{name}", query
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


def test_the_first_install_makes_the_database_and_the_sysadmin(ini, empty_database):
    url, query = empty_database
    made = run(ini, "install", "amministratore", "--email", "opendata@comune.macerata.it",
               password="una-password-lunga", database=url)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Upgrading DB: SUCCESS" in made.stdout, made.stdout
    assert query("SELECT count(*) FROM alembic_version") == [(1,)], "CKAN's migrations are recorded"
    assert query("SELECT email, sysadmin, state FROM \"user\" WHERE name = 'amministratore'") == [
        ("opendata@comune.macerata.it", True, "active")
    ]
    again = run(ini, "install", "amministratore", "--email", "opendata@comune.macerata.it",
                password="una-password-lunga", database=url)
    assert again.returncode == 0 and "created" not in again.stdout, again.stdout + again.stderr


def test_an_install_without_a_password_leaves_the_database_empty(ini, empty_database):
    url, query = empty_database
    refused = run(ini, "install", "amministratore", "--email", "x@comune.macerata.it", password=None, database=url)
    assert refused.returncode != 0
    assert "CKAN_SYSADMIN_PASSWORD is not set" in refused.stderr, refused.stderr
    assert query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_a_harvest_token_replaces_the_earlier_ones_of_its_name(portal, ini):
    def issue(name: str) -> str:
        issued = run(ini, "harvest-token", "admin", name, password=None)
        assert issued.returncode == 0, issued.stdout + issued.stderr
        lines = issued.stdout.strip().splitlines()
        assert len(lines) == 1, f"the token alone on stdout: {issued.stdout!r}"
        return lines[0]

    def works(token: str) -> bool:
        reply = requests.post(f"{portal.url}/api/3/action/api_token_list", json={"user": "admin"},
                              headers={"Authorization": token}, timeout=60)
        return reply.status_code == 200 and reply.json()["success"]

    job = f"mediana-harvest-{uuid.uuid4().hex[:8]}"
    other = f"mediana-harvest-{uuid.uuid4().hex[:8]}"
    first, kept = issue(job), issue(other)
    assert works(first) and works(kept)
    second = issue(job)
    assert works(second), "the new token opens the API"
    assert not works(first), "the earlier token of the same name is revoked"
    assert works(kept), "tokens of other names are left alone"
    names = [t["name"] for t in portal.ok("api_token_list", {"user": "admin"})]
    assert names.count(job) == 1 and names.count(other) == 1, names


def test_a_harvest_token_for_nobody_is_refused_naming_the_user(ini):
    refused = run(ini, "harvest-token", "nessuno", "mediana-harvest-x", password=None)
    assert refused.returncode != 0
    assert "no user 'nessuno' to issue a harvest token to" in refused.stderr, refused.stderr
