"""Values kept for the length of one transaction of a session.

A report asks for the same small rows several times (the label rule, a business by its slug),
and the session keeps a row only while something references it, so each ask went to the store
again. `per_transaction` gives a dict held in `Session.info` and tied to the session's current
transaction: a new transaction starts with an empty one, so nothing read is kept past the
transaction that read it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def per_transaction(session: Session, key: str) -> dict[Any, Any]:
    """The dict `key` of the session's current transaction; a fresh, unkept one outside any."""
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    kept = session.info.get(key)
    if kept is None or kept[0] is not transaction:
        kept = session.info[key] = (transaction, {})
    memo: dict[Any, Any] = kept[1]
    return memo


def forget(session: Session, key: str) -> None:
    """Drop what the current transaction kept under `key` (it is read again on the next ask)."""
    session.info.pop(key, None)
