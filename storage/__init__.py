"""The sentiment store: businesses, sources, mentions and their revisions, scores, claims,
crawl runs, digests and corrections, on SQLite (default) or PostgreSQL."""

from storage.db import Store

__all__ = ["Store"]
