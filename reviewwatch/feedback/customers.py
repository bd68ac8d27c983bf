"""The customers file of `reviewwatch ask`: CSV `email,name,language[,visited_on,reference]`.

The whole file is checked before anyone is asked: every bad line is reported at once, and a
file with any bad line asks nobody. The same address twice is one customer (the first line wins).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from reviewwatch.errors import InputError

LANGUAGES = ("en", "fr", "sv", "ru", "de", "es")
REQUIRED = ("email", "name", "language")
OPTIONAL = ("visited_on", "reference")
MAX_FILE_BYTES = 20_000_000
MAX_NAME_CHARS = 200
MAX_REFERENCE_CHARS = 200
MAX_ERRORS_SHOWN = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str
    language: str
    visited_on: dt.date | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerList:
    customers: list[Customer]
    duplicates: int


def read_customers(path: Path) -> CustomerList:
    """The file's customers, merged by address; InputError naming every bad line otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the customers file: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES} bytes; split it")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_customers(content, str(path))


def parse_customers(content: str, name: str = "customers") -> CustomerList:
    reader = csv.DictReader(io.StringIO(content, newline=""), restkey="\x00extra")
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
        raise InputError(
            f"{name}: header: {'; '.join(problems)} (expected {', '.join(REQUIRED)}"
            f" and optionally {', '.join(OPTIONAL)})"
        )
    reader.fieldnames = header
    errors: list[str] = []
    merged: dict[str, Customer] = {}
    duplicates = 0
    for row in reader:
        line = reader.line_num
        customer, problems = _customer(row)
        if problems:
            errors.append(f"line {line}: {'; '.join(problems)}")
        elif customer is not None:
            if customer.email in merged:
                duplicates += 1
            else:
                merged[customer.email] = customer
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise InputError(
            f"{name}: {len(errors)} bad line(s); nobody was asked:\n" + "\n".join(shown) + more
        )
    return CustomerList(list(merged.values()), duplicates)


def _customer(row: dict[str, str | list[str] | None]) -> tuple[Customer | None, list[str]]:
    if row.get("\x00extra"):
        return None, ["more fields than columns"]
    values = {k: v.strip() if isinstance(v, str) else "" for k, v in row.items()}
    problems: list[str] = []
    email = ""
    try:
        email = validate_email(values.get("email", ""), check_deliverability=False).normalized
        email = email.lower()
    except EmailNotValidError as exc:
        problems.append(f"email: {_printable(str(exc))}")
    name = _printable(values.get("name", ""))
    if len(name) > MAX_NAME_CHARS:
        problems.append(f"name: longer than {MAX_NAME_CHARS} characters")
    language = values.get("language", "").lower()
    if language not in LANGUAGES:
        problems.append(
            f"language: {_printable(language)[:20]!r} is not one of {', '.join(LANGUAGES)}"
        )
    visited_on = None
    if values.get("visited_on"):
        try:
            visited_on = dt.date.fromisoformat(values["visited_on"])
        except ValueError:
            problems.append("visited_on: not a date YYYY-MM-DD")
    reference = _printable(values.get("reference", "")) or None
    if reference and len(reference) > MAX_REFERENCE_CHARS:
        problems.append(f"reference: longer than {MAX_REFERENCE_CHARS} characters")
    if problems:
        return None, problems
    return Customer(email, name, language, visited_on, reference), []


def _printable(value: str) -> str:
    """Display controls (bidi overrides, line breaks, zero-width) removed: names reach headers."""
    return " ".join(_CONTROL.sub(" ", value).split())
