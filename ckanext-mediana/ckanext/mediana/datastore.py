"""The DataStore's database and roles on a PostgreSQL server that mediana runs for a node.

CKAN's DataStore needs a database of its own, a role that writes it and a read-only role,
with the permissions that `ckan datastore set-permissions` prints. That command cannot run
before the database exists: the `datastore` plugin connects to it as CKAN starts. So this
runs first, as the init container of every CKAN pod of a node whose DataStore is on the
managed server (`python -m ckanext.mediana.datastore`), connected as the server's superuser
(`CKAN_SQLALCHEMY_URL`), like ckan-docker's start-up script sets the permissions each time:

- the roles of `CKAN_DATASTORE_WRITE_URL` and `CKAN_DATASTORE_READ_URL` are created, or
  their passwords set to the URLs' (they come from the node's generated Secret);
- the database of the write URL is created, owned by the write role;
- CKAN's own permission script (ckanext.datastore.cli.permissions_sql) runs in it.

Each step is idempotent, and an advisory lock keeps the pods that start together (web,
worker, a Job) from doing it at the same time.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

# Any constant: the pods of a node take this lock on their server while they set it up.
_LOCK = 0x6D656469616E61  # "mediana"


def _quoted(engine: sa.Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote_identifier(name)


def _ensure_role(connection: sa.Connection, engine: sa.Engine, url: URL) -> None:
    exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": url.username})
    verb = "ALTER" if exists else "CREATE"
    # psycopg2 puts the password in as a literal: DDL takes no bound parameters.
    connection.execute(
        sa.text(f"{verb} ROLE {_quoted(engine, url.username)} LOGIN PASSWORD :password"),
        {"password": url.password},
    )


def permissions_sql(admin: URL, write: URL, read: URL) -> str:
    """CKAN's permission script for these URLs, without its first psql command
    (`\\connect`): it is run connected to the DataStore's database already."""
    from ckanext.datastore.cli import permissions_sql as ckan_permissions_sql

    script = ckan_permissions_sql(
        maindb=admin.database,
        datastoredb=write.database,
        mainuser=admin.username,
        writeuser=write.username,
        readuser=read.username,
    )
    return "\n".join(line for line in script.splitlines() if not line.startswith("\\connect"))


def setup(admin_url: str, write_url: str, read_url: str) -> None:
    """Creates or updates the DataStore's roles and database on the server of `admin_url`
    (a superuser's URL), then sets their permissions."""
    admin, write, read = make_url(admin_url), make_url(write_url), make_url(read_url)
    if write.database != read.database:
        raise ValueError(f"the DataStore's write and read URLs name different databases: {write.database}, {read.database}")
    if write.database == admin.database:
        raise ValueError(f"the DataStore's database must not be CKAN's own ({admin.database})")
    server = sa.create_engine(admin, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with server.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK})
            for url in (write, read):
                _ensure_role(connection, server, url)
            found = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": write.database})
            if not found:
                connection.execute(
                    sa.text(f"CREATE DATABASE {_quoted(server, write.database)} OWNER {_quoted(server, write.username)}")
                )
            datastore = sa.create_engine(admin.set(database=write.database), hide_parameters=True)
            try:
                with datastore.begin() as inside:
                    # Through the driver's cursor without parameters: the script's PL/pgSQL
                    # has format() patterns (`%I`) that psycopg2 would read as placeholders.
                    cursor = inside.connection.dbapi_connection.cursor()
                    cursor.execute(permissions_sql(admin, write, read))
                    cursor.close()
            finally:
                datastore.dispose()
    finally:
        server.dispose()


def main() -> int:
    names = ("CKAN_SQLALCHEMY_URL", "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        print(f"mediana datastore setup: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    try:
        setup(*(os.environ[name] for name in names))
    except (ValueError, sa.exc.SQLAlchemyError) as error:
        # No password in the message: the engines hide bound parameters, and SQLAlchemy's
        # errors quote statements, not connection URLs.
        print(f"mediana datastore setup: {error}", file=sys.stderr)
        return 1
    print(f"mediana datastore setup: database {make_url(os.environ[names[1]]).database} ready", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
