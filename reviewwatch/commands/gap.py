"""`reviewwatch gap`: claimed versus perceived per business, as a table, JSON or an HTML report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from reviewwatch.config import Settings
from reviewwatch.context import AppContext
from reviewwatch.errors import InputError
from reviewwatch.paths import output_file
from reviewwatch.terminal import console as make_console
from storage.db import Store

DEFAULT_HTML = "gap-report.html"


def gap_reports(
    store: Store,
    settings: Settings,
    slugs: list[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The gap report (schema dict) of each business, over [since, until) or the default window."""
    from reviewwatch.gap import compute_gap

    with store.session() as session:
        return [
            compute_gap(session, settings, slug, since=since, until=until).to_dict()
            for slug in slugs
        ]


def print_tables(reports: list[dict[str, Any]], output: Path | None = None) -> None:
    from reviewwatch.gap.render_benchmark import print_benchmark
    from reviewwatch.gap.render_table import print_report

    if output is None:
        console = make_console()
        for report in reports:
            print_report(report, console)
            print_benchmark(report, console)
        return
    with output.open("w", encoding="utf-8") as stream:
        from rich.console import Console

        console = Console(file=stream, width=160, no_color=True)
        for report in reports:
            print_report(report, console)
            print_benchmark(report, console)


def write_html(reports: list[dict[str, Any]], output: Path) -> Path:
    from reviewwatch.gap.render_html import render_html

    try:
        output.write_text(render_html(reports), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc}") from None
    return output


def _window(span: str | None, since: str | None) -> dt.datetime | None:
    from reviewwatch.gap.periods import parse_date, parse_span

    if span and since:
        raise InputError("give --period or --since, not both")
    if span:
        return dt.datetime.now(dt.UTC) - parse_span(span)
    return parse_date(since) if since else None


@click.command("gap")
@click.option("--business", "business_id", help="One business (default: every configured one).")
@click.option("--period", "span", help="The last N days/weeks/months/years: 30d, 6w, 3m, 1y.")
@click.option("--since", help="From this date (YYYY-MM-DD) until now.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write to this file (html default: ./{DEFAULT_HTML}).",
)
@click.pass_obj
def command(
    app: AppContext,
    business_id: str | None,
    span: str | None,
    since: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Compare what each business claims with what its customers say (default window:
    gap.period_days). JSON is one report object with --business, else a list of them."""
    since_at = _window(span, since)
    if output is not None:
        output_file(output)  # before any work: a missing folder is the user's typo
    if business_id:
        slugs = [app.settings.business(business_id).id]
    else:
        slugs = [b.id for b in app.settings.businesses]
        if not slugs:
            raise InputError("no businesses configured (see `reviewwatch init`)")
    reports = gap_reports(app.store(), app.settings, slugs, since=since_at)
    if fmt == "table":
        print_tables(reports, output)
    elif fmt == "json":
        text = json.dumps(reports[0] if business_id else reports, ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
        else:
            try:
                output.write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{output}: cannot write: {exc}") from None
    else:
        path = write_html(reports, output or Path(DEFAULT_HTML))
        click.echo(f"wrote {path}", err=True)
