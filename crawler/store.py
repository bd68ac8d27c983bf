"""Writes of one crawl run to the store: mentions in batches, own-site claims, the run's record
and the source's incremental state (a partial run keeps its progress).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import SQLAlchemyError

from crawler.context import SourceContext, Tally
from crawler.items import ClaimItem, MentionItem, ReplyItem
from storage.errors import StoreError
from storage.followup import ReplyData, record_replies
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Claim, CrawlRun, Mention, Source, utcnow

log = logging.getLogger(__name__)
# Texts shorter than this ("Great!") are too common to call a copy from another source.
DUPLICATE_MIN_CHARS = 60
# Run statuses whose state is kept: a partial run's pages that were read are progress too.
KEEPS_STATE = ("ok", "partial", "suspect")


class MentionWriter:
    def __init__(self, store: Store, context: SourceContext, tally: Tally, batch_size: int) -> None:
        self.store, self.context, self.tally = store, context, tally
        self.batch_size = batch_size
        self.pending: list[MentionData] = []

    def add(self, item: MentionItem) -> None:
        self.pending.append(
            MentionData(
                external_id=item.external_id,
                text=item.text,
                url=item.url,
                author=item.author,
                title=item.title,
                rating=item.rating,
                rating_scale=item.rating_scale,
                language=item.language,
                published_at=item.published_at,
                truncated=item.truncated,
                is_own=item.is_own,
                reply_text=item.reply_text,
                extra=item.extra,
            )
        )
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with self.store.transaction() as session:
                result = write_mentions(
                    session,
                    business_id=self.context.business_id,
                    source_id=self.context.source_id,
                    items=batch,
                )
                mark_copies(session, self.context, batch, result.new_ids)
        except (SQLAlchemyError, StoreError) as exc:
            self.tally.error("store write failed", f"store write failed: {exc}")
            log.error("%s: a batch of %d mentions was not stored: %s", self.context.label, len(batch), exc)
            return
        self.tally.new += result.new
        self.tally.updated += result.updated
        self.tally.unchanged += result.unchanged


def mark_copies(
    session: Any, context: SourceContext, batch: list[MentionData], new_ids: list[int]
) -> None:
    """A new mention whose content another source of the business already holds is a copy."""
    hashes = {item.content_hash for item in batch if len(item.text) >= DUPLICATE_MIN_CHARS}
    if not new_ids or not hashes:
        return
    originals: dict[str, int] = {}
    for mention_id, content_hash in session.execute(
        select(Mention.id, Mention.content_hash)
        .where(
            Mention.business_id == context.business_id,
            Mention.source_id != context.source_id,
            Mention.content_hash.in_(hashes),
            Mention.duplicate_of_id.is_(None),
        )
        .order_by(Mention.id)
    ):
        originals.setdefault(content_hash, mention_id)
    if not originals:
        return  # the usual case: one indexed look-up per batch
    for chunk in range(0, len(new_ids), 500):
        for mention_id, content_hash in session.execute(
            select(Mention.id, Mention.content_hash).where(
                Mention.id.in_(new_ids[chunk : chunk + 500]),
                Mention.content_hash.in_(list(originals)),
            )
        ):
            session.execute(
                update(Mention).where(Mention.id == mention_id)
                .values(duplicate_of_id=originals[content_hash])
            )


class ReplyWriter:
    """The business's public replies, written after the mentions they answer (flushed first)."""

    def __init__(
        self, store: Store, context: SourceContext, tally: Tally, mentions: MentionWriter
    ) -> None:
        self.store, self.context, self.tally, self.mentions = store, context, tally, mentions
        self.pending: list[ReplyData] = []

    def add(self, item: ReplyItem) -> None:
        self.pending.append(ReplyData(
            mention_ref=item.mention_ref, reply_key=item.reply_key, text=item.text,
            author=item.author, replied_at=item.replied_at, url=item.url,
            match_on="status_id" if item.match_on == "status_id" else "external_id",
        ))
        if len(self.pending) >= self.mentions.batch_size:
            self.flush()

    def flush(self) -> None:
        self.mentions.flush()  # a reply's review may still be waiting in the mentions' batch
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with self.store.transaction() as session:
                self.tally.replies += record_replies(
                    session, business_id=self.context.business_id,
                    source_id=self.context.source_id, source_type=self.context.type,
                    replies=batch,
                )
        except (SQLAlchemyError, StoreError) as exc:
            self.tally.error("store write failed", f"replies not stored: {exc}")


class ClaimWriter:
    """Own-site claims, keyed by claim_key: a re-crawl updates rather than duplicates."""

    def __init__(self, store: Store, context: SourceContext, tally: Tally) -> None:
        self.store, self.context, self.tally = store, context, tally
        self.pending: list[ClaimItem] = []
        self.keys: set[str] = set()

    def add(self, item: ClaimItem) -> None:
        self.pending.append(item)
        self.keys.add(item.claim_key)

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with self.store.transaction() as session:
                stored = {
                    c.claim_key: c
                    for c in session.scalars(
                        select(Claim).where(
                            Claim.business_id == self.context.business_id,
                            Claim.claim_key.in_([i.claim_key for i in batch]),
                        )
                    )
                }
                for item in batch:
                    self.upsert(session, stored.get(item.claim_key), item)
        except (SQLAlchemyError, StoreError) as exc:
            self.tally.error("store write failed", f"claims not stored: {exc}")

    def upsert(self, session: Any, claim: Claim | None, item: ClaimItem) -> None:
        if claim is None:
            claim = Claim(
                business_id=self.context.business_id,
                claim_key=item.claim_key,
                origin="own_site",
                stated_at=utcnow(),
            )
            session.add(claim)
            self.tally.new += 1
        elif (claim.value, claim.topic, claim.active) == (item.value, item.topic, True):
            self.tally.unchanged += 1
        else:
            self.tally.updated += 1
        claim.metric = item.metric
        claim.topic = item.topic
        claim.value = item.value
        claim.scale = item.scale
        claim.kind = "claim"
        claim.evidence_url = item.evidence_url
        claim.evidence_text = item.evidence_text
        claim.active = True
        self.tally.claims += 1


def begin_run(store: Store, source_id: int) -> tuple[int, dt.datetime]:
    started = utcnow()
    with store.transaction() as session:
        run = CrawlRun(source_id=source_id, started_at=started, status="running")
        session.add(run)
        session.flush()
        return run.id, started


def finish_run(
    store: Store,
    *,
    run_id: int | None,
    context: SourceContext,
    started: dt.datetime,
    status: str,
    tally: Tally,
    details: dict[str, Any],
    new_state: dict[str, Any],
) -> None:
    """Record the run and keep the source's new state unless it failed; on success also move
    `last_success_at` and retire vanished claims."""
    outcome: dict[str, Any] = {
        "finished_at": utcnow(),
        "status": status,
        "pages": tally.pages, "new": tally.new, "updated": tally.updated,
        "unchanged": tally.unchanged, "invalid": tally.invalid, "errors": tally.errors,
        "error_summary": (tally.summary() or "")[:2000] or None,
        "details": {**details, "issues": dict(tally.issues), "messages": tally.messages,
                    "items": tally.items, "claims": tally.claims, "replies": tally.replies,
                    "records": tally.records},
    }
    with store.transaction() as session:
        # UPDATEs by primary key, without reading the rows first (two statements a source fewer).
        found = 0
        if run_id:
            found = cast(CursorResult[Any], session.execute(
                update(CrawlRun).where(CrawlRun.id == run_id).values(**outcome)
            )).rowcount
        if not found:
            session.add(CrawlRun(source_id=context.source_id, started_at=started, **outcome))
        if status in KEEPS_STATE:
            kept: dict[str, Any] = {"state": new_state}
            if status == "ok":
                kept["last_success_at"] = started
            session.execute(update(Source).where(Source.id == context.source_id).values(**kept))
        if status == "ok" and context.type == "own_site" and not details.get("incomplete"):
            retire_claims(session, context, set(details.get("claim_keys", [])))


def retire_claims(session: Any, context: SourceContext, seen: set[str]) -> None:
    """Own-site claims of this site that a complete crawl no longer finds are deactivated."""
    for claim in session.scalars(
        select(Claim).where(
            Claim.business_id == context.business_id,
            Claim.origin == "own_site",
            Claim.active.is_(True),
            Claim.evidence_url.startswith(context.target),
        )
    ):
        if claim.claim_key not in seen:
            claim.active = False
