"""The gap report as one self-contained HTML file: tables and inline SVG charts, no script, no CDN.

It opens, per business, with the summary (a line per claim: verdict, claimed, perceived with its
interval, n, method); the breakdown tables follow, folded (`<details>`) so the page stays short.

Charts: claimed versus perceived per claim and per topic (with 95% intervals), and each claim's
perceived figure over time with its interval band and the claim as a line. Every string from the
store is escaped by Jinja2's autoescape and loses its bidi controls (reviewwatch/display.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader

from reviewwatch.display import finalize
from reviewwatch.gap.render_benchmark import TEMPLATE_GLOBALS as BENCHMARK_GLOBALS
from reviewwatch.gap.render_table import SHARE_METRICS, figure, gap_text, interval, label_basis, share_method
from reviewwatch.gap.summary import method_words, summary_entries
from reviewwatch.gap.topic_quality import quality_line

MEASURED = ("positive_share", "average_rating", "response_within_hours")
# Sized so that two bar charts, or three trends, stand side by side at 1366 px (the page is at
# most 1240 px wide); on a phone they scale down to the width (viewBox).
ROW_WIDTH, TRACK_LEFT, TRACK_WIDTH = 580, 230, 330
TREND_WIDTH, TREND_HEIGHT, PAD = 380, 170, 40
LABEL_CHARS = 36
MAX_PERIOD_LABELS = 5
MIN_LABEL_GAP = 64  # px between period labels ("2026-W47" is about 50 px wide)


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of an interval chart, in SVG x coordinates."""

    label: str
    low: float | None
    high: float | None
    value: float | None
    claimed: float | None
    caption: str
    axis: tuple[str, str] = ("0%", "100%")


@dataclass(frozen=True, slots=True)
class Trend:
    title: str
    band: str  # polygon points
    line: str  # polyline points
    dots: list[tuple[float, float, str]]
    claim_ys: list[float]  # one dashed line per claimed level
    claim_caption: str  # beside the highest line
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def _axis(metric: str, scale: float | None) -> tuple[float, float]:
    return (0.0, 1.0) if metric in SHARE_METRICS else (1.0, float(scale or 5))


def _x(value: float, lo: float, hi: float) -> float:
    return round(TRACK_LEFT + TRACK_WIDTH * (min(hi, max(lo, value)) - lo) / (hi - lo), 1)


def claim_bars(claims: list[dict[str, Any]]) -> list[Bar]:
    bars = []
    for item in claims:
        lo, hi = _axis(item["metric"], item["scale"])
        est = item["perceived"]
        bars.append(
            Bar(
                label=_short(item["label"]),
                low=None if est is None else _x(est["low"], lo, hi),
                high=None if est is None else _x(est["high"], lo, hi),
                value=None if est is None else _x(est["value"], lo, hi),
                claimed=_x(item["claimed"], lo, hi) if item["metric"] in MEASURED else None,
                caption=f"claimed {figure(item['claimed'], item['metric'])}, perceived "
                f"{interval(est, item['metric'])}: {item['verdict']}",
                axis=(figure(lo, item["metric"]), figure(hi, item["metric"])),
            )
        )
    return bars


def topic_bars(report: dict[str, Any]) -> list[Bar]:
    bars = []
    for group in [{"key": "all topics", **report["overall"]}, *report["breakdowns"]["topic"]]:
        est = group["positive_share"]
        bars.append(
            Bar(
                label=f"{_short(group['key'], LABEL_CHARS - 8)} (n={group['mentions']})",
                low=None if est is None else _x(est["low"], 0, 1),
                high=None if est is None else _x(est["high"], 0, 1),
                value=None if est is None else _x(est["value"], 0, 1),
                claimed=None,
                caption=f"positive {interval(est, 'positive_share')}",
            )
        )
    return bars


def trends(claims: list[dict[str, Any]]) -> list[Trend]:
    """One chart per perceived series: claims on the same metric, topic and window share the
    same perceived figures, so they share a chart, each claimed level a dashed line."""
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for item in claims:
        key = (item["metric"], item["topic"], item["scale"], item["window"]["since"],
               item["window"]["until"])
        series.setdefault(key, []).append(item)
    charts = (trend(items[0], sorted({i["claimed"] for i in items}), len(items))
              for items in series.values())
    return [chart for chart in charts if chart is not None]


def series_title(item: dict[str, Any], claims: int) -> str:
    what = "positive share" if item["metric"] == "positive_share" else (
        "average rating" if item["metric"] == "average_rating" else item["metric"])
    about = f"on {item['topic']}" if item["topic"] else "overall"
    return f"{what} {about}" + (f" ({claims} claims)" if claims > 1 else "")


def trend(
    item: dict[str, Any], claimed: list[float] | None = None, claims: int = 1
) -> Trend | None:
    claimed = claimed or [item["claimed"]]
    points = [p for p in item["trend"] if p["perceived"] is not None]
    if not points:
        return None
    lo, hi = _axis(item["metric"], item["scale"])
    starts = [dt.datetime.fromisoformat(p["start"]).timestamp() for p in points]
    first, last = min(starts), max(starts)
    span = (last - first) or 1.0

    def xy(start: float, value: float) -> tuple[float, float]:
        x = PAD + (TREND_WIDTH - 2 * PAD) * ((start - first) / span if last > first else 0.5)
        y = (
            TREND_HEIGHT
            - PAD
            - (TREND_HEIGHT - 2 * PAD) * (min(hi, max(lo, value)) - lo) / (hi - lo)
        )
        return round(x, 1), round(y, 1)

    upper = [xy(s, p["perceived"]["high"]) for s, p in zip(starts, points, strict=True)]
    lower = [xy(s, p["perceived"]["low"]) for s, p in zip(starts, points, strict=True)]
    line = [xy(s, p["perceived"]["value"]) for s, p in zip(starts, points, strict=True)]
    metric = item["metric"]
    ticks = [lo + (hi - lo) * k / 4 for k in range(5)]
    # at most MAX_PERIOD_LABELS period labels: they must not overlap
    label_every = max(1, -(-len(points) // MAX_PERIOD_LABELS))
    return Trend(
        title=series_title(item, claims) if claims > 1 else item["label"],
        band=" ".join(f"{x},{y}" for x, y in upper + lower[::-1]),
        line=" ".join(f"{x},{y}" for x, y in line),
        dots=[
            (x, y, f"{p['period']}: {interval(p['perceived'], metric)}, n={p['mentions']}")
            for (x, y), p in zip(line, points, strict=True)
        ],
        claim_ys=[xy(first, value)[1] for value in claimed],
        claim_caption="claimed " + ", ".join(figure(value, metric) for value in claimed),
        y_ticks=[(xy(first, t)[1], figure(t, metric)) for t in ticks],
        x_ticks=_spaced(
            [
                (x, p["period"])
                for k, ((x, _), p) in enumerate(zip(line, points, strict=True))
                if k % label_every == 0
            ]
        ),
    )


def _spaced(ticks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The period labels at least MIN_LABEL_GAP apart: periods are placed by time, so two
    labelled ones may fall close together when the periods between them are empty."""
    kept: list[tuple[float, str]] = []
    for x, text in ticks:
        if not kept or x - kept[-1][0] >= MIN_LABEL_GAP:
            kept.append((x, text))
    return kept


def _short(text: str, chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reviewwatch.gap", "templates"),
        autoescape=True,
        finalize=finalize,  # no crawled string reorders what the report shows
    )
    env.globals.update(
        interval=interval, gap_text=gap_text, figure=figure, label_basis=label_basis,
        share_method=share_method, method_words=method_words,
    )
    env.globals.update(topic_quality_line=quality_line)
    env.globals.update(BENCHMARK_GLOBALS)
    return env


def render_html(reports: list[dict[str, Any]], *, generated_at: dt.datetime | None = None) -> str:
    """One HTML page for the reports (dicts of `GapReport.to_dict()`), one section per business."""
    sections = [
        {
            "r": report,
            "summary": report.get("summary") or summary_entries(report["claims"]),
            "claim_bars": claim_bars(report["claims"]),
            "topic_bars": topic_bars(report),
            "trends": trends(report["claims"]),
        }
        for report in reports
    ]
    template = _environment().get_template("gap.html.j2")
    return template.render(
        sections=sections,
        generated_at=(generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        row_width=ROW_WIDTH,
        track_left=TRACK_LEFT,
        track_width=TRACK_WIDTH,
        trend_width=TREND_WIDTH,
        trend_height=TREND_HEIGHT,
        pad=PAD,
    )
