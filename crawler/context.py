"""What a spider knows about the source it crawls, and the tally it keeps of one run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.settings import CrawlSettings


@dataclass(slots=True)
class SourceContext:
    """One configured source, as the store holds it at the start of the crawl."""

    business_id: int
    business_slug: str
    keywords: list[str]
    website: str | None
    source_id: int
    type: str
    target: str
    options: dict[str, Any]
    state: dict[str, Any]
    last_success_at: dt.datetime | None
    known_ids: frozenset[str]
    crawl: CrawlSettings
    # The positive share a service claim on the business's own site stands for, by wording.
    own_site_levels: dict[str, float]
    since: dt.datetime | None = None

    @property
    def first_crawl(self) -> bool:
        """No run has succeeded yet, nor has a partial one kept its progress."""
        return self.last_success_at is None and not self.state.get(FIRST_CRAWL_DONE)

    @property
    def page_limit(self) -> int:
        """Pages a paginated listing may read in this run."""
        limit = self.crawl.first_crawl_pages if self.first_crawl else self.crawl.max_pages
        return int(self.options.get("max_pages", limit))

    @property
    def label(self) -> str:
        """Business, source type and target: two sources of one type are told apart."""
        return f"{self.business_slug}/{self.type} {short_target(self.target)}"


# The state key that ends a source's first crawl even when that crawl was only partial.
FIRST_CRAWL_DONE = "first_crawl_done"


def short_target(target: str, limit: int = 48) -> str:
    """A source's url without its scheme (a handle or query as it is), at most `limit` chars."""
    parts = urlsplit(target)
    short = f"{parts.netloc}{parts.path}" if parts.scheme in ("http", "https") else target
    if parts.scheme in ("http", "https") and parts.query:
        short += f"?{parts.query}"
    return short if len(short) <= limit else short[: limit - 1] + "…"


@dataclass(slots=True)
class Tally:
    """Counts of one run; `issues` keeps a count per reason for the error summary."""

    pages: int = 0
    items: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: int = 0
    claims: int = 0
    # Review records recognised on the pages read, before any filter (business, validity):
    # none on pages that answered is how a changed markup shows.
    records: int = 0
    # The business's public replies found (to reviews stored now or earlier).
    replies: int = 0
    issues: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)

    def error(self, reason: str, message: str = "") -> None:
        self.errors += 1
        self.issues[reason] += 1
        if message and len(self.messages) < 20:
            self.messages.append(message[:500])

    def reject(self, reason: str) -> None:
        self.invalid += 1
        self.issues[reason] += 1

    def note(self, reason: str) -> None:
        """Something recovered from (e.g. a wrong declared encoding): reported, not an error."""
        self.issues[reason] += 1

    def summary(self) -> str | None:
        if not self.issues:
            return None
        return "; ".join(f"{reason}: {count}" for reason, count in self.issues.most_common())
