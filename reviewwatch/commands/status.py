"""`reviewwatch status`: what is monitored, the last crawl of each source, what is stored."""

from __future__ import annotations

import click
from reviewwatch.terminal import console as make_console
from rich.table import Table

from reviewwatch.context import AppContext
from storage.db import safe_url
from storage.status import source_status


@click.command("status")
@click.pass_obj
def command(app: AppContext) -> None:
    """Show businesses, sources, their last crawl run and the counts stored."""
    store = app.store()
    with store.session() as session:
        rows = source_status(session)
    console = make_console()
    console.print(f"store: {safe_url(store.url)}")
    if not app.settings.businesses:
        console.print("no businesses configured (see `reviewwatch init`)")
        return
    table = Table(title="monitored sources")
    for column in ("business", "source", "target", "mentions", "scored", "last crawl", "new", "errors"):
        table.add_column(column, justify="right" if column in {"mentions", "scored", "new", "errors"} else "left")
    for row in rows:
        if not row.active:
            continue
        last = f"{row.last_status} {row.last_started:%Y-%m-%d %H:%M}" if row.last_started else "never"
        table.add_row(
            row.business, row.source_type, row.target, str(row.mentions), str(row.scored), last,
            "" if row.last_new is None else str(row.last_new),
            "" if row.last_errors is None else str(row.last_errors),
        )
    console.print(table)
    # With workers: queue backlog, cycles, workers seen, requests per host (nothing otherwise).
    from reviewwatch.worker.status import print_scale_status

    print_scale_status(app.settings, store, console)
