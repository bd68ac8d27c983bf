"""`reviewwatch ask`: email a business's customers one short feedback request each.

The customers file is checked whole before anyone is asked (every bad line reported, exit 2).
`--dry-run` stores the requests (their links work on `reviewwatch serve`) and writes each email
as an .eml file instead of sending it. Exit status 1 while a request is unsent (it is retried
by the next `reviewwatch ask` for the business). Settings: `feedback.*`, `smtp.*`.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from reviewwatch.context import AppContext
from reviewwatch.cycle import default_outbox
from reviewwatch.digest.send import OutboxTransport, SmtpTransport, Transport
from reviewwatch.feedback.customers import read_customers
from reviewwatch.feedback.invite import AskRun, ask_customers
from reviewwatch.feedback.tokens import Tokens
from reviewwatch.paths import outbox_folder
from reviewwatch.terminal import console as make_console


@click.command("ask")
@click.option("--business", "business_id", required=True, help="The business asking (its id).")
@click.option(
    "--customers", "customers_file", required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with columns email,name,language and optionally visited_on,reference.",
)
@click.option("--dry-run", is_flag=True, help="Write .eml files instead of sending.")
@click.option(
    "--outbox", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder for --dry-run's .eml files (default: <data_dir>/outbox).",
)
@click.pass_obj
def command(
    app: AppContext, business_id: str, customers_file: Path, dry_run: bool, outbox: Path | None
) -> None:
    """Ask each customer in the file for feedback, once, in their language."""
    settings = app.settings
    slug = settings.business(business_id).id
    customers = read_customers(customers_file)  # InputError (exit 2) before anything is stored
    Tokens(settings.feedback)  # a missing key is reported before anything is stored
    folder = outbox_folder(outbox) if outbox is not None else default_outbox(settings)
    transport: Transport = (
        OutboxTransport(folder, prefix=f"feedback-{slug}") if dry_run
        else SmtpTransport(settings.smtp)
    )
    run = ask_customers(app.store(), settings, slug, customers, transport)
    _print(run)
    if dry_run:
        make_console().print(f"dry run: .eml files in {folder}", markup=False, highlight=False)
    unsent = run.count("pending")
    if unsent:
        make_console(stderr=True).print(
            f"{unsent} request(s) not sent yet; the next `reviewwatch ask --business {slug}` "
            "retries them", markup=False, highlight=False)
        raise SystemExit(1)


def _print(run: AskRun) -> None:
    console = make_console()
    table = Table(title=f"feedback requests: {run.business}")
    for column in ("customer", "status", "detail"):
        table.add_column(column)
    for asked in run.asked:
        table.add_row(asked.email, asked.status, asked.error or (str(asked.path or "")))
    console.print(table)
    console.print(
        f"asked {len(run.asked)}; skipped: {run.opted_out} opted out, {run.cooldown} asked "
        f"recently; {run.duplicates} duplicate line(s) merged", markup=False, highlight=False)
