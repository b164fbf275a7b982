"""The `mediana_xloader` plugin: ckanext-xloader configured from what the node already has.

XLoader needs an API token in its configuration (`ckanext.xloader.api_token`), with which
its jobs fetch private uploads and report back, and a database for its job log
(`ckanext.xloader.jobs_db.uri`). A token in ckan.ini would be a secret in a ConfigMap, and
one issued by `ckan user token add` exists only after the database does. So:

- the token is the JWT of a token whose id is fixed (`mediana-xloader`), signed with the
  node's own key as CKAN signs every token; each CKAN process computes it as it starts;
- the operator's sysadmin Job (`ckan mediana sysadmin --xloader-token`, ckanext.mediana.cli)
  records that token in the database for CKAN's site user, once, so that CKAN accepts it;
- the job log goes into CKAN's database (as ckan-docker configures it), not into a SQLite
  file that the web and the worker would each keep apart.

Options set in `ckan.ini` are left as they are.
"""

from __future__ import annotations

import ckan.plugins as p
from ckan import model
from ckan.lib import api_token
from ckan.plugins.toolkit import get_action

# The id of XLoader's token in CKAN's api_token table.
TOKEN_ID = "mediana-xloader"
_UNSET_TOKEN = "NOT_SET"
_DEFAULT_JOBS_DB = "sqlite:////tmp/xloader_jobs.db"


def record_token() -> str:
    """Records XLoader's API token for CKAN's site user, once; what was done."""
    site_user = get_action("get_site_user")({"ignore_auth": True}, {})
    token = model.ApiToken.get(TOKEN_ID)
    if token is not None:
        return f"XLoader's API token already recorded for {token.owner.name if token.owner else 'nobody'}"
    token = model.ApiToken(user_id=site_user["id"], name="xloader (mediana)")
    token.id = TOKEN_ID
    model.Session.add(token)
    model.Session.commit()
    return f"XLoader's API token recorded for {site_user['name']}"


class XLoaderPlugin(p.SingletonPlugin):
    """XLoader's token and job log, from the node's key and database."""

    p.implements(p.IConfigurer)

    def update_config(self, config):
        if config.get("ckanext.xloader.api_token", _UNSET_TOKEN) == _UNSET_TOKEN:
            config["ckanext.xloader.api_token"] = api_token.encode_token({"jti": TOKEN_ID})
        if config.get("ckanext.xloader.jobs_db.uri", _DEFAULT_JOBS_DB) == _DEFAULT_JOBS_DB:
            config["ckanext.xloader.jobs_db.uri"] = config.get("sqlalchemy.url")
