"""The benchmark (a gap report's `benchmark` object, benchmark.py) in one line, as the digest,
the API, the terminal table and the dashboard say it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reviewwatch.gap.benchmark import NOT_COMPARABLE, SIMILAR

TopicName = Callable[[str], str]


def topic_words(key: str) -> str:
    """`wait_time` as "Wait time"; "Overall" for the whole business."""
    return key.replace("_", " ").capitalize()


def headline(benchmark: Mapping[str, Any], name: TopicName = topic_words) -> str | None:
    """The scope where the business's share positive differs most from the competitors' median
    beyond the uncertainty, else the largest difference within it; None when no scope is
    comparable."""
    best: tuple[tuple[int, float], Mapping[str, Any]] | None = None
    for scope in benchmark.get("scopes") or []:
        comparison = scope["median"]["comparisons"]["positive_share"]
        if comparison["verdict"] == NOT_COMPARABLE or comparison["difference"] is None:
            continue
        rank = (int(comparison["verdict"] != SIMILAR), abs(comparison["difference"]["value"]))
        if best is None or rank > best[0]:
            best = (rank, scope)
    if best is None:
        return None
    scope = best[1]
    own = scope["business"]["positive_share"]["value"]
    median = scope["median"]["positive_share"]["value"]
    verdict = scope["median"]["comparisons"]["positive_share"]["verdict"]
    said = "similar, within the uncertainty" if verdict == SIMILAR else f"{verdict}, beyond the uncertainty"
    return (
        f"{name(scope['key'])}: {_percent(own)} positive, competitors' median {_percent(median)}: "
        f"{said}"
    )


def _percent(share: float) -> str:
    return f"{round(share * 100):d} %"
