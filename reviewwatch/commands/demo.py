"""`reviewwatch demo`: the daily cycle end to end on the embedded defaults and the demo data."""

from __future__ import annotations

import click

from reviewwatch.context import AppContext
from storage.db import safe_url


@click.command("demo")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Create the store, then show what the demo configuration monitors."""
    app: AppContext = ctx.obj
    store = app.store()
    click.echo(f"store ready: {safe_url(store.url)}")
    for business in app.settings.businesses:
        sources = ", ".join(f"{s.type}" for s in business.sources)
        click.echo(f"  {business.id} ({business.name}, {business.timezone}): {sources}")
    from reviewwatch.commands.status import command as status

    ctx.invoke(status)
