"""`reviewwatch status`: what is monitored, the last crawl of each source, what is stored.

It only reads: without a store (no file yet, or an empty database) it says so and creates none.
A source's last crawl shows its status: ok, partial, suspect (pages answered without any review
although earlier runs found some) or failed.
"""

from __future__ import annotations

import click
from rich.table import Table

from reviewwatch.config import Settings
from reviewwatch.context import AppContext
from reviewwatch.terminal import console as make_console, safe_text
from storage.db import safe_url, store_exists
from storage.status import SourceStatus, source_status


@click.command("status")
@click.pass_obj
def command(app: AppContext) -> None:
    """Show businesses, sources, their last crawl run and the counts stored."""
    console = make_console()
    url = app.settings.resolved_database_url
    exists = store_exists(url)
    if exists:
        store = app.store()
        with store.session() as session:
            rows = source_status(session)
        console.print(f"store: {safe_url(store.url)}", markup=False, highlight=False)
    else:
        rows = configured(app.settings)
        console.print(f"store: {safe_url(url)}: no store yet (`reviewwatch crawl`, `run` or "
                      "`db upgrade` creates it)", markup=False, highlight=False)
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
            row.business, row.source_type, safe_text(row.target), str(row.mentions),
            str(row.scored), last,
            "" if row.last_new is None else str(row.last_new),
            "" if row.last_errors is None else str(row.last_errors),
        )
    console.print(table)
    # With workers: queue backlog, cycles, workers seen, requests per host (nothing otherwise).
    from reviewwatch.worker.status import print_scale_status

    if exists:
        print_scale_status(app.settings, app.store(), console)


def configured(settings: Settings) -> list[SourceStatus]:
    """The configured sources, as a store that has seen nothing would show them."""
    return [
        SourceStatus(business.id, source.type, source.target, True, 0, 0, None, None, None, None)
        for business in settings.businesses
        for source in business.sources
    ]
