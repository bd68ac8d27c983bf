"""Bearer tokens for the API: `api.read_tokens` may read, `api.write_tokens` may also correct.

A token is configured as `name:secret` (the name is recorded with the analyst's corrections) or
as a bare secret (then named `read-token-N` / `write-token-N`). Secrets come from the
environment only and are compared in constant time; they are never logged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reviewwatch.config import ApiSettings


@dataclass(frozen=True, slots=True)
class Analyst:
    name: str
    can_write: bool


@dataclass(frozen=True, slots=True)
class _Token:
    analyst: Analyst
    secret: bytes


def _parse(raw: str, kind: str, index: int) -> _Token:
    name, sep, secret = raw.partition(":")
    if not sep or not name.strip() or not secret:
        name, secret = f"{kind}-token-{index}", raw
    return _Token(Analyst(name.strip()[:200], kind == "write"), secret.encode("utf-8"))


class TokenAuth:
    """Knows the configured tokens and says who presents one."""

    def __init__(self, api: ApiSettings) -> None:
        self._tokens = [
            _parse(token.get_secret_value(), kind, index)
            for kind, tokens in (("write", api.write_tokens), ("read", api.read_tokens))
            for index, token in enumerate(tokens, start=1)
            if token.get_secret_value()
        ]

    @property
    def configured(self) -> bool:
        return bool(self._tokens)

    def identify(self, presented: str) -> Analyst | None:
        """The analyst owning `presented`, or None; every token is compared (constant time)."""
        candidate = presented.encode("utf-8")
        found: Analyst | None = None
        for token in self._tokens:
            if hmac.compare_digest(token.secret, candidate) and found is None:
                found = token.analyst
        return found


_bearer = HTTPBearer(auto_error=False, description="A token from api.read_tokens or api.write_tokens.")


async def require_reader(  # async: checking a token needs no worker thread
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Analyst:
    auth: TokenAuth = request.app.state.auth
    analyst = auth.identify(credentials.credentials) if credentials else None
    if analyst is None:
        raise HTTPException(
            status_code=401,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return analyst


async def require_writer(analyst: Analyst = Depends(require_reader)) -> Analyst:
    if not analyst.can_write:
        raise HTTPException(status_code=403, detail="this token may read but not correct")
    return analyst
