"""The `mediana_status` plugin: CKAN reports the state of what it runs on.

`mediana_status_show` answers what `status_show` answers, plus what this CKAN process finds
when it asks each component itself, from where it runs (inside the portal's network, which
NetworkPolicies open to CKAN and to nobody else):

    "components": {
      "database": {"ok": true, "version": "15.10", "migrations": {"ckan": {"current": [...],
                   "head": [...], "at_head": true}, "activity": {...}}},
      "search":   {"ok": true, "version": "9.10.1", "schema": "ckan-2.12"},
      "redis":    {"ok": true, "version": "7.0.15"}
    }

mediana's operator asks it through the web Service to decide WebReady, DatabaseReady (the
migrations of CKAN and of every enabled plugin at their head) and SearchReady (the core
answers a ping), and to fill `status.versions` with what runs rather than what was asked
for. A component that fails gives `{"ok": false, "error": "..."}`; the others are still
reported. Versions are left out under `ckan.hide_version`, as `status_show` leaves out CKAN's,
unless a sysadmin asks.
"""

from __future__ import annotations

import inspect
import os

import ckan.plugins as p
import requests
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from ckan import authz, model
from ckan.lib import redis as ckan_redis
from ckan.plugins.toolkit import config, get_action

# A status request waits this long for a component, so a hung one makes the answer say so
# instead of making the probe time out.
TIMEOUT_SECONDS = 5


def _failure(error: Exception) -> dict:
    return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def _migration_dirs() -> dict[str, tuple[str, str]]:
    """Each migration history CKAN runs: core's and those of the enabled plugins that have
    one, as CKAN's `db upgrade` finds them (`<package>/migration/<plugin>/`), with the
    version table each writes."""
    import ckan.migration

    dirs = {"ckan": (os.path.dirname(ckan.migration.__file__), "alembic_version")}
    for name in config.get("ckan.plugins"):
        plugin = p.get_plugin(name)
        source = plugin and inspect.getsourcefile(type(plugin))
        if not source:
            continue
        # The package under ckanext/: ckanext/<package>/..., as ckan.cli.db resolves it.
        head, _, rest = source.rpartition("/ckanext/")
        package_dir = os.path.join(head, "ckanext", rest.split("/", 1)[0])
        migrations = os.path.join(package_dir, "migration", name)
        if os.path.isfile(os.path.join(migrations, "env.py")):
            dirs[name] = (migrations, f"{name}_alembic_version")
    return dirs


def _migrations(connection) -> dict:
    histories = {}
    for name, (directory, table) in _migration_dirs().items():
        heads = sorted(ScriptDirectory(directory).get_heads())
        current = sorted(MigrationContext.configure(connection, opts={"version_table": table}).get_current_heads())
        histories[name] = {"current": current, "head": heads, "at_head": current == heads}
    return histories


def database() -> dict:
    """PostgreSQL's version and whether every migration history is at its head."""
    try:
        with model.ensure_engine().connect() as connection:
            version = connection.execute(sa.text("SHOW server_version")).scalar()
            migrations = _migrations(connection)
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        return _failure(error)
    # "15.14 (Debian 15.14-0+deb12u1)": the release is the first word.
    release = str(version).split(" ", 1)[0]
    return {"ok": all(m["at_head"] for m in migrations.values()), "version": release, "migrations": migrations}


def search() -> dict:
    """The CKAN core's ping, and the Solr release and schema it reports."""
    url = config.get("solr_url").rstrip("/")
    user, password = config.get("solr_user"), config.get("solr_password")
    auth = (user, password) if user and password else None
    try:
        ping = requests.get(f"{url}/admin/ping", params={"wt": "json"}, auth=auth, timeout=TIMEOUT_SECONDS)
        ping.raise_for_status()
        system = requests.get(f"{url}/admin/system", params={"wt": "json"}, auth=auth, timeout=TIMEOUT_SECONDS)
        system.raise_for_status()
        info = system.json()
    except Exception as error:  # noqa: BLE001
        return _failure(error)
    return {
        "ok": ping.json().get("status") == "OK",
        "version": info.get("lucene", {}).get("solr-spec-version"),
        "schema": info.get("core", {}).get("schema"),
    }


def redis() -> dict:
    """Redis's version, asked over CKAN's own connection."""
    try:
        info = ckan_redis.connect_to_redis().info("server")
    except Exception as error:  # noqa: BLE001
        return _failure(error)
    return {"ok": True, "version": info.get("redis_version")}


@p.toolkit.side_effect_free
def mediana_status_show(context, data_dict):
    """`status_show`, plus the state of the database, Solr and Redis as this CKAN sees them.

    :rtype: dictionary
    """
    p.toolkit.check_access("mediana_status_show", context, data_dict)
    status = get_action("status_show")(context.copy(), {})
    components = {"database": database(), "search": search(), "redis": redis()}
    if config.get("ckan.hide_version") and not authz.is_sysadmin(context.get("user")):
        for component in components.values():
            component.pop("version", None)
    status["components"] = components
    return status


@p.toolkit.auth_allow_anonymous_access
def mediana_status_show_auth(context, data_dict):
    """Whoever may read `status_show` may read this (anyone, by CKAN's default)."""
    return authz.is_authorized("status_show", context, data_dict)


class StatusPlugin(p.SingletonPlugin):
    """What the operator asks of every node: the `mediana_status_show` action, and the
    `ckan mediana` commands its Jobs run (ckanext.mediana.cli)."""

    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IClick)

    def get_actions(self):
        return {"mediana_status_show": mediana_status_show}

    def get_auth_functions(self):
        return {"mediana_status_show": mediana_status_show_auth}

    def get_commands(self):
        from ckanext.mediana.cli import mediana

        return [mediana]
