"""`reviewwatch digest`: send each owner the negative mentions they have not received yet.

Exit status 1 while a digest is unsent: `pending` (its send failed) or `waiting` (backing off
before the next attempt); `--retry-now` ends the back-off. The states: docs/cycle.md.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from reviewwatch.context import AppContext
from reviewwatch.cycle import default_outbox
from reviewwatch.digest.deliver import DigestRun, send_digests
from reviewwatch.digest.deliver import retry_now as retry_now_digests
from reviewwatch.errors import InputError
from reviewwatch.paths import outbox_folder
from reviewwatch.digest.preview import preview_digests
from reviewwatch.terminal import console as make_console


@click.command("digest")
@click.option("--business", "business_id", default=None, help="Only this business (its id).")
@click.option(
    "--dry-run", is_flag=True, help="Write .eml files instead of sending; change nothing."
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for --dry-run's .eml files (default: <data_dir>/outbox).",
)
@click.option(
    "--retry-now", is_flag=True,
    help="Retry the digests whose send failed now, not after their back-off.",
)
@click.pass_obj
def command(
    app: AppContext, business_id: str | None, dry_run: bool, outbox: Path | None, retry_now: bool
) -> None:
    """Retry pending digests, then compose and send new ones (or preview them with --dry-run).

    Exits 1 while any digest is unsent (pending after a failed send, or waiting for its retry).
    """
    settings = app.settings
    slugs = (
        [settings.business(business_id).id] if business_id else [b.id for b in settings.businesses]
    )
    if retry_now and dry_run:
        raise InputError("--retry-now sends: it cannot be combined with --dry-run")
    folder = outbox_folder(outbox) if outbox is not None else default_outbox(settings)
    store = app.store()
    if retry_now:
        for slug in slugs:
            retry_now_digests(store, slug)
    runs = [
        preview_digests(store, settings, slug, folder)
        if dry_run
        else send_digests(store, settings, slug)
        for slug in slugs
    ]
    print_runs(runs)
    if dry_run:
        make_console().print(f"dry run: .eml files in {folder}")
    unsent = sum(run.unsent for run in runs)
    if unsent:
        make_console(stderr=True).print(
            f"{unsent} digest{'s are' if unsent != 1 else ' is'} not sent yet "
            "(pending: the send failed; waiting: backing off before the next attempt; "
            "--retry-now retries at once)", markup=False, highlight=False)
        raise SystemExit(1)


def print_runs(runs: list[DigestRun]) -> None:
    console = make_console()
    table = Table(title="digests")
    for column in ("business", "recipient", "mentions", "status", "message", "detail"):
        table.add_column(column, justify="right" if column == "mentions" else "left")
    for run in runs:
        if not run.outcomes:
            table.add_row(run.business, "", "0", "nothing to send", "", "")
        for o in run.outcomes:
            detail = str(o.path) if o.path else (o.error or "")
            table.add_row(o.business, o.recipient, str(o.mentions), o.status, o.message_id, detail)
    console.print(table)
