"""Folding a breakdown's small groups into one "other" row (setting `gap.min_mentions`).

A language, source, topic or period with fewer mentions than a verdict needs says little on
its own and lengthens every view of the report; together they still count, as "other",
computed from their mentions like any group (not summed from their figures). A topic that a
claim is about keeps its row: the report compares the claim with it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

OTHER = "other"
Member = TypeVar("Member")
Weight = TypeVar("Weight")


def fold_small(
    groups: dict[str, tuple[list[Member], list[Weight]]],
    min_mentions: int,
    keep: Collection[str] = (),
) -> tuple[dict[str, tuple[list[Member], list[Weight]]], list[str]]:
    """The groups with at least `min_mentions` members (and those named in `keep`) in their
    order, then "other" holding the members of the rest; and the keys folded into it.

    A single small group is left as it is: folding it would rename it without saving a row.
    """
    kept = {
        key: value
        for key, value in groups.items()
        if (len(value[0]) >= min_mentions or key in keep) and key != OTHER
    }
    folded = [key for key in groups if key not in kept]
    if len(folded) < 2:
        return groups, []
    members: list[Member] = []
    weights: list[Weight] = []
    for key in folded:
        members.extend(groups[key][0])
        weights.extend(groups[key][1])
    kept[OTHER] = (members, weights)
    return kept, [key for key in folded if key != OTHER]
