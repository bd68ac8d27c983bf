"""The sentiment store's tables, as SQLAlchemy 2.0 typed models.

Schema changes go through Alembic (`storage/migrations/`); nothing calls `create_all`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SENTIMENT_LABELS = ("negative", "neutral", "positive")
CLAIM_ORIGINS = ("declared", "own_site", "survey")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Business(Base):
    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(2000))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sources: Mapped[list[Source]] = relationship(back_populates="business")


class Source(Base):
    """One place a business is talked about: a spider type and its target."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("business_id", "type", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2000))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Incremental crawl state (e.g. a since_id cursor), written only by a successful run.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_success_at: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    business: Mapped[Business] = relationship(back_populates="sources")


class Mention(Base):
    """A review or a social post, as last seen; earlier versions are in mention_revisions."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_mentions_business_published", "business_id", "published_at"),
        # Newest-first listings across businesses (analysts' searches) walk this index.
        Index("ix_mentions_published_at", "published_at"),
        Index("ix_mentions_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(2000))
    author: Mapped[str | None] = mapped_column(String(500))
    rating: Mapped[float | None] = mapped_column(Float)
    rating_scale: Mapped[float | None] = mapped_column(Float)
    rating_normalised: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    # The business's own reply or post: kept, but never counted as a customer's voice.
    is_own: Mapped[bool] = mapped_column(Boolean, default=False)
    # A customer's answer to a feedback request: the owner's to read, never a public voice.
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reply_text: Mapped[str | None] = mapped_column(Text)
    # Set when the same text was already stored from another source.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    published_at: Mapped[dt.datetime | None]
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[dt.datetime | None]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    revisions: Mapped[list[MentionRevision]] = relationship(
        back_populates="mention", order_by="MentionRevision.revision"
    )


class MentionRevision(Base):
    """A mention's content as it was before an edit: nothing is lost by a re-crawl."""

    __tablename__ = "mention_revisions"
    __table_args__ = (UniqueConstraint("mention_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    rating: Mapped[float | None] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64))
    seen_from: Mapped[dt.datetime] = mapped_column()
    seen_until: Mapped[dt.datetime] = mapped_column(default=utcnow)

    mention: Mapped[Mention] = relationship(back_populates="revisions")


class Score(Base):
    """One model's reading of one revision of a mention; exactly one score per mention is current."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("mention_id", "model_id", "model_version", "mention_revision"),
        Index(
            "ix_scores_current_mention",
            "mention_id",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_scores_model", "model_id", "model_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    mention_revision: Mapped[int] = mapped_column(Integer, default=1)
    model_id: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(16))
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    stars: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(16))
    topic_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    scored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    topics: Mapped[list[ScoreTopic]] = relationship(
        back_populates="score", cascade="all, delete-orphan"
    )


class ScoreTopic(Base):
    """A topic a score assigns to its mention (above the topic's threshold), for SQL aggregation."""

    __tablename__ = "score_topics"

    score_id: Mapped[int] = mapped_column(
        ForeignKey("scores.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    probability: Mapped[float] = mapped_column(Float)
    # The opinion about this topic (negative/neutral/positive), when the model gave one; scores
    # written before migration 0008, or by a model without per-topic polarity, leave it empty.
    sentiment: Mapped[str | None] = mapped_column(String(16))

    score: Mapped[Score] = relationship(back_populates="topics")


class LabelRule(Base):
    """How a reviewer's rating becomes a mention's label: one row, read by the views (0008).

    On the normalised 0..1 scale: below `negative_below` negative, above `positive_above`
    positive, else neutral. `reviewwatch.sync` keeps it equal to the `gap.rating_labels`
    settings; a change marks the rated mentions' days of the rollup dirty (triggers).
    """

    __tablename__ = "label_rules"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ratings_decide: Mapped[bool] = mapped_column(Boolean, default=True)
    negative_below: Mapped[float] = mapped_column(Float)
    positive_above: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Claim(Base):
    """A service level the business claims (declared, on its own site, or from its own survey)."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("business_id", "claim_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    # A stable identity within the business, so re-reading a claim updates rather than duplicates.
    claim_key: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    scale: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), default="claim")
    period: Mapped[str | None] = mapped_column(String(32))
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    evidence_text: Mapped[str | None] = mapped_column(Text)
    stated_at: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_summary: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class GapSnapshot(Base):
    """The gap report as computed at one moment, so a change of verdict can be noticed."""

    __tablename__ = "gap_snapshots"
    __table_args__ = (Index("ix_gap_snapshots_business_taken", "business_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    taken_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Digest(Base):
    """One email to one recipient; it stays pending until the SMTP server has accepted it."""

    __tablename__ = "digests"
    __table_args__ = (
        Index("ix_digests_status_next", "status", "next_attempt_at"),
        # A business's previous digest to a recipient, its recipients since a time (migration 0015).
        Index("ix_digests_business_recipient", "business_id", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    gap_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("gap_snapshots.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    items: Mapped[list[DigestItem]] = relationship(back_populates="digest")


class DigestItem(Base):
    """A mention in a digest; the unique key makes 'each mention once per recipient' a constraint."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("mention_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))

    digest: Mapped[Digest] = relationship(back_populates="items")


class Correction(Base):
    """An analyst's override of a mention's sentiment or topics; it wins over every model."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_mention_created", "mention_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    analyst: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    label_before: Mapped[str | None] = mapped_column(String(16))
    label_after: Mapped[str | None] = mapped_column(String(16))
    topics_before: Mapped[list[str] | None] = mapped_column(JSON)
    topics_after: Mapped[list[str] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


class SentimentRollup(Base):
    """Pre-aggregated customers' voice per business, UTC day, topic ('' = every mention) and label.

    Corrections included. Triggers (migration 0005) mark the days a change touches in
    `rollup_dirty`; `storage.rollup.refresh_rollup` recomputes those days before a read.
    """

    __tablename__ = "sentiment_rollup"

    business_id: Mapped[int] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(16), primary_key=True)
    mentions: Mapped[int] = mapped_column(Integer)
    stars_sum: Mapped[float] = mapped_column(Float)
    stars_n: Mapped[int] = mapped_column(Integer)


class RollupDirty(Base):
    """A business and day whose rollup is out of date (written by triggers; no foreign key)."""

    __tablename__ = "rollup_dirty"

    business_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class FeedbackInvitation(Base):
    """One customer asked once for feedback: the email's delivery state and the answer's link.

    `token_id` is the random identity a signed link names; `message_id` is minted once and kept
    across retries (at-least-once delivery, like a digest); `answered_at` makes the link
    single-use.
    """

    __tablename__ = "feedback_invitations"
    __table_args__ = (
        Index("ix_feedback_invitations_business_email", "business_id", "email"),
        Index("ix_feedback_invitations_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # pending (stored, not yet accepted by the server), sent, written (dry run)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))


class FeedbackOptOut(Base):
    """A customer who asked not to be asked again by this business; honoured across imports."""

    __tablename__ = "feedback_opt_outs"

    business_id: Mapped[int] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CycleRun(Base):
    """One business's daily cycle: its unique run key (business, local date) claimed once.

    A scheduler claims the key by inserting the row (`storage.cycles.claim_cycle`); a second
    scheduler's insert finds it taken and does nothing, so the cycle runs once however many
    schedulers run. `status`: planned, running, done, failed, missed.
    """

    __tablename__ = "cycle_runs"
    __table_args__ = (
        UniqueConstraint("business_id", "cycle_date"),
        Index("ix_cycle_runs_status_crawl_at", "status", "crawl_at"),
        Index("ix_cycle_runs_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    # The business's local date of the digest slot: the run key with business_id.
    cycle_date: Mapped[dt.date] = mapped_column(Date)
    # When the digest is due (send_at in the business's time zone) and when its crawl is planned.
    due_at: Mapped[dt.datetime]
    crawl_at: Mapped[dt.datetime | None]
    send_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    stages: Mapped[list[CycleStage]] = relationship(back_populates="cycle", order_by="CycleStage.id")


class CycleStage(Base):
    """One stage of a cycle (crawl, score, snapshot, digest) as queued work: at most one row each.

    `attempts` counts the deliveries that started it (a redelivered task after a worker was lost
    makes it 2); `heartbeat_at` tells a live run from a dead one.
    """

    __tablename__ = "cycle_stages"
    __table_args__ = (UniqueConstraint("cycle_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle_runs.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="enqueued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    enqueued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    ok: Mapped[bool | None] = mapped_column(Boolean)
    detail: Mapped[str | None] = mapped_column(Text)

    cycle: Mapped[CycleRun] = relationship(back_populates="stages")


class WorkerSeen(Base):
    """A worker process's heartbeat: `reviewwatch status` lists those seen lately."""

    __tablename__ = "workers_seen"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(String(200))
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    tasks_done: Mapped[int] = mapped_column(Integer, default=0)


class HostActivity(Base):
    """Requests to one host in one UTC hour and the gaps observed between their starts."""

    __tablename__ = "host_activity"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    # Gaps between consecutive request starts to the host, across every worker when a shared
    # budget (Redis) is configured, else within the one process.
    min_gap_s: Mapped[float | None] = mapped_column(Float)
    gap_sum_s: Mapped[float] = mapped_column(Float, default=0.0)
    gaps: Mapped[int] = mapped_column(Integer, default=0)


FOLLOWUP_STATES = ("open", "replied", "resolved", "dismissed")


class FollowupItem(Base):
    """A negative mention (public or feedback) the owner should act on, and where that stands.

    One per mention (`storage.followup.sync_followups` creates them idempotently). `state`:
    open -> replied -> resolved, or dismissed; `first_response_at` is the first reply's time
    (found by the crawler or marked by the owner), what response times are measured from.
    `negative` is false once the mention no longer counts as negative (a correction): the item
    is kept for its history but leaves the response figures.
    """

    __tablename__ = "followup_items"
    __table_args__ = (
        Index("ix_followup_items_business_state", "business_id", "state"),
        CheckConstraint(
            "state IN ('open', 'replied', 'resolved', 'dismissed')", name="state_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), unique=True
    )
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    negative: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200), default="reviewwatch")
    first_response_at: Mapped[dt.datetime | None]

    changes: Mapped[list[FollowupChange]] = relationship(
        back_populates="item", order_by="FollowupChange.id"
    )


class FollowupChange(Base):
    """One change of a follow-up item's state: who (an API token's name, a signed link, the
    crawler, reviewwatch itself), through what, when. Never updated or deleted."""

    __tablename__ = "followup_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("followup_items.id", ondelete="CASCADE"), index=True
    )
    state_before: Mapped[str | None] = mapped_column(String(16))
    state_after: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))  # api, link, crawler, relabel, created
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    item: Mapped[FollowupItem] = relationship(back_populates="changes")


class PublicReply(Base):
    """The business's public answer to a mention, as the crawler found it (Trustpilot's reply,
    an App Store developer response, a post by the business's own Mastodon account)."""

    __tablename__ = "public_replies"
    __table_args__ = (UniqueConstraint("mention_id", "reply_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    # The reply's identity at its source (a status id), or "reply" for a review's one reply.
    reply_key: Mapped[str] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500))
    replied_at: Mapped[dt.datetime | None]
    found_url: Mapped[str | None] = mapped_column(String(2000))
    source_type: Mapped[str] = mapped_column(String(32))
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """A spike of negative mentions (overall, or about one topic) and its email to the owners.

    `topic` is "" for the business's mentions as a whole. The unique key (business, topic,
    alert_day) makes "at most one alert per business and topic per day" a constraint: two
    daemons detecting the same spike race to insert it and one of them loses. Like a digest,
    the alert is stored (pending, its Message-ID minted) before its first delivery attempt;
    `delivered_to` lists the owners whose server accepted it, so a retry resends to the others.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("business_id", "topic", "alert_day"),
        Index("ix_alerts_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64), default="")
    # The business's local date when the spike was found: the "per day" of the unique key.
    alert_day: Mapped[dt.date] = mapped_column(Date)
    window_start: Mapped[dt.datetime]
    window_end: Mapped[dt.datetime]
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    bound: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(200))
    mention_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Topics that spiked with the whole business (topic "" only), told in this email and not
    # alerted again that day: {"topic", "observed", "expected", "bound"} each.
    topics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivered_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    # pending (stored, not accepted by every owner's server yet), sent, cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
