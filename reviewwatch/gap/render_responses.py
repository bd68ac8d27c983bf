"""The gap report's `responses` section in the terminal table (HTML: templates/responses.html.j2)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def hours(value: float | None) -> str:
    """Hours as a person reads them: "5.5 h", "3.2 d" beyond two days, "–" when none."""
    if value is None:
        return "–"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def rate(estimate: dict[str, float] | None) -> str:
    if estimate is None:
        return "–"
    return f"{estimate['value']:.0%} ({estimate['low']:.0%}–{estimate['high']:.0%})"


def responses_table(responses: dict[str, Any]) -> Table:
    """Overall and per source, in 80 columns (per period and per state: the JSON and HTML)."""
    table = Table(title="responses to negative mentions", title_justify="left")
    table.add_column("", no_wrap=True)
    for column in ("negative", "answered"):
        table.add_column(column, justify="right")
    table.add_column("rate (95%)", no_wrap=True)
    for column in ("median", "p90", "open"):
        table.add_column(column, justify="right", no_wrap=True)
    rows = [("all", responses)] + [(g["key"], g) for g in responses["by_source"]]
    for key, group in rows:
        table.add_row(
            escape(key), str(group["negative_mentions"]), str(group["replied"]),
            rate(group["response_rate"]), hours(group["median_hours"]),
            hours(group["p90_hours"]), str(group["states"]["open"]),
        )
    return table


def print_responses(report: dict[str, Any], console: Console) -> None:
    responses = report.get("responses")
    if not responses or not responses["negative_mentions"]:
        console.print("responses: no negative mention to answer in this window", style="dim")
        return
    console.print(responses_table(responses))
