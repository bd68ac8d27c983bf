"""Terminal output: rich tables that stay readable when piped (rich assumes 80 columns then)."""

from __future__ import annotations

import sys

from rich.console import Console


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, stderr=stderr)
