"""ckanext.mediana.datastore on the test peers' PostgreSQL (tests/ckan/ckan.sh): the DataStore's
database and roles made from nothing, made again without harm, with CKAN's permissions."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from ckanext.mediana import datastore


@pytest.fixture
def server():
    """The peers' server as its superuser, and names of this test's own, dropped afterwards."""
    host, port = os.environ.get("MEDIANA_PG_HOST"), os.environ.get("MEDIANA_PG_PORT")
    if not (host and port):
        pytest.fail("MEDIANA_PG_HOST and MEDIANA_PG_PORT name the test peers' PostgreSQL (make test sets them)")
    suffix = uuid.uuid4().hex[:8]
    names = {"main": f"main_{suffix}", "db": f"datastore_{suffix}", "write": f"ds_write_{suffix}", "read": f"ds_read_{suffix}"}
    base = f"postgresql://postgres@{host}:{port}"
    engine = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{names["main"]}"'))
    yield base, names
    with engine.connect() as c:
        for db in (names["db"], names["main"]):
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        for role in (names["write"], names["read"]):
            c.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
    engine.dispose()


def urls(base: str, names: dict) -> tuple[str, str, str]:
    host = base.split("@", 1)[1]
    return (
        f"{base}/{names['main']}",
        f"postgresql://{names['write']}:w%27rite@{host}/{names['db']}",
        f"postgresql://{names['read']}:read@{host}/{names['db']}",
    )


def test_the_datastore_is_made_once_and_again_with_ckans_permissions(server):
    base, names = server
    admin, write, read = urls(base, names)
    datastore.setup(admin, write, read)
    # Every CKAN pod runs it as it starts: the second time changes nothing and fails nothing.
    datastore.setup(admin, write, read)

    host = base.split("@", 1)[1]
    writer = sa.create_engine(f"postgresql://{names['write']}@{host}/{names['db']}")
    with writer.begin() as c:
        c.execute(sa.text("CREATE TABLE bilancio (voce text, importo numeric)"))
        c.execute(sa.text("INSERT INTO bilancio VALUES ('Entrate', 1000)"))
        # CKAN's view of the resources' tables, owned by the write role.
        assert c.scalar(sa.text("SELECT count(*) FROM _table_metadata WHERE name = 'bilancio'")) == 1
    writer.dispose()

    reader = sa.create_engine(f"postgresql://{names['read']}@{host}/{names['db']}")
    with reader.connect() as c:
        assert c.scalar(sa.text("SELECT importo FROM bilancio")) == 1000
    with reader.connect() as c, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        c.execute(sa.text("INSERT INTO bilancio VALUES ('Uscite', 1)"))
    reader.dispose()


def test_urls_of_two_databases_are_refused_and_nothing_is_made(server):
    base, names = server
    admin, write, read = urls(base, names)
    with pytest.raises(ValueError, match="different databases"):
        datastore.setup(admin, write, read.rsplit("/", 1)[0] + "/other")
    with pytest.raises(ValueError, match="must not be CKAN's own"):
        datastore.setup(admin, admin, admin)
    engine = sa.create_engine(f"{base}/postgres")
    with engine.connect() as c:
        assert c.scalar(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :n"), {"n": names["write"]}) == 0
    engine.dispose()


def test_the_command_names_what_is_missing():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    env["CKAN_SQLALCHEMY_URL"] = "postgresql://ckan@127.0.0.1:1/ckan"
    done = subprocess.run([sys.executable, "-m", "ckanext.mediana.datastore"], env=env, capture_output=True, text=True)
    assert done.returncode == 2, done
    assert "CKAN_DATASTORE_WRITE_URL, CKAN_DATASTORE_READ_URL not set" in done.stderr, done.stderr


def test_a_server_that_refuses_is_reported_without_the_password():
    env = dict(os.environ)
    env.update(
        CKAN_SQLALCHEMY_URL="postgresql://ckan:s3cret-admin@127.0.0.1:1/ckan",
        CKAN_DATASTORE_WRITE_URL="postgresql://w:s3cret-write@127.0.0.1:1/datastore",
        CKAN_DATASTORE_READ_URL="postgresql://r:s3cret-read@127.0.0.1:1/datastore",
    )
    done = subprocess.run([sys.executable, "-m", "ckanext.mediana.datastore"], env=env, capture_output=True, text=True)
    assert done.returncode == 1, done
    assert "mediana datastore setup:" in done.stderr and "127.0.0.1" in done.stderr, done.stderr
    assert "s3cret" not in done.stderr, done.stderr
