"""Signed links to act on one follow-up item from the digest: `{feedback.public_url}/a/{token}`.

Signed with the feedback links' key (`feedback.secret_key`, checked by
`reviewwatch.feedback.tokens.Tokens`) under a salt of their own, so a feedback token is no
follow-up token. A token names the item and the digest's recipient (who the change is recorded
as) and expires `followup.link_expire_days` after the digest was made. The form's CSRF field is
an HMAC of both. A link stops changing an item once it is resolved or dismissed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from reviewwatch.config import Settings
from reviewwatch.feedback.tokens import TokenError, Tokens

_SALT, _CSRF = "reviewwatch.followup.link", "reviewwatch.followup.csrf"
MAX_RECIPIENT = 320


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid token says: the item, and the owner it was sent to."""

    item_id: int
    recipient: str


class FollowupLinks:
    def __init__(self, settings: Settings) -> None:
        Tokens(settings.feedback)  # the same key, refused alike when missing or short
        assert settings.feedback.secret_key is not None
        self._key = settings.feedback.secret_key.get_secret_value()
        self._serializer = URLSafeSerializer(self._key, salt=_SALT)
        self._base = settings.feedback.public_url
        self._days = settings.followup.link_expire_days

    def token(self, item_id: int, recipient: str, now: dt.datetime) -> str:
        expires = now + dt.timedelta(days=self._days)
        return self._serializer.dumps([item_id, recipient[:MAX_RECIPIENT], int(expires.timestamp())])

    def url(self, item_id: int, recipient: str, now: dt.datetime) -> str:
        return f"{self._base}/a/{self.token(item_id, recipient, now)}"

    def read(self, token: str, now: dt.datetime) -> LinkClaim:
        """What the token names; TokenError when forged, malformed or expired."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            raise TokenError("this link is not valid") from None
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
                and isinstance(value[1], str) and isinstance(value[2], int)):
            raise TokenError("this link is not valid")
        if now.timestamp() >= value[2]:
            raise TokenError("this link has expired", expired=True)
        return LinkClaim(value[0], value[1])

    def csrf(self, claim: LinkClaim) -> str:
        message = f"{_CSRF}:{claim.item_id}:{claim.recipient}".encode()
        return hmac.new(self._key.encode(), message, hashlib.sha256).hexdigest()

    def csrf_ok(self, claim: LinkClaim, value: str) -> bool:
        return hmac.compare_digest(self.csrf(claim), value)
