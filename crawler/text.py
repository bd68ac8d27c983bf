"""Text helpers shared by spiders and pipelines: HTML to text, whitespace, dates, languages."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import unicodedata

from lxml import html as lxml_html
from lxml.etree import ParserError

_WS = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_LINES = re.compile(r"\s*\n\s*(\n\s*)+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK_TAGS = ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote")
_DROP_TAGS = ("script", "style", "noscript", "template")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: scripts and styles dropped, blocks on their own lines."""
    if "<" not in markup and "&" not in markup:
        return markup
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (ParserError, ValueError):
        return markup
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def clean_text(value: str) -> str:
    """NFC, no control characters, runs of spaces collapsed, at most one blank line."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    value = _WS.sub(" ", value)
    value = "\n".join(line.strip() for line in value.split("\n"))
    return _LINES.sub("\n\n", value).strip()


def one_line(value: str | None, limit: int, *, html: bool = False) -> str | None:
    """A short field (author, title): one line (CR and LF become spaces), bounded; empty is None."""
    if value is None:
        return None
    value = str(value)
    value = " ".join(clean_text(html_to_text(value) if html else value).split())
    return value[:limit] or None


def parse_date(value: object) -> dt.datetime | None:
    """An ISO 8601 or RFC 2822 date as an aware UTC datetime (naive ones are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def language_code(value: object) -> str | None:
    """'fr-FR', 'sv_SE' or 'EN' as the primary subtag ('fr', 'sv', 'en')."""
    if not isinstance(value, str) or not value.strip():
        return None
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def fold(value: str) -> str:
    """Case- and accent-insensitive form, for matching a business's name in free text."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def mentions_any(text: str, keywords: list[str]) -> bool:
    """Whether the text names one of the keywords as a whole word (or hashtag)."""
    folded = fold(text)
    for keyword in keywords:
        key = fold(keyword).strip()
        if key and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", folded):
            return True
    return False
