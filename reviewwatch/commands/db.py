"""`reviewwatch db`: schema migrations of the store."""

from __future__ import annotations

import click

from reviewwatch.context import AppContext
from storage.db import Store, safe_url
from storage.migrate import current_revision, downgrade, head_revision, upgrade


@click.group("db")
def command() -> None:
    """Manage the store's schema."""


@command.command("upgrade")
@click.pass_obj
def upgrade_command(app: AppContext) -> None:
    """Migrate the store to the newest schema."""
    store = Store(app.settings.resolved_database_url, migrate=False)
    before = current_revision(store.engine)
    upgrade(store.engine)
    click.echo(f"{safe_url(store.url)}: {before or 'empty'} -> {current_revision(store.engine)}")


@command.command("current")
@click.pass_obj
def current_command(app: AppContext) -> None:
    """Show the store's schema revision and the newest one."""
    store = Store(app.settings.resolved_database_url, migrate=False)
    click.echo(f"current: {current_revision(store.engine) or 'empty'}  head: {head_revision()}")


@command.command("downgrade")
@click.argument("revision")
@click.confirmation_option(prompt="Downgrading can drop tables and their data. Continue?")
@click.pass_obj
def downgrade_command(app: AppContext, revision: str) -> None:
    """Migrate the store back to REVISION ('base' empties it)."""
    store = Store(app.settings.resolved_database_url, migrate=False)
    downgrade(store.engine, revision)
    click.echo(f"now at {current_revision(store.engine) or 'base'}")
