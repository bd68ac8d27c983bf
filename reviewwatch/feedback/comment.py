"""A customer's comment is hostile text: display controls removed, line ends unified, bounded."""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab and line feed, DEL, C1, zero-width and bidirectional controls, the
# Unicode line/paragraph separators: they reorder or hide text where it is shown later.
_DISPLAY_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064"
    r"\u2066-\u2069\ufeff]"
)


def clean_comment(value: str) -> str:
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    text = _DISPLAY_CONTROLS.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
