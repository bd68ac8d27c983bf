"""The benchmark (a gap report's `benchmark` object, benchmark.py) in one line: which scope to
say (`pick`, shared by every surface) and its English wording (`headline`: the API, the terminal
table and the dashboard). The digest words the same pick in its owner's language
(reviewwatch/digest/gaptext.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewwatch.gap.benchmark import NOT_COMPARABLE, SIMILAR

TopicName = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Headline:
    """The scope the line is about: the business's share positive beside the competitors' median."""

    key: str  # "overall" or a topic key
    own: float
    median: float
    verdict: str  # "higher", "lower" or "similar"


def topic_words(key: str) -> str:
    """`wait_time` as "Wait time"; "Overall" for the whole business."""
    return key.replace("_", " ").capitalize()


def pick(benchmark: Mapping[str, Any]) -> Headline | None:
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
    return Headline(
        key=str(scope["key"]),
        own=float(scope["business"]["positive_share"]["value"]),
        median=float(scope["median"]["positive_share"]["value"]),
        verdict=str(scope["median"]["comparisons"]["positive_share"]["verdict"]),
    )


def headline(benchmark: Mapping[str, Any], name: TopicName = topic_words) -> str | None:
    """`pick`'s scope in one English line; None when no scope is comparable."""
    line = pick(benchmark)
    if line is None:
        return None
    verdict = line.verdict
    said = "similar, within the uncertainty" if verdict == SIMILAR else f"{verdict}, beyond the uncertainty"
    return (
        f"{name(line.key)}: {_percent(line.own)} positive, competitors' median "
        f"{_percent(line.median)}: {said}"
    )


def _percent(share: float) -> str:
    return f"{round(share * 100):d} %"
