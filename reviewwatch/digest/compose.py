"""Render a digest as a multipart email (plain text + HTML) from the Jinja2 templates beside it.

The HTML template is autoescaped: every crawled string is escaped, and only http(s) links
become anchors. Headers are set from cleaned values only (`headers.py`).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import functools
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reviewwatch.digest.headers import clean_address, clean_header, from_header
from reviewwatch.digest.locale import DEFAULT_LANGUAGE, Texts
from reviewwatch.display import finalize

TEMPLATES = Path(__file__).parent / "templates"
# SMTP policy: CRLF line ends, and header values with line breaks are refused outright.
POLICY = email.policy.SMTP


@dataclass(frozen=True, slots=True)
class MentionView:
    """One mention as the digest quotes it (once), under its number."""

    number: int
    source: str  # the platform's name or the site's host: what its link is labelled with
    date: str
    rating: str | None
    language: str
    author: str
    title: str
    text: str
    excerpted: bool
    url: str | None
    topics: list[str] = field(default_factory=list)  # the topics it is negative about, in words
    mention_id: int | None = None


@dataclass(frozen=True, slots=True)
class TopicCount:
    """A topic in words and the numbers of the mentions negative about it."""

    topic: str
    numbers: list[int]


@dataclass(frozen=True, slots=True)
class QuoteView:
    """Evidence against a claim from a mention not listed in this digest, quoted once."""

    number: int
    text: str
    source: str | None
    language: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class RiskLine:
    claim: str
    verdict: str  # "overstated", or "supported → overstated", in the owner's language
    reason: str | None
    refs: list[int]  # numbers of the mentions and quotes that speak against it
    quotes: list[QuoteView] = field(default_factory=list)  # those quoted here for the first time

    @property
    def refs_text(self) -> str:
        return ", ".join(f"#{n}" for n in self.refs)


@dataclass(frozen=True, slots=True)
class GapView:
    summary: list[str] = field(default_factory=list)
    at_risk: list[RiskLine] = field(default_factory=list)
    note: str | None = None
    benchmark: str | None = None  # the business beside its competitors, one line in the owner's words


@dataclass(frozen=True, slots=True)
class FailureView:
    source: str
    target: str
    when: str
    status: str
    summary: str


@dataclass(frozen=True, slots=True)
class DigestContent:
    business_name: str
    mentions: list[MentionView] = field(default_factory=list)  # public ones, newest first
    gap: GapView = field(default_factory=GapView)
    failures: list[FailureView] = field(default_factory=list)
    since: str | None = None
    feedback: list[MentionView] = field(default_factory=list)  # answers to feedback requests
    topics: list[TopicCount] = field(default_factory=list)
    language: str = DEFAULT_LANGUAGE
    # Per mention id: its follow-up (reviewwatch.digest.followup.FollowupView, in the owner's
    # words), for the partials.
    followup: dict[int, Any] = field(default_factory=dict)

    @property
    def negative_count(self) -> int:
        return len(self.mentions) + len(self.feedback)


def subject_for(
    business_name: str, negative: int, at_risk: int, language: str = DEFAULT_LANGUAGE
) -> str:
    """What is inside, in one line: business, number of negative mentions, claims at risk."""
    t = Texts(language)
    name = clean_header(business_name, 100)
    if negative == 0 and at_risk == 0:
        return t("subject_quiet", name=name)
    text = t.plural("subject_negative", negative, name=name)
    if at_risk:
        text += ", " + t.plural("subject_at_risk", at_risk)
    return text


def render(content: DigestContent, subject: str) -> tuple[str, str]:
    """The plain-text and HTML bodies, headed by the subject."""
    env = _environment()
    values = {"c": content, "subject": subject, "t": Texts(content.language)}
    text = env.get_template("digest.txt.j2").render(values)
    return text, env.get_template("digest.html.j2").render(values)


def build_message(
    content: DigestContent,
    *,
    subject: str,
    sender: str,
    recipient: str,
    message_id: str,
    date: dt.datetime,
) -> EmailMessage:
    """The email as it is sent (and resent: the same Message-ID and Date on every attempt)."""
    subject = clean_header(subject, 300)
    text, html = render(content, subject)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    message["From"] = from_header("reviewwatch", sender)
    message["To"] = clean_address(recipient)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = clean_header(message_id, 250)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        finalize=finalize,  # no crawled string reorders what the email shows (text and HTML)
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["indent_lines"] = _indent_lines
    env.filters["first_upper"] = lambda text: text[:1].upper() + text[1:]  # not str.capitalize:
    # German nouns keep their capital ("Siehe Erwähnungen")
    return env


def _indent_lines(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else "" for line in text.splitlines())
