"""`ckan mediana ...`: the commands the mediana operator's Jobs run, registered by the
`mediana_status` plugin that every node enables.

Each CKAN command loads CKAN and its plugins first, seconds of CPU that the node's web pods
starting beside the Job also need: each Job runs one command, not one per step, and a node's
first install makes the database and the sysadmin in one process (`install`).
"""

from __future__ import annotations

import os

import click
from ckan import logic, model
from ckan.cli import db

from ckanext.mediana import xloader

# Where the sysadmin Job passes the generated password: never on a command line.
PASSWORD_VARIABLE = "CKAN_SYSADMIN_PASSWORD"


def account_options(command):
    """The account's name, e-mail and whether to record XLoader's token: what `install` and
    `sysadmin` both take."""
    for option in reversed((
        click.argument("name"),
        click.option("--email", required=True, help="The sysadmin's e-mail address (CKAN requires one)."),
        click.option("--xloader-token", "xloader_token", is_flag=True, help="Also record XLoader's API token."),
        click.pass_context,
    )):
        command = option(command)
    return command


@click.group(name="mediana", short_help="mediana's maintenance commands")
def mediana():
    """Commands the mediana operator's Jobs run."""


@mediana.command("install")
@account_options
def install(ctx: click.Context, name: str, email: str, xloader_token: bool):
    """A node's first install: CKAN's and its plugins' migrations (`ckan db upgrade`), then
    the sysadmin NAME as `sysadmin` makes it, in one CKAN process. Idempotent."""
    _password()  # refused before the database is touched
    # Its defaults (head, with the plugins), whichever options this CKAN release gives it.
    ctx.invoke(db.upgrade)
    ctx.invoke(sysadmin, name=name, email=email, xloader_token=xloader_token)


@mediana.command("sysadmin")
@account_options
def sysadmin(ctx: click.Context, name: str, email: str, xloader_token: bool):
    """Makes NAME a sysadmin with the password in CKAN_SYSADMIN_PASSWORD, creating the account
    if it is missing (idempotent: run again, it sets the same e-mail and password)."""
    password = _password()
    user = model.User.by_name(name)
    if user is None:
        site_user = logic.get_action("get_site_user")({"ignore_auth": True}, {})
        context = {"ignore_auth": True, "user": site_user["name"]}
        # user_create validates the name, e-mail and password as CKAN's own `user add` does;
        # it reads the current user during dictization, hence a request context.
        with ctx.meta["flask_app"].test_request_context():
            try:
                logic.get_action("user_create")(context, {"name": name, "email": email, "password": password})
            except logic.ValidationError as error:
                raise click.ClickException(f"the sysadmin {name!r} cannot be created: {error.error_summary}")
        user = model.User.by_name(name)
        click.echo(f"created the user {name}")
    user.email = email
    user.password = password
    user.sysadmin = True
    user.state = model.State.ACTIVE
    model.repo.commit_and_remove()
    click.echo(f"{name} is a sysadmin, with the generated password")
    if xloader_token:
        click.echo(xloader.record_token())


@mediana.command("harvest-token")
@click.argument("user")
@click.argument("name")
def harvest_token(user: str, name: str):
    """Issues USER an API token named NAME for one harvest run, printed alone on stdout, and
    first revokes USER's earlier tokens of that name (runs that ended before revoking
    their own), so that a HarvestJob holds at most one token."""
    context = {"ignore_auth": True}
    try:
        tokens = logic.get_action("api_token_list")(context, {"user": user})
    except logic.NotFound:
        raise click.ClickException(f"no user {user!r} to issue a harvest token to")
    earlier = [token["id"] for token in tokens if token.get("name") == name]
    for jti in earlier:
        logic.get_action("api_token_revoke")(context, {"jti": jti})
    token = logic.get_action("api_token_create")(context, {"user": user, "name": name})
    # CKAN logs to stderr: the token is the only line on stdout.
    click.echo(f"revoked {len(earlier)} earlier token(s) named {name}", err=True)
    click.echo(token["token"])


@mediana.command("xloader-token")
def xloader_token_command():
    """Records XLoader's API token for CKAN's site user (idempotent)."""
    click.echo(xloader.record_token())


def _password() -> str:
    """The sysadmin's password, from the environment."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        raise click.UsageError(f"{PASSWORD_VARIABLE} is not set: the account's password comes from it")
    return password
