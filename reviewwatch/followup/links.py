"""Signed links to act on one follow-up item from the digest: `{feedback.public_url}/a/{token}`.

Signed as the feedback links are (`reviewwatch.feedback.tokens`: itsdangerous, the same
`feedback.secret_key`, the same minimum length) under a salt of their own, so a feedback token
is no follow-up token. (The feedback package reads the digest's: importing it from here would
close an import circle, hence these few lines of its own.)

A token names the item, the digest's recipient by a keyed hash (a link is readable base64: it
must not carry an address into logs; `recipient_of` finds the owner again, recorded as who
changed the item) and an expiry `followup.link_expire_days` after the digest was made. The
form's CSRF field is an HMAC of item and recipient. A link stops changing an item once it is
resolved or dismissed (the page says so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from reviewwatch.config import Settings
from reviewwatch.errors import ConfigError

_SALT, _CSRF, _WHO = "reviewwatch.followup.link", "reviewwatch.followup.csrf", "recipient"
MIN_KEY_CHARS = 32  # as reviewwatch.feedback.tokens
TAG_CHARS = 20
# Who a change through a link is recorded as when its recipient is no longer an owner.
UNKNOWN_RECIPIENT = "a digest's link"


class LinkError(Exception):
    """A link that is forged, malformed or expired (`expired` says which)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid token says: the item, and the tag of the owner it was sent to."""

    item_id: int
    recipient_tag: str


class FollowupLinks:
    def __init__(self, settings: Settings) -> None:
        secret = settings.feedback.secret_key
        self._key = secret.get_secret_value() if secret else ""
        if len(self._key) < MIN_KEY_CHARS:
            raise ConfigError(
                "follow-up links need a secret key of at least 32 characters in "
                "REVIEWWATCH_FEEDBACK__SECRET_KEY (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        self._serializer = URLSafeSerializer(self._key, salt=_SALT)
        self._base = settings.feedback.public_url
        self._days = settings.followup.link_expire_days

    def token(self, item_id: int, recipient: str, now: dt.datetime) -> str:
        expires = now + dt.timedelta(days=self._days)
        return self._serializer.dumps([item_id, self.tag(recipient), int(expires.timestamp())])

    def url(self, item_id: int, recipient: str, now: dt.datetime) -> str:
        return f"{self._base}/a/{self.token(item_id, recipient, now)}"

    def read(self, token: str, now: dt.datetime) -> LinkClaim:
        """What the token names; LinkError when forged, malformed or expired."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            raise LinkError("this link is not valid") from None
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
                and isinstance(value[1], str) and isinstance(value[2], int)):
            raise LinkError("this link is not valid")
        if now.timestamp() >= value[2]:
            raise LinkError("this link has expired", expired=True)
        return LinkClaim(value[0], value[1])

    def tag(self, recipient: str) -> str:
        message = f"{_WHO}:{recipient.strip().lower()}".encode()
        return hmac.new(self._key.encode(), message, hashlib.sha256).hexdigest()[:TAG_CHARS]

    def recipient_of(self, claim: LinkClaim, owners: Iterable[str]) -> str:
        """The owner the link was sent to, if still an owner of the business."""
        for owner in owners:
            if hmac.compare_digest(self.tag(owner), claim.recipient_tag):
                return owner
        return UNKNOWN_RECIPIENT

    def csrf(self, claim: LinkClaim) -> str:
        message = f"{_CSRF}:{claim.item_id}:{claim.recipient_tag}".encode()
        return hmac.new(self._key.encode(), message, hashlib.sha256).hexdigest()

    def csrf_ok(self, claim: LinkClaim, value: str) -> bool:
        return hmac.compare_digest(self.csrf(claim), value)
