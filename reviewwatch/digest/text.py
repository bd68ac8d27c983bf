"""Making crawled text fit to show: bounded, one-line where it must be, links only if http(s)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL_KEEP_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = re.compile(r"\r\n?|\u0085")
MAX_URL_CHARS = 2000


def one_line(value: str | None, max_chars: int = 200) -> str:
    """A single line (authors, titles, sources): control characters and breaks become spaces."""
    from reviewwatch.digest.headers import clean_header

    return clean_header(value, max_chars)


def body_text(value: str | None) -> str:
    """Multi-line text with line ends normalised to \\n and other control characters dropped."""
    if not value:
        return ""
    return _CONTROL_KEEP_NEWLINES.sub("", _LINE_BREAKS.sub("\n", value)).strip()


def excerpt(value: str, max_chars: int) -> tuple[str, bool]:
    """The text, or its first `max_chars` cut at a word boundary; and whether it was cut."""
    if len(value) <= max_chars:
        return value, False
    cut = value[:max_chars]
    space = cut.rfind(" ")
    if space > max_chars * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…", True


def safe_link(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without control characters, else None."""
    if not url or len(url) > MAX_URL_CHARS or _CONTROL_KEEP_NEWLINES.search(url) or "\n" in url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()
