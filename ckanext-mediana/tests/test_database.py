"""`python3 -m ckanext.mediana.database`, the wait for an external database, against the
test's PostgreSQL: it returns once the database accepts connections, also when that happens
during the wait, and gives up with the reason, never the password."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
import pytest

from ckanext.mediana import database


@pytest.fixture(scope="module")
def server() -> tuple[str, str]:
    host, port = os.environ.get("MEDIANA_PG_HOST"), os.environ.get("MEDIANA_PG_PORT")
    if not host or not port:
        pytest.fail("MEDIANA_PG_HOST and MEDIANA_PG_PORT name the test's PostgreSQL (make test sets them)")
    return host, port


def admin(server):
    host, port = server
    connection = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    connection.autocommit = True
    return connection


def test_a_database_made_during_the_wait_ends_it(server):
    host, port = server
    name = f"wait_{uuid.uuid4().hex[:8]}"
    said: list[str] = []
    made = threading.Timer(3, lambda: admin(server).cursor().execute(f"CREATE DATABASE {name}"))
    made.start()
    try:
        started = time.monotonic()
        assert database.wait(f"postgresql://postgres@{host}:{port}/{name}", timeout=60, every=0.5, say=said.append)
        assert time.monotonic() - started >= 2.5, "it waited for the database to exist"
        assert said[0].startswith(f"mediana: waiting for the database at {host}:{port}/{name}: "), said
        assert said[-1] == f"mediana: the database at {host}:{port}/{name} accepts connections", said
    finally:
        made.join()
        admin(server).cursor().execute(f"DROP DATABASE IF EXISTS {name}")


def test_a_database_that_never_answers_fails_naming_it_and_never_the_password():
    # A loopback port nothing listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, CKAN_SQLALCHEMY_URL=f"postgresql://ckan:segreto-lungo@127.0.0.1:{port}/ckan")
    run = subprocess.run([sys.executable, "-m", "ckanext.mediana.database", "--timeout", "3"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert f"mediana: the database at 127.0.0.1:{port}/ckan did not accept connections in 3 s: " in run.stderr, run.stderr
    assert "segreto" not in run.stderr, run.stderr


@pytest.mark.parametrize("url, message", [
    (None, "CKAN_SQLALCHEMY_URL is not set"),
    ("not a url", "CKAN_SQLALCHEMY_URL is not a database URL"),
])
def test_no_usable_url_is_refused_at_once(url, message):
    env = {k: v for k, v in os.environ.items() if k != "CKAN_SQLALCHEMY_URL"}
    if url is not None:
        env["CKAN_SQLALCHEMY_URL"] = url
    run = subprocess.run([sys.executable, "-m", "ckanext.mediana.database"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr, run.stderr
