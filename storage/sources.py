"""The kinds of source a mention can come from: the `sources.type` column's vocabulary."""

from __future__ import annotations

from typing import Literal, get_args

SourceType = Literal["schema_org", "trustpilot", "mastodon", "feed", "app_store", "own_site", "reddit",
                     "feedback"]
SOURCE_TYPES: tuple[str, ...] = get_args(SourceType)
# Answers to feedback requests (`reviewwatch ask`): stored as private mentions, never crawled.
FEEDBACK = "feedback"
CRAWLED_SOURCE_TYPES: tuple[str, ...] = tuple(t for t in SOURCE_TYPES if t != FEEDBACK)
