"""The kinds of source a mention can come from: the `sources.type` column's vocabulary."""

from __future__ import annotations

from typing import Literal, get_args

SourceType = Literal["schema_org", "trustpilot", "mastodon", "feed", "app_store", "own_site", "reddit"]
SOURCE_TYPES: tuple[str, ...] = get_args(SourceType)
