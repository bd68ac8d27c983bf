"""`reviewwatch alerts`: check now for spikes of negative mentions and alert the owners at once.

Exit status 1 while an alert is unsent (its send failed and waits for a retry).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from reviewwatch.alerts.deliver import AlertRun, check_business
from reviewwatch.context import AppContext
from reviewwatch.cycle import default_outbox
from reviewwatch.errors import InputError
from reviewwatch.paths import outbox_folder
from reviewwatch.terminal import console as make_console

NUMBERS = ("observed", "expected", "bound")


@click.command("alerts")
@click.option("--business", "business_id", default=None, help="Only this business (its id).")
@click.option(
    "--dry-run", is_flag=True,
    help="Write the alerts as .eml files instead of sending; store nothing.",
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for --dry-run's .eml files (default: <data_dir>/outbox).",
)
@click.pass_obj
def command(app: AppContext, business_id: str | None, dry_run: bool, outbox: Path | None) -> None:
    """Check each business's last 24 hours against its history; alert its owners of a spike."""
    settings = app.settings
    slugs = (
        [settings.business(business_id).id] if business_id else [b.id for b in settings.businesses]
    )
    if outbox is not None and not dry_run:
        raise InputError("--outbox is where --dry-run writes: add --dry-run, or leave it out")
    folder = outbox_folder(outbox) if outbox is not None else default_outbox(settings)
    store = app.store()
    runs = [
        check_business(store, settings, slug, dry_run=dry_run, outbox=folder) for slug in slugs
    ]
    print_alerts(runs)
    if dry_run:
        make_console().print(f"dry run: .eml files in {folder}; nothing stored")
    unsent = sum(run.count("pending") + run.count("waiting") for run in runs)
    if unsent:
        make_console(stderr=True).print(
            f"{unsent} alert{'s are' if unsent != 1 else ' is'} not sent yet "
            "(retried with back-off by the daemon and the next check)",
            markup=False, highlight=False)
        raise SystemExit(1)


def print_alerts(runs: list[AlertRun]) -> None:
    table = Table(title="spike alerts (negative mentions, last 24 hours)")
    for column in ("business", "topic", "observed", "expected", "bound", "status", "detail"):
        table.add_column(column, justify="right" if column in NUMBERS else "left")
    for run in runs:
        if not run.found and not run.retried:
            table.add_row(run.business, "", "", "", "", "no spike", "")
        for outcome in run.retried:
            table.add_row(run.business, "(earlier alert)", "", "", "", outcome.status,
                          outcome.error or outcome.message_id)
        for found in run.found:
            spike, result = found.spike, found.outcome
            if result is None:
                status, detail = "alerted already today", ""
            else:
                status = result.status
                detail = str(result.path) if result.path else (result.error or result.recipient)
            table.add_row(
                run.business, spike.topic or "(all)", str(spike.observed),
                f"{spike.expected:.1f}", f"{spike.bound:.0f}", status, detail,
            )
    make_console().print(table)
