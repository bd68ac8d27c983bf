"""Reading what the SMTP server received and what the store holds, for assertions."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from storage.db import Store
from storage.models import Digest

TOKEN = re.compile(r"mention-(\d+)")


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def tokens(message: EmailMessage) -> set[int]:
    return {int(n) for n in TOKEN.findall(plain(message))}


def digests(store: Store) -> list[Digest]:
    with store.session() as session:
        return list(session.scalars(select(Digest).order_by(Digest.id)))
