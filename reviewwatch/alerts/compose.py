"""An alert's email (plain text and HTML from the Jinja2 templates beside it), rebuilt identically
from the stored alert on every attempt (same Message-ID, Date and mentions).

The mentions are described and made safe as the digest's are (`digest.select.describe_mentions`,
`digest.gather.mention_view`: bounded excerpts, one-line fields, http(s) links only); the HTML
template is autoescaped and every string goes through `display.finalize` (no bidi controls).
At most `alerts.max_listed` mentions are quoted, newest first.
"""

from __future__ import annotations

import email.policy
import functools
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from reviewwatch.config import Settings
from reviewwatch.digest.compose import MentionView
from reviewwatch.digest.gather import digest_config, mention_view
from reviewwatch.digest.locale import DEFAULT_LANGUAGE, Texts
from reviewwatch.digest.headers import clean_address, clean_header, from_header
from reviewwatch.digest.select import describe_mentions
from reviewwatch.digest.text import one_line
from reviewwatch.display import finalize
from storage.models import Alert, Business

TEMPLATES = Path(__file__).parent / "templates"
POLICY = email.policy.SMTP
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


@dataclass(frozen=True, slots=True)
class TopicLine:
    """A topic that spiked with the whole business, told in its alert."""

    topic: str
    observed: int
    expected: float


@dataclass(frozen=True, slots=True)
class AlertContent:
    business_name: str
    topic: str  # in words; "" for all mentions
    observed: int
    expected: float
    bound: float
    method: str
    since: str
    until: str
    history_days: int
    rarity: int  # 1 / (1 - alerts.level): the bound is exceeded once in this many days
    mentions: list[MentionView]
    also: list[TopicLine]
    total: int  # triggering mentions, of which `mentions` lists the newest


def topic_words(topic: str) -> str:
    return one_line(topic.replace("_", " "), 64)


def subject_for(business_name: str, topic: str, observed: int) -> str:
    about = f" about {topic_words(topic)}" if topic else ""
    name = clean_header(business_name, 100)
    return f"Spike alert: {name}: {observed} negative mentions{about} in 24 hours"


def content_for(session: Session, settings: Settings, alert: Alert) -> AlertContent:
    business = session.get_one(Business, alert.business_id)
    config = digest_config(settings, business.slug)
    tz = ZoneInfo(business.timezone or "UTC")
    newest = list(alert.mention_ids)[: settings.alerts.max_listed]
    described = describe_mentions(session, newest, config)
    order = {mention_id: i for i, mention_id in enumerate(newest)}
    described.sort(key=lambda item: order[item.mention.id])
    return AlertContent(
        business_name=business.name,
        topic=topic_words(alert.topic) if alert.topic else "",
        observed=alert.observed,
        expected=alert.expected,
        bound=alert.bound,
        method=alert.method,
        since=alert.window_start.astimezone(tz).strftime(TIME_FORMAT),
        until=alert.window_end.astimezone(tz).strftime(TIME_FORMAT),
        history_days=settings.alerts.history_days,
        rarity=round(1 / (1 - settings.alerts.level)),
        # one message to every owner (one Message-ID), so in the default language
        mentions=[mention_view(n, item, config, tz, Texts(DEFAULT_LANGUAGE))
                  for n, item in enumerate(described, 1)],
        also=[TopicLine(topic_words(str(t["topic"])), int(t["observed"]), float(t["expected"]))
              for t in alert.topics or []],
        total=len(alert.mention_ids),
    )


def build_message(
    session: Session, settings: Settings, alert: Alert, recipients: list[str]
) -> EmailMessage:
    """The email of a stored (or, in a dry run, unsaved) alert."""
    subject = clean_header(alert.subject, 300)
    content = content_for(session, settings, alert)
    env = _environment()
    values = {"c": content, "subject": subject}
    text = env.get_template("alert.txt.j2").render(values)
    html = env.get_template("alert.html.j2").render(values)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    message["From"] = from_header("reviewwatch", settings.smtp.sender)
    message["To"] = ", ".join(a for a in (clean_address(r) for r in recipients) if a)
    message["Date"] = format_datetime(alert.created_at)
    message["Message-ID"] = clean_header(alert.message_id, 250)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Priority"] = "2"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        finalize=finalize,  # no crawled string reorders what the email shows
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
