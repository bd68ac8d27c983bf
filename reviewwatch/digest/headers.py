"""Header hygiene: nothing crawled or configured reaches an email header with a line break in it.

A header value containing CR or LF would let an author name such as
`Mallory\r\nBcc: leak@example.com` add headers of its own; every value set on a message
goes through `clean_header`, and the message policy refuses what slips through.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr

from reviewwatch.display import display_text

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")
_SPACES = re.compile(r"\s{2,}")
MAX_HEADER_CHARS = 200


def clean_header(value: str | None, max_chars: int = MAX_HEADER_CHARS) -> str:
    """One line of text: control characters become spaces, bidi controls go, it is bounded."""
    if not value:
        return ""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", display_text(value))).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


def clean_address(value: str) -> str:
    """A bare `user@domain` address, or "" when the value holds none."""
    _name, address = parseaddr(clean_header(value, 320))
    if "@" not in address or any(c.isspace() for c in address):
        return ""
    return address


def message_domain(sender: str) -> str:
    """The domain a Message-ID is minted under: the sender's, else `reviewwatch.invalid`."""
    address = clean_address(sender)
    domain = address.rpartition("@")[2] if address else ""
    return re.sub(r"[^A-Za-z0-9.-]", "", domain) or "reviewwatch.invalid"


def new_message_id(sender: str) -> str:
    """A globally unique Message-ID, minted once per digest and kept across retries."""
    return make_msgid(idstring="reviewwatch", domain=message_domain(sender))


def from_header(display_name: str, sender: str) -> Address:
    """The From header: a cleaned display name and the configured sender address."""
    address = clean_address(sender) or "reviewwatch@localhost"
    user, _, domain = address.rpartition("@")
    return Address(display_name=clean_header(display_name, 100), username=user, domain=domain)
