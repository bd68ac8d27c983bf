"""`reviewwatch run`: one whole cycle now (crawl, score, gap snapshot, digest) per business."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from reviewwatch.commands.digest import print_runs
from reviewwatch.context import AppContext
from reviewwatch.cycle import CycleResult, default_outbox, run_cycle
from reviewwatch.paths import outbox_folder
from reviewwatch.terminal import console as make_console


@click.command("run")
@click.option("--business", "business_id", default=None, help="Only this business (its id).")
@click.option("--dry-run", is_flag=True, help="Write the digests as .eml files instead of sending.")
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for --dry-run's .eml files (default: <data_dir>/outbox).",
)
@click.pass_obj
def command(app: AppContext, business_id: str | None, dry_run: bool, outbox: Path | None) -> None:
    """Run the daily cycle now, stage by stage; a failing stage does not stop the next."""
    settings = app.settings
    slugs = (
        [settings.business(business_id).id] if business_id else [b.id for b in settings.businesses]
    )
    if outbox is not None:
        outbox_folder(outbox)
    store = app.store()
    results = [
        run_cycle(settings, slug, dry_run=dry_run, outbox=outbox, store=store) for slug in slugs
    ]
    print_results(results)
    print_runs([r.digest for r in results if r.digest is not None])
    if dry_run:
        make_console().print(f"dry run: .eml files in {outbox or default_outbox(settings)}")
    if not all(r.ok for r in results):
        raise SystemExit(1)


def print_results(results: list[CycleResult]) -> None:
    table = Table(title="cycle")
    for column in ("business", "stage", "ok", "detail"):
        table.add_column(column)
    for result in results:
        for stage in result.stages:
            table.add_row(result.business, stage.name, "yes" if stage.ok else "NO", stage.detail)
    make_console().print(table)
