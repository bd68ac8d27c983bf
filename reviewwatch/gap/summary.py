"""The report's opening summary: one line per claim with its verdict and key numbers.

The same entries are the JSON's `summary` array, the first table of `reviewwatch gap` and the
top of the HTML report, so the three always agree with the claims they sum up.
"""

from __future__ import annotations

from typing import Any

# How a perceived figure was estimated, in words (the JSON keeps the claim's `method` as is).
METHOD_WORDS = {
    "wilson": "labels counted",
    "labels": "labels counted",
    "smoothed mean": "smoothed mean",
}


def summary_entries(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per claim (dicts of `ClaimResult.to_dict()`), in the claims' order."""
    return [summary_entry(item) for item in claims]


def summary_entry(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "claim_key": item["claim_key"],
        "label": item["label"],
        "verdict": item["verdict"],
        "metric": item["metric"],
        "scale": item["scale"],
        "claimed": item["claimed"],
        "perceived": item["perceived"],
        "mentions": item["mentions"],
        "method": item["method"],
        "line": summary_line(item),
    }


def summary_line(item: dict[str, Any]) -> str:
    """E.g. "overstated: declared: 90% positive: claimed 90%, perceived 12% (95% interval
    3%–36%), n = 17, PCC"."""
    metric, scale = item["metric"], item["scale"]
    parts = [f"claimed {figure(item['claimed'], metric, scale)}"]
    perceived = item["perceived"]
    if perceived is not None:
        parts.append(
            f"perceived {figure(perceived['value'], metric, scale)} (95% interval "
            f"{figure(perceived['low'], metric, scale)}–{figure(perceived['high'], metric, scale)})"
        )
    parts.append(f"n = {item['mentions']}")
    if item["method"]:
        parts.append(method_words(item["method"]))
    return f"{item['verdict']}: {item['label']}: {', '.join(parts)}"


def method_words(method: str) -> str:
    return METHOD_WORDS.get(method, method)


def figure(value: float, metric: str, scale: float | None) -> str:
    if metric == "positive_share":
        return f"{value:.0%}"
    if metric == "average_rating":
        return f"{value:.2f}/{scale or 5:g}"
    return f"{value:g}"
