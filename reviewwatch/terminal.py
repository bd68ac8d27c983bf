"""Terminal output: rich tables that stay readable when piped (rich assumes 80 columns then)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from reviewwatch.display import display_text

# Control characters but tab and newline: crawled text may carry terminal escape sequences.
_CONTROL = dict.fromkeys([*range(0, 9), *range(11, 32), 127], "\ufffd")


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, stderr=stderr)


def safe_text(value: Any, style: str = "") -> Text:
    """A table cell for untrusted text: never read as markup nor obeyed, nor reordered."""
    text = "" if value is None else display_text(str(value))
    return Text(text.translate(_CONTROL), style=style)
