"""`reviewwatch schedule`: the scheduler daemon in the foreground, logging what it does."""

from __future__ import annotations

import click

from reviewwatch.context import AppContext


@click.command("schedule")
@click.pass_obj
def command(app: AppContext) -> None:
    """Run each business's cycle at its digest time until SIGTERM or Ctrl-C."""
    from scheduler import Daemon

    if not app.settings.businesses:
        click.echo("note: no businesses configured; only digest retries are scheduled", err=True)
    Daemon(app.settings, app.store()).serve()
