"""The customers' feedback page: GET/POST /f/{token}, and the one-click opt-out.

No API token here: the signed link is the credential (`reviewwatch.feedback.tokens`). A forged,
expired or used link gets a 4xx page and stores nothing; posts are limited per client address
(`feedback.answers_per_minute`); the comment is cleaned and bounded (`feedback.max_comment_chars`).
After answering, every respondent sees the same optional invitation to review publicly
(`feedback.public_review_url`), whatever the score: no review gating.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from reviewwatch.config import Settings
from reviewwatch.feedback.comment import clean_comment
from reviewwatch.feedback.i18n import words
from reviewwatch.feedback.tokens import TokenError, Tokens
from storage.db import Store
from storage.feedback import SCALES, invitation_by_token, record_answer, record_opt_out
from storage.models import Business, utcnow

router = APIRouter(include_in_schema=False)
# Autoescape on whatever the file is named: business names and messages are hostile text.
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "feedback" / "templates"),
    autoescape=True, undefined=StrictUndefined))
MAX_BODY_BYTES = 64_000
CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


class RateLimit:
    """At most `limit` events per address in a sliding minute (in this process)."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}
        self._lock = Lock()

    def allow(self, address: str, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._events) > 10_000:  # forget idle addresses: memory stays bounded
                self._events = {a: q for a, q in self._events.items() if q and q[-1] > now - 60}
            events = self._events.setdefault(address, deque())
            while events and events[0] <= now - 60:
                events.popleft()
            if len(events) >= limit:
                return False
            events.append(now)
            return True


def _allowed(request: Request) -> bool:
    """Within this app's per-address limit (each app counts apart: tests run several)."""
    settings: Settings = request.app.state.settings
    limit: RateLimit | None = getattr(request.app.state, "feedback_rate_limit", None)
    if limit is None:
        limit = request.app.state.feedback_rate_limit = RateLimit()
    return limit.allow(_address(request), settings.feedback.answers_per_minute)


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    token_id: str
    business: str
    language: str
    answered: bool
    slug: str = ""


@router.get("/f/{token}", response_class=HTMLResponse)
def feedback_form(request: Request, token: str) -> HTMLResponse:
    found = _invitation(request, token)
    if isinstance(found, HTMLResponse):
        return found
    return _form(request, token, found)


@router.post("/f/{token}", response_class=HTMLResponse)
async def feedback_answer(request: Request, token: str) -> HTMLResponse:
    if not _allowed(request):
        return _page(request, "error", "en", "", status=429, key="too_many")
    form = await _form_fields(request)
    return await run_in_threadpool(_answer, request, token, form)


def _answer(request: Request, token: str, form: dict[str, str]) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    found = _invitation(request, token)
    if isinstance(found, HTMLResponse):
        return found
    if not _tokens(request).csrf_ok(found.token_id, form.get("csrf_token", "")):
        return _page(request, "error", found.language, found.business, status=403, key="invalid")
    question = settings.feedback_question(found.slug)
    low, high = SCALES[question]
    score = form.get("score", "")
    comment = clean_comment(form.get("comment", ""))
    if not score.isdigit() or not low <= int(score) <= high:
        return _form(request, token, found, key="bad_form", status=422)
    if len(comment) > settings.feedback.max_comment_chars:
        return _form(request, token, found, key="bad_form", status=422)
    store: Store = request.app.state.store
    with store.transaction() as session:
        mention = record_answer(session, found.id, score=int(score), comment=comment,
                                question=question, now=utcnow())
    if mention is None:
        return _page(request, "error", found.language, found.business, status=409, key="used")
    return _page(request, "done", found.language, found.business,
                 public_review_url=settings.feedback.public_review_url)


@router.get("/feedback/opt-out/{token}", response_class=HTMLResponse)
def opt_out_confirm(request: Request, token: str) -> HTMLResponse:
    """A GET changes nothing (mail scanners follow links): it shows the button that does."""
    found = _opt_out_invitation(request, token)
    if isinstance(found, HTMLResponse):
        return found
    return _page(request, "opt_out_confirm", found.language, found.business,
                 action=f"/feedback/opt-out/{token}")


@router.post("/feedback/opt-out/{token}", response_class=HTMLResponse)
async def opt_out(request: Request, token: str) -> HTMLResponse:
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` here."""
    if not _allowed(request):
        return _page(request, "error", "en", "", status=429, key="too_many")
    await _form_fields(request)
    return await run_in_threadpool(_opt_out, request, token)


def _opt_out(request: Request, token: str) -> HTMLResponse:
    found = _opt_out_invitation(request, token)
    if isinstance(found, HTMLResponse):
        return found
    store: Store = request.app.state.store
    with store.transaction() as session:
        invitation = invitation_by_token(session, found.token_id)
        assert invitation is not None
        record_opt_out(session, invitation.business_id, invitation.email, utcnow())
    return _page(request, "message", found.language, found.business, key="opted_out")


# ------------------------------------------------------------------------------- helpers


def _tokens(request: Request) -> Tokens:
    settings: Settings = request.app.state.settings
    return Tokens(settings.feedback)


def _invitation(request: Request, token: str) -> Invitation | HTMLResponse:
    try:
        token_id = _tokens(request).read_link(token, utcnow())
    except TokenError as exc:
        return _page(request, "error", "en", "", status=410 if exc.expired else 404,
                     key="expired" if exc.expired else "invalid")
    found = _lookup(request, token_id)
    if found is None:
        return _page(request, "error", "en", "", status=404, key="invalid")
    if found.answered:
        return _page(request, "error", found.language, found.business, status=409, key="used")
    return found


def _opt_out_invitation(request: Request, token: str) -> Invitation | HTMLResponse:
    try:
        token_id = _tokens(request).read_opt_out(token)
    except TokenError:
        return _page(request, "error", "en", "", status=404, key="invalid")
    found = _lookup(request, token_id)
    return found or _page(request, "error", "en", "", status=404, key="invalid")


def _lookup(request: Request, token_id: str) -> Invitation | None:
    store: Store = request.app.state.store
    with store.session() as session:
        invitation = invitation_by_token(session, token_id)
        if invitation is None:
            return None
        business = session.get_one(Business, invitation.business_id)
        return Invitation(invitation.id, invitation.token_id, business.name,
                          invitation.language, invitation.answered_at is not None, business.slug)


def _form(
    request: Request, token: str, found: Invitation, *, key: str | None = None, status: int = 200
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    question = settings.feedback_question(found.slug)
    low, high = SCALES[question]
    w = words(found.language, found.business)
    return _page(
        request, "form", found.language, found.business, status=status,
        action=f"/f/{token}", csrf_token=_tokens(request).csrf(found.token_id),
        question=w[question], scores=list(range(low, high + 1)),
        low=w[f"low_{question}"], high=w[f"high_{question}"],
        max_comment=settings.feedback.max_comment_chars, error=w[key] if key else None,
    )


def _page(
    request: Request, page: str, language: str, business: str, *, status: int = 200,
    key: str | None = None, **values: Any,
) -> HTMLResponse:
    w = words(language, business)
    response = templates.TemplateResponse(
        request, "page.html.j2",
        {"page": page, "language": language, "w": w, "message": w[key] if key else "", **values},
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token never leaks onward
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _form_fields(request: Request) -> dict[str, str]:
    """An urlencoded body's first value per field, bounded in size."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items() if values}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
