"""The gap report's benchmark (the business beside its competitors) as a terminal table, and the
cells the HTML report's partial (`templates/_benchmark.html.j2`) prints."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reviewwatch.gap.benchmark import NOT_COMPARABLE, SIMILAR
from reviewwatch.gap.benchmark_line import headline, topic_words
from reviewwatch.gap.render_table import gap_text, interval

# (metric, column title, how `render_table` formats it)
COLUMNS = (
    ("positive_share", "positive", "positive_share"),
    ("negative_share", "negative", "positive_share"),
    ("mean_stars", "stars", "stars"),
)
# The terminal's narrower table: share negative is in the JSON, the HTML and the dashboard.
TABLE_COLUMNS = (COLUMNS[0], COLUMNS[2])
VERDICT_STYLE = {"higher": "bold", "lower": "bold", SIMILAR: "", NOT_COMPARABLE: "dim"}


def shown_scopes(benchmark: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The scopes to show (overall, and each topic where someone has enough mentions to be
    compared), and the keys of the others (the JSON keeps them all)."""
    shown, hidden = [], []
    for scope in benchmark["scopes"]:
        sides = [scope["business"], *scope["competitors"]]
        if scope["key"] == "overall" or any(side["comparable"] for side in sides):
            shown.append(scope)
        else:
            hidden.append(scope["key"])
    return shown, hidden


def hidden_note(benchmark: dict[str, Any], hidden: list[str]) -> str:
    if not hidden:
        return ""
    return (
        f"Not shown (fewer than {benchmark['min_mentions']} mentions on every side): "
        + ", ".join(topic_words(key) for key in hidden)
    )


def rows(scope: dict[str, Any], business_name: str) -> list[dict[str, Any]]:
    """The scope's rows: the business, each competitor, the competitors' median; each with its
    figures and (but the business's) its comparison with the business, per metric."""
    out = [{"who": business_name, "own": True, **scope["business"], "comparisons": None}]
    out += [{"who": c["name"], "own": False, **c} for c in scope["competitors"]]
    median = scope["median"]
    counted = median["competitors_counted"]
    out.append({
        "who": f"competitors' median ({counted} compared)",
        "own": False,
        "mentions": None,
        **median,
    })
    return out


def figure_cell(row: dict[str, Any], metric: str, kind: str) -> str:
    return interval(row.get(metric), kind)


def difference_cell(row: dict[str, Any], metric: str, kind: str) -> str:
    """The business minus this row, with its interval, and the verdict ("" on the business)."""
    comparisons = row.get("comparisons")
    if not comparisons:
        return ""
    comparison = comparisons[metric]
    if comparison["difference"] is None:
        return comparison["verdict"]
    return f"{gap_text(comparison['difference'], kind)} {comparison['verdict']}"


def verdict_class(row: dict[str, Any], metric: str) -> str:
    comparisons = row.get("comparisons")
    if not comparisons:
        return ""
    return "b-" + comparisons[metric]["verdict"].replace(" ", "-")


def benchmark_table(report: dict[str, Any]) -> Table:
    benchmark = report["benchmark"]
    table = Table(
        title=f"beside its competitors (differences: {escape(report['business']['name'])} minus "
        "each; 95% intervals)",
        title_justify="left",
    )
    for column in ("topic", "business", "n"):
        table.add_column(column, justify="right" if column == "n" else "left")
    for _, title, _ in TABLE_COLUMNS:
        table.add_column(f"{title} (95%)")
        table.add_column("difference")
    scopes, hidden = shown_scopes(benchmark)
    if hidden:
        table.caption = escape(hidden_note(benchmark, hidden))
    for scope in scopes:
        for index, row in enumerate(rows(scope, report["business"]["name"])):
            cells = [
                escape(topic_words(scope["key"])) if index == 0 else "",
                f"[bold]{escape(row['who'])}[/]" if row["own"] else escape(row["who"]),
                "" if row["mentions"] is None else str(row["mentions"]),
            ]
            for metric, _, kind in TABLE_COLUMNS:
                cells.append(figure_cell(row, metric, kind))
                style = _style(row, metric)
                text = escape(difference_cell(row, metric, kind))
                cells.append(f"[{style}]{text}[/]" if style and text else text)
            table.add_row(*cells, end_section=index == len(scope["competitors"]) + 1)
    return table


def _style(row: dict[str, Any], metric: str) -> str:
    comparisons = row.get("comparisons")
    return VERDICT_STYLE.get(comparisons[metric]["verdict"], "") if comparisons else ""


def print_benchmark(report: dict[str, Any], console: Console) -> None:
    """The benchmark table and its one line, when the business names competitors."""
    benchmark = report.get("benchmark")
    if not benchmark:
        return
    console.print(benchmark_table(report))
    line = headline(benchmark)
    console.print(
        escape(f"against its competitors: {line}" if line else
               f"against its competitors: fewer than {benchmark['min_mentions']} mentions on "
               "every side, nothing to compare"),
        highlight=False,
    )


# What `templates/_benchmark.html.j2` calls, as one template global: `benchmark.rows(...)`.
TEMPLATE_GLOBALS: dict[str, Any] = {
    "benchmark": {
        "rows": rows, "shown": shown_scopes, "hidden_note": hidden_note, "figure": figure_cell, "difference": difference_cell,
        "verdict_class": verdict_class, "columns": COLUMNS, "headline": headline,
        "topic": topic_words,
    }
}
