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

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reviewwatch.digest.gapinfo import GapSection
from reviewwatch.display import finalize
from reviewwatch.digest.headers import clean_address, clean_header, from_header

TEMPLATES = Path(__file__).parent / "templates"
# SMTP policy: CRLF line ends, and header values with line breaks are refused outright.
POLICY = email.policy.SMTP


@dataclass(frozen=True, slots=True)
class MentionView:
    source: str
    date: str
    rating: str | None
    language: str
    author: str
    title: str
    text: str
    excerpted: bool
    url: str | None


@dataclass(frozen=True, slots=True)
class TopicGroup:
    topic: str
    mentions: list[MentionView]


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
    groups: list[TopicGroup]
    gap: GapSection
    failures: list[FailureView] = field(default_factory=list)
    since: str | None = None
    # Negative answers to feedback requests: listed first (templates/feedback_first.*.j2).
    feedback: list[MentionView] = field(default_factory=list)

    @property
    def negative_count(self) -> int:
        return sum(len(group.mentions) for group in self.groups) + len(self.feedback)


def subject_for(business_name: str, negative: int, at_risk: int) -> str:
    """What is inside, in one line: business, number of negative mentions, claims at risk."""
    name = clean_header(business_name, 100)
    if negative == 0 and at_risk == 0:
        return f"{name}: all quiet, no negative mentions"
    text = f"{name}: {negative} negative mention{'' if negative == 1 else 's'}"
    if at_risk:
        text += f", {at_risk} claim{'' if at_risk == 1 else 's'} at risk"
    return text


def render(content: DigestContent, subject: str) -> tuple[str, str]:
    """The plain-text and HTML bodies, headed by the subject."""
    env = _environment()
    values = {"c": content, "subject": subject}
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
    return env


def _indent_lines(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else "" for line in text.splitlines())
