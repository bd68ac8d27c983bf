"""Signed tokens for feedback links, one-click opt-outs and the form's CSRF field.

Setting: `feedback.secret_key` (environment only). A link's token names one invitation by its
random `token_id` and carries its expiry (`feedback.expire_days` after it was stored); the
signature proves both were minted here, and the same invitation always gets the same token (a
resent request is identical). The store makes it single-use (`answered_at`).
"""

from __future__ import annotations

import hashlib
import hmac
import datetime as dt
import secrets

from itsdangerous import BadSignature, URLSafeSerializer

from reviewwatch.config import FeedbackSettings
from reviewwatch.errors import ConfigError

MIN_KEY_CHARS = 32
_LINK, _OPT_OUT, _CSRF = "reviewwatch.feedback.link", "reviewwatch.feedback.opt-out", "csrf"


class TokenError(Exception):
    """A token that is forged, malformed or expired (`expired` says which)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def new_token_id() -> str:
    return secrets.token_urlsafe(18)


class Tokens:
    def __init__(self, settings: FeedbackSettings) -> None:
        key = settings.secret_key.get_secret_value() if settings.secret_key else ""
        if len(key) < MIN_KEY_CHARS:
            raise ConfigError(
                "feedback links need a secret key of at least 32 characters in "
                "REVIEWWATCH_FEEDBACK__SECRET_KEY (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        self._key = key
        self._link = URLSafeSerializer(key, salt=_LINK)
        self._opt_out = URLSafeSerializer(key, salt=_OPT_OUT)

    def link_token(self, token_id: str, expires_at: dt.datetime) -> str:
        return self._link.dumps([token_id, int(expires_at.timestamp())])

    def read_link(self, token: str, now: dt.datetime) -> str:
        """The invitation's token id; TokenError when forged, malformed or expired."""
        try:
            value = self._link.loads(token)
        except BadSignature:
            raise TokenError("this link is not valid") from None
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
            raise TokenError("this link is not valid")
        if now.timestamp() >= value[1]:
            raise TokenError("this link has expired", expired=True)
        return _token_id(value[0])

    def opt_out_token(self, token_id: str) -> str:
        """An opt-out link outlives the feedback link: unsubscribing never expires."""
        return self._opt_out.dumps(token_id)

    def read_opt_out(self, token: str) -> str:
        try:
            return _token_id(self._opt_out.loads(token))
        except BadSignature:
            raise TokenError("this link is not valid") from None

    def csrf(self, token_id: str) -> str:
        """The form's hidden field: bound to the invitation, so a page elsewhere cannot forge it."""
        digest = hmac.new(self._key.encode(), f"{_CSRF}:{token_id}".encode(), hashlib.sha256)
        return digest.hexdigest()

    def csrf_ok(self, token_id: str, value: str) -> bool:
        return hmac.compare_digest(self.csrf(token_id), value)


def _token_id(value: object) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        raise TokenError("this link is not valid")
    return value
