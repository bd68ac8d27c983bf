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
    table = Table(title="responses to negative mentions", title_justify="left")
    for column in ("", "negative", "replied", "response rate (95%)", "median", "90th pct",
                   "open", "resolved", "dismissed"):
        table.add_column(column, justify="left" if column in ("", "response rate (95%)") else "right")
    rows = [("all", responses)] + [(g["key"], g) for g in responses["by_source"]] + [
        (g["key"], g) for g in responses["by_period"]]
    for key, group in rows:
        states = group["states"]
        table.add_row(
            escape(key), str(group["negative_mentions"]), str(group["replied"]),
            rate(group["response_rate"]), hours(group["median_hours"]),
            hours(group["p90_hours"]), str(states["open"]), str(states["resolved"]),
            str(states["dismissed"]),
        )
    return table


def print_responses(report: dict[str, Any], console: Console) -> None:
    responses = report.get("responses")
    if not responses or not responses["negative_mentions"]:
        console.print("responses: no negative mention to answer in this window", style="dim")
        return
    console.print(responses_table(responses))
