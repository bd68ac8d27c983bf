"""Each claim's two channels as a terminal table: in public beside when asked (channels.py).

The HTML report shows the same figures from `templates/channels.html.j2`.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from reviewwatch.terminal import safe_text

EVIDENCE_CHARS = 40
COLUMNS = ("claim", "public n", "public positive (95%)", "asked", "answered (rate, 95%)",
           "asked positive (95%)", "NPS (95%)")


def interval(estimate: dict[str, float] | None, _metric: str = "positive_share") -> str:
    """A share and its interval, as the claims table prints one (render_table.interval)."""
    if estimate is None:
        return "–"
    return f"{estimate['value']:.0%} ({estimate['low']:.0%}–{estimate['high']:.0%})"


def nps_text(estimate: dict[str, float] | None) -> str:
    if estimate is None:
        return "–"
    return f"{estimate['value']:+.0f} ({estimate['low']:+.0f}…{estimate['high']:+.0f})"


def answered_text(asked: dict[str, Any]) -> str:
    rate = asked["response_rate"]
    return f"{asked['answered']}" + ("" if rate is None else f": {interval(rate, 'positive_share')}")


def asked_positive_text(asked: dict[str, Any]) -> str:
    """The share positive of the answers counted, and how many: a handful shows as such."""
    if asked["share_positive"] is None:
        return "–"
    return f"{interval(asked['share_positive'], 'positive_share')}, n={asked['answers_counted']}"


def claim_label(claim: dict[str, Any]) -> Text:
    """The claim's label and, for one read off a page, the start of its sentence: two claims on
    one topic at one level are told apart by it (as in the claims table)."""
    cell = safe_text(claim["label"])
    evidence = " ".join((claim.get("evidence_text") or "").split())
    if evidence:
        short = evidence if len(evidence) <= EVIDENCE_CHARS else evidence[: EVIDENCE_CHARS - 1] + "…"
        cell.append_text(safe_text(f"\n“{short}”", style="dim"))
    return cell


def anyone_asked(report: dict[str, Any]) -> bool:
    return any((c.get("channels") or {}).get("asked", {}).get("asked") for c in report["claims"])


def channels_table(report: dict[str, Any]) -> Table | str | None:
    """The table; a one-line note when nobody was asked in the window; None without claims."""
    claims = [c for c in report["claims"] if c.get("channels")]
    if not claims:
        return None
    if not anyone_asked(report):
        return "asked channel: no feedback requests in this window (`reviewwatch ask`)"
    table = Table(title="in public versus when asked", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "claim" else "right")
    for claim in claims:
        public, asked = claim["channels"]["public"], claim["channels"]["asked"]
        table.add_row(
            claim_label(claim),
            str(public["mentions"]),
            interval(public["share_positive"], "positive_share"),
            str(asked["asked"]),
            answered_text(asked),
            asked_positive_text(asked),
            nps_text(asked["nps"]),
        )
    return table
