"""The gap report as one self-contained HTML file: tables and inline SVG charts, no script, no CDN.

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
from reviewwatch.gap.render_table import figure, gap_text, interval, label_basis, share_method

MEASURED = ("positive_share", "average_rating")
ROW_WIDTH, TRACK_LEFT, TRACK_WIDTH = 720, 260, 420
TREND_WIDTH, TREND_HEIGHT, PAD = 720, 220, 40


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
    claim_y: float
    claim_caption: str
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def _axis(metric: str, scale: float | None) -> tuple[float, float]:
    return (0.0, 1.0) if metric == "positive_share" else (1.0, float(scale or 5))


def _x(value: float, lo: float, hi: float) -> float:
    return round(TRACK_LEFT + TRACK_WIDTH * (min(hi, max(lo, value)) - lo) / (hi - lo), 1)


def claim_bars(claims: list[dict[str, Any]]) -> list[Bar]:
    bars = []
    for item in claims:
        lo, hi = _axis(item["metric"], item["scale"])
        est = item["perceived"]
        bars.append(
            Bar(
                label=item["label"][:60],
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
                label=f"{group['key'][:50]} (n={group['mentions']})",
                low=None if est is None else _x(est["low"], 0, 1),
                high=None if est is None else _x(est["high"], 0, 1),
                value=None if est is None else _x(est["value"], 0, 1),
                claimed=None,
                caption=f"positive {interval(est, 'positive_share')}",
            )
        )
    return bars


def trend(item: dict[str, Any]) -> Trend | None:
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
    label_every = max(1, -(-len(points) // 7))  # at most 7 period labels: they must not overlap
    return Trend(
        title=item["label"],
        band=" ".join(f"{x},{y}" for x, y in upper + lower[::-1]),
        line=" ".join(f"{x},{y}" for x, y in line),
        dots=[
            (x, y, f"{p['period']}: {interval(p['perceived'], metric)}, n={p['mentions']}")
            for (x, y), p in zip(line, points, strict=True)
        ],
        claim_y=xy(first, item["claimed"])[1],
        claim_caption=f"claimed {figure(item['claimed'], metric)}",
        y_ticks=[(xy(first, t)[1], figure(t, metric)) for t in ticks],
        x_ticks=[
            (x, p["period"])
            for k, ((x, _), p) in enumerate(zip(line, points, strict=True))
            if k % label_every == 0
        ],
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reviewwatch.gap", "templates"),
        autoescape=True,
        finalize=finalize,  # no crawled string reorders what the report shows
    )
    env.globals.update(
        interval=interval, gap_text=gap_text, figure=figure, label_basis=label_basis,
        share_method=share_method,
    )
    env.globals.update(BENCHMARK_GLOBALS)
    return env


def render_html(reports: list[dict[str, Any]], *, generated_at: dt.datetime | None = None) -> str:
    """One HTML page for the reports (dicts of `GapReport.to_dict()`), one section per business."""
    sections = [
        {
            "r": report,
            "claim_bars": claim_bars(report["claims"]),
            "topic_bars": topic_bars(report),
            "trends": [t for t in (trend(item) for item in report["claims"]) if t is not None],
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
