"""Crawled text made fit to show: the invisible controls that reorder text are taken out.

An author can put a right-to-left override (U+202E) or isolate (U+2066..U+2069) in a review so
that the dashboard, the gap report or a digest shows "terrible" as "elbirret", or moves the
words of the next column into this one. The store keeps the text as crawled; whatever shows it
calls `display_text` (the report's and the digest's Jinja environments through `finalize`, the
terminal's `safe_text`, email headers), and the dashboard's `displayText` in
api/static/dashboard.js strips the same characters, which a test keeps in step with this file.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

# Unicode's Bidi_Control property: the embeddings, overrides and isolates and the three marks
# (left-to-right, right-to-left, Arabic letter). Letters keep their own direction without them.
BIDI_CONTROLS = (
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
_DROP = dict.fromkeys(map(ord, BIDI_CONTROLS))


def display_text(value: str) -> str:
    """`value` without the characters that reorder what follows them."""
    return value.translate(_DROP)


def finalize(value: Any) -> Any:
    """Jinja's `finalize`: every string a template outputs is shown through `display_text`."""
    if isinstance(value, Markup):
        return Markup(display_text(str(value)))
    return display_text(value) if isinstance(value, str) else value
