"""The customers file: every bad line reported at once, duplicates merged, hostile names cleaned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reviewwatch.errors import InputError
from reviewwatch.feedback.customers import parse_customers, read_customers


def test_duplicates_merged_case_insensitively_first_line_wins() -> None:
    parsed = parse_customers(
        "email,name,language,visited_on,reference\n"
        "Ann@Example.com,Ann,EN,2026-11-01,R-1\nann@example.com,Other,fr,,\n")
    [ann] = parsed.customers
    assert (ann.email, ann.name, ann.language, ann.visited_on, ann.reference) == (
        "ann@example.com", "Ann", "en", dt.date(2026, 11, 1), "R-1")
    assert parsed.duplicates == 1


def test_every_bad_line_is_reported() -> None:
    with pytest.raises(InputError) as caught:
        parse_customers(
            "email,name,language,visited_on\n"
            "good@example.com,Good,en,\n"
            "@nope,X,en,\n"
            "b@example.com,B,klingon,\n"
            "c@example.com,C,de,yesterday\n")
    message = str(caught.value)
    assert "3 bad line(s); nobody was asked" in message
    assert "line 3: email" in message and "line 4: language" in message
    assert "line 5: visited_on" in message and "line 2" not in message


def test_header_must_name_the_columns() -> None:
    with pytest.raises(InputError, match="missing column\\(s\\) language.*unknown column"):
        parse_customers("email,name,phone\na@example.com,A,123\n")


def test_names_lose_display_controls(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    # A BOM (Excel's UTF-8), a right-to-left override and a line break inside a quoted name.
    path.write_bytes("\ufeffemail,name,language\n"
                     'a@example.com,"Eve\u202e\r\nBcc: x@evil.example",en\n'.encode())
    [eve] = read_customers(path).customers
    assert eve.name == "Eve Bcc: x@evil.example"


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("email,name,language\na@example.com,Jos\xe9,es\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_customers(path)
