"""CSV that a spreadsheet cannot run: every CSV reviewwatch writes goes through `csv_writer`.

A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (crawled text such as `=HYPERLINK("http://evil…")`). Such a
text cell is written with a leading single quote, the OWASP rule for CSV injection; numbers stay
numbers. JSON and Parquet keep the text exact: only CSV is opened by spreadsheets.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value`, with a quote before a text that a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: csv_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def csv_writer(out: IO[str], fieldnames: Sequence[str]) -> csv.DictWriter:  # type: ignore[type-arg]
    """A `csv.DictWriter` (extra keys ignored) whose cells are neutralised by `csv_cell`."""
    return _SafeDictWriter(out, fieldnames=fieldnames, extrasaction="ignore")
