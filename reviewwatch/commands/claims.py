"""`reviewwatch claims`: import a business's survey results (CSV) as claims, list claims and
remove an imported one."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from reviewwatch.context import AppContext
from reviewwatch.terminal import console as make_console


@click.group("claims")
def command() -> None:
    """What businesses claim: declared, found on their own site, or from their surveys."""


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--business", "business_id", required=True, help="The business the survey is about.")
@click.pass_obj
def import_(app: AppContext, file: Path, business_id: str) -> None:
    """Import survey results: CSV with period_start,period_end,metric,value[,topic][,responses].

    metric is csat (percent satisfied, 0..100), nps (-100..100) or positive_share (0..1); topic is
    one of the configured topics. The whole file is checked first (every bad line is reported)
    and written in one transaction; importing it again updates, never duplicates.
    """
    from reviewwatch.gap.claims import business_by_slug, import_survey, read_survey

    slug = app.settings.business(business_id).id
    rows = read_survey(file, known_topics=list(app.settings.sentiment.topics))
    with app.store().transaction() as session:
        result = import_survey(session, business_by_slug(session, slug), rows)
    click.echo(
        f"{slug}: {len(rows)} survey claims from {file} "
        f"({result.new} new, {result.updated} updated)"
    )


@command.command("remove")
@click.argument("key")
@click.option("--business", "business_id", required=True, help="The business the claim is of.")
@click.pass_obj
def remove(app: AppContext, key: str, business_id: str) -> None:
    """Remove an imported (survey) claim by its KEY, as `claims list` shows it.

    The claim is deactivated, not deleted: importing the same line again brings it back.
    """
    from reviewwatch.gap.claims import business_by_slug, remove_claim

    slug = app.settings.business(business_id).id
    with app.store().transaction() as session:
        claim = remove_claim(session, business_by_slug(session, slug), key)
        period = f" ({claim.period})" if claim.period else ""
    click.echo(f"{slug}: removed claim {key}{period}")


@command.command("list")
@click.option("--business", "business_id", help="One business (default: all).")
@click.pass_obj
def list_(app: AppContext, business_id: str | None) -> None:
    """List the active claims stored for each business."""
    from reviewwatch.gap.claims import active_claims, business_by_slug

    slugs = (
        [app.settings.business(business_id).id]
        if business_id
        else [b.id for b in app.settings.businesses]
    )
    table = Table(title="claims")
    for column in ("business", "origin", "kind", "metric", "topic", "value", "period", "key",
                   "evidence"):
        # The key is what `claims remove` takes: whole, on one line, ready to copy.
        table.add_column(column, justify="right" if column == "value" else "left",
                         no_wrap=column == "key", max_width=40 if column == "evidence" else None)
    keys: list[str] = []
    with app.store().session() as session:
        for slug in slugs:
            for claim in active_claims(session, business_by_slug(session, slug).id):
                value = f"{claim.value:g}" + (f"/{claim.scale:g}" if claim.scale else "")
                keys.append(claim.claim_key)
                table.add_row(
                    slug,
                    claim.origin,
                    claim.kind,
                    claim.metric,
                    escape(claim.topic or "all"),
                    value,
                    escape(claim.period or ""),
                    escape(claim.claim_key),
                    escape((claim.evidence_text or claim.evidence_url or "")[:80]),
                )
    table.columns[7].min_width = max(map(len, keys), default=3)
    make_console().print(table)
