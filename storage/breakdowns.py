"""The customers' voice of one business over two adjacent windows, counted in one pass.

One GROUP BY over `v_mentions` gives, per window (the current one and the one before it), source
type, language, reviewer's rating and label, how many counted mentions there are: the overview
(reviewwatch/overview.py) sums them into its breakdowns by source and language, the rating
distribution and the change against the previous window. Counted as the aggregates count
(storage/analytics.py): scored or corrected mentions, at their published time, else first seen,
neither the business's own posts, nor private answers, nor cross-posted duplicates; the label is
the one that counts (correction, else the rating's, else the model's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.queries import V_MENTIONS, filter_clauses, make_filter


@dataclass(frozen=True, slots=True)
class VoiceCount:
    """How many counted mentions share a window, source, language, rating and label."""

    current: bool  # in the current window (else the previous one)
    source_type: str
    language: str | None
    rating: float | None  # the reviewer's rating on the normalised 0..1 scale; None if unrated
    label: str
    mentions: int


def voice_counts(
    session: Session, business: str, previous_since: dt.date, since: dt.date, until: dt.date
) -> list[VoiceCount]:
    """Counts of the days [previous_since, until], split at `since` (the current window's first
    day, UTC). A few hundred rows at most: sources, languages, rating values, three labels."""
    v = V_MENTIONS.c
    flt = make_filter(business=business, since=previous_since, until=until)
    start = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    current = case((v.counted_at >= start, 1), else_=0).label("current")
    keys = [current, v.source_type, v.language, v.rating_normalised, v.label]
    out = []
    # Dated and undated mentions apart: each query then walks one indexed column (the two
    # counts of a key are summed by the reader).
    for dated in (True, False):
        query = (
            select(*keys, func.count())
            .where(*filter_clauses(flt, dated=dated), v.label.is_not(None))
            .group_by(*keys)
        )
        for row in session.execute(query):
            now, source, language, rating, label, n = tuple(row)
            out.append(VoiceCount(bool(now), source, language,
                                  None if rating is None else float(rating), label, int(n)))
    return out
