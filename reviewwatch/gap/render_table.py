"""The gap report as rich terminal tables: the summary (a line per claim), one row per claim,
then per topic, then predictions."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from reviewwatch.gap.render_responses import print_responses
from reviewwatch.gap.summary import summary_entries
from reviewwatch.gap.topic_quality import quality_line
from reviewwatch.terminal import safe_text

EVIDENCE_CHARS = 60
VERDICT_STYLE = {
    "supported": "green",
    "overstated": "bold red",
    "understated": "cyan",
    "not enough evidence": "dim",
}


# Claims whose figures are shares of 0..1 (response_within_hours: the share answered in time).
SHARE_METRICS = ("positive_share", "response_within_hours")


def figure(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if metric in SHARE_METRICS else f"{value:.2f}"


def interval(estimate: dict[str, float] | None, metric: str) -> str:
    if estimate is None:
        return "–"
    return (
        f"{figure(estimate['value'], metric)} "
        f"({figure(estimate['low'], metric)}–{figure(estimate['high'], metric)})"
    )


def gap_text(gap: dict[str, float] | None, metric: str) -> str:
    if gap is None:
        return "–"
    if metric in SHARE_METRICS:
        return f"{gap['value'] * 100:+.0f} pts ({gap['low'] * 100:+.0f}…{gap['high'] * 100:+.0f})"
    return f"{gap['value']:+.2f} ({gap['low']:+.2f}…{gap['high']:+.2f})"


def label_basis(sources: dict[str, int] | None, topic: str | None = None) -> str:
    """Which labels a figure counted, e.g. "6 by rating, 2 by the model, 1 by an analyst"; for a
    topic, how many by their own opinion about it (the rest by the mention's label)."""
    names = (
        ("topic", f"by the opinion about {topic}" if topic else "by the topic's opinion"),
        ("rating", "by rating"),
        ("model", "by the model"),
        ("correction", "by an analyst"),
    )
    sources = sources or {}
    return ", ".join(f"{sources[key]} {text}" for key, text in names if sources.get(key))


def claims_table(report: dict[str, Any], rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("claim", "topic", "period", "claimed", "perceived (95%)", "gap", "n", "verdict"):
        table.add_column(column, justify="right" if column in {"claimed", "n"} else "left")
    for item in rows:
        metric = item["metric"]
        claimed = figure(item["claimed"], metric)
        if item["metric"] == "average_rating":
            claimed += f"/{item['scale'] or 5:g}"
        verdict = item["verdict"] + (
            ""
            if item["status"] == "complete" or item["kind"] == "claim"
            else f" ({item['status']})"
        )
        table.add_row(
            claim_cell(item),
            escape(item["topic"] or "all"),
            escape(_period(item, report)),
            claimed,
            interval(item["perceived"], metric),
            gap_text(item["gap"], metric),
            str(item["mentions"]),
            f"[{VERDICT_STYLE.get(item['verdict'], '')}]{escape(verdict)}[/]",
        )
    return table


def claim_cell(item: dict[str, Any]) -> Text:
    """The claim's label, and for a claim read off a page the start of its sentence (two claims
    on one topic at one level are told apart by their evidence)."""
    cell = safe_text(item["label"])
    evidence = " ".join((item.get("evidence_text") or "").split())
    if evidence:
        short = evidence if len(evidence) <= EVIDENCE_CHARS else evidence[: EVIDENCE_CHARS - 1] + "…"
        cell.append_text(safe_text(f"\n“{short}”", style="dim"))
    basis = label_basis(item.get("label_sources"), item.get("topic"))
    if basis:
        cell.append_text(safe_text(f"\ncounted {basis}", style="dim"))
    if item.get("method_note"):
        cell.append_text(safe_text(f"\n{item['method_note']}", style="dim"))
    return cell


def _period(item: dict[str, Any], report: dict[str, Any]) -> str:
    if item["period"]:
        return str(item["period"])
    since, until = report["window"]["since"], report["window"]["until"]
    return f"{(since or '…')[:10]}..{until[:10]}"


def share_method(report: dict[str, Any]) -> str:
    """One sentence saying how the report's shares were estimated."""
    correction = report["method"].get("share_correction")
    if correction is None:
        return "shares: the model's labels counted, Wilson 95% intervals (no correction)"
    text = (
        "shares: mentions with a rating or an analyst's label count by it; the others are "
        f"estimated by {correction['description']}; 95% bootstrap intervals over the mentions "
        "and the calibration"
    )
    return text + (f". {correction['note']}" if correction["note"] else "")


def topics_table(report: dict[str, Any]) -> Table:
    table = Table(title="perceived, per topic", title_justify="left")
    for column in ("topic", "n", "positive (95%)", "negative (95%)", "net", "stars (95%)"):
        table.add_column(column, justify="right" if column in {"n", "net"} else "left")
    for group in [{"key": "all", **report["overall"]}, *report["breakdowns"]["topic"]]:
        net = group["net_sentiment"]
        table.add_row(
            escape(group["key"]),
            str(group["mentions"]),
            interval(group["positive_share"], "positive_share"),
            interval(group["negative_share"], "positive_share"),
            "–" if net is None else f"{net:+.2f}",
            interval(group["mean_stars"], "stars"),
        )
    return table


def summary_lines(report: dict[str, Any]) -> list[Text]:
    """The report's summary, one line per claim, its verdict first and coloured."""
    entries = report.get("summary") or summary_entries(report["claims"])
    lines = []
    for entry in entries:
        line = Text("• ")
        line.append_text(safe_text(entry["verdict"], style=VERDICT_STYLE.get(entry["verdict"], "")))
        line.append_text(safe_text(entry["line"].removeprefix(entry["verdict"])))
        lines.append(line)
    return lines


def print_channels(report: dict[str, Any], console: Console) -> None:
    """Each claim in public beside when asked (render_channels.py)."""
    from reviewwatch.gap.render_channels import channels_table

    table = channels_table(report)
    if table is not None:
        console.print(table, markup=False, highlight=False)


def print_report(report: dict[str, Any], console: Console) -> None:
    """Print one business's report (the dict of `GapReport.to_dict()`)."""
    business = report["business"]
    window = report["window"]
    console.print(
        f"[bold]{escape(business['name'])}[/] ({escape(business['slug'])}): "
        f"{(window['since'] or '…')[:10]} to {window['until'][:10]}, "
        f"{report['overall']['mentions']} mentions counted"
        + (f" ({basis})" if (basis := label_basis(report["overall"].get("label_sources"))) else "")
        + (
            f", {report['unscored_mentions']} awaiting a score"
            if report["unscored_mentions"]
            else ""
        )
    )
    for line in summary_lines(report):
        console.print(line)
    if (topics := quality_line(report)) is not None:
        console.print(safe_text(topics, style="dim"))
    if report["claims"]:
        console.print(claims_table(report, report["claims"], "claimed versus perceived"))
        print_channels(report, console)
    else:
        console.print("no claims: declare some in the configuration or import a survey")
    console.print(topics_table(report))
    console.print(safe_text(share_method(report), style="dim"))
    print_responses(report, console)
    if report["calibration"]:
        console.print(claims_table(report, report["calibration"], "predictions versus what came"))
