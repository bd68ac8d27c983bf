"""Item pipelines, in order: normalise, validate, dedupe (within the run), store (batched,
each batch one transaction; new/updated/unchanged decided by `storage.mentions.write_mentions`).
A reply (`ReplyItem`) is stored after the mentions it may answer (`storage.followup`).

Settings: `crawl.text_max_chars`, `crawl.store_batch_size`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ClaimItem, MentionItem, ReplyItem, problem
from crawler.spiders.base import SourceSpider
from crawler.store import ClaimWriter, MentionWriter, ReplyWriter
from crawler.text import clean_text, html_to_text, one_line

MAX_URL = 2000
MAX_ID = 512


class _Component:
    crawler: Crawler

    @property
    def spider(self) -> SourceSpider:
        spider = self.crawler.spider
        assert isinstance(spider, SourceSpider)
        return spider


class NormalisePipeline(_Component):
    """HTML to text, Unicode NFC, whitespace, a size cap with a truncation flag; short fields bounded."""

    def __init__(self, text_max_chars: int) -> None:
        self.text_max_chars = text_max_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler.settings.getint("RW_TEXT_MAX_CHARS"))
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, MentionItem):
            self.mention(item)
        elif isinstance(item, ClaimItem):
            item.evidence_text = self.cap(clean_text(item.evidence_text))[0]
            item.evidence_url = item.evidence_url[:MAX_URL]
        elif isinstance(item, ReplyItem):
            self.reply(item)
        return item

    def reply(self, item: ReplyItem) -> None:
        as_text = html_to_text if item.html else str
        item.text = self.cap(clean_text(as_text(item.text or "")))[0]
        item.author = one_line(item.author, 200)
        item.mention_ref = bounded_id(item.mention_ref)
        item.reply_key = bounded_id(item.reply_key)
        if item.url and (len(item.url) > MAX_URL or not item.url.startswith(("http://", "https://"))):
            item.url = None

    def mention(self, item: MentionItem) -> None:
        as_text = html_to_text if item.html else str
        item.text, cut = self.cap(clean_text(as_text(item.text or "")))
        item.truncated = item.truncated or cut
        if item.reply_text is not None:
            item.reply_text = self.cap(clean_text(as_text(item.reply_text)))[0] or None
        item.author = one_line(item.author, 200)
        item.title = one_line(item.title, 500, html=item.html)
        item.external_id = bounded_id(item.external_id)
        if item.url and (len(item.url) > MAX_URL or not item.url.startswith(("http://", "https://"))):
            item.url = None

    def cap(self, text: str) -> tuple[str, bool]:
        if len(text) <= self.text_max_chars:
            return text, False
        return text[: self.text_max_chars], True


class ValidatePipeline(_Component):
    """Required fields and plausible values; an invalid item is dropped with a counted reason."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        reason = problem(item)
        if reason:
            self.spider.tally.reject(reason)
            # Counted and reported by the run: no log line per item (with its crawled text).
            raise DropItem(f"invalid: {reason}", log_level="DEBUG")
        return item


class DedupePipeline(_Component):
    """The same review twice in one run (it moved to the next page meanwhile) is kept once."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ReplyItem):
            key = f"r:{item.mention_ref}:{item.reply_key}"
        else:
            key = item.claim_key if isinstance(item, ClaimItem) else f"m:{item.external_id}"
        if key in self.seen:
            self.spider.tally.note("duplicate within run")
            raise DropItem("duplicate within run", log_level="DEBUG")
        self.seen.add(key)
        return item


class StorePipeline(_Component):
    """Batched writes; each batch is one transaction, so a failed batch leaves the store as it was."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.mentions: MentionWriter | None = None
        self.claims: ClaimWriter | None = None
        self.replies: ReplyWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler.settings.getint("RW_STORE_BATCH_SIZE"))
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        spider = self.spider
        assert spider.store is not None, "a source spider needs a store"
        self.mentions = MentionWriter(spider.store, spider.context, spider.tally, self.batch_size)
        self.claims = ClaimWriter(spider.store, spider.context, spider.tally)
        self.replies = ReplyWriter(spider.store, spider.context, spider.tally, self.mentions)

    def process_item(self, item: Any) -> Any:
        assert self.mentions is not None and self.claims is not None and self.replies is not None
        if isinstance(item, ReplyItem):
            self.replies.add(item)  # not a customer's item: counted as a reply
            return item
        self.spider.tally.items += 1
        if isinstance(item, MentionItem):
            self.mentions.add(item)
        else:
            self.claims.add(item)
        return item

    def close_spider(self) -> None:
        if self.mentions is not None and self.claims is not None:
            self.mentions.flush()
            self.claims.flush()
            if self.replies is not None:
                self.replies.flush()
            self.spider.details["claim_keys"] = sorted(self.claims.keys)


def bounded_id(value: str) -> str:
    value = (value or "").strip()
    if len(value) <= MAX_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
