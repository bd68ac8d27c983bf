"""The page a digest's signed link opens: GET/POST /a/{token}, to mark a negative mention
replied, resolved or dismissed without signing in (`reviewwatch.followup.links`).

No API token: the signed link is the credential. A forged link gets 404, an expired one 410, an
item already resolved or dismissed 409, a post without the form's CSRF field 403: each a page
saying so, and nothing is changed. Posts are limited per client address
(`feedback.answers_per_minute`). A plain HTML form: it works without JavaScript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from reviewwatch.api.feedback import CSP, MAX_BODY_BYTES, RateLimit
from reviewwatch.config import Settings
from reviewwatch.display import finalize
from reviewwatch.feedback.comment import clean_comment
from reviewwatch.followup.links import FollowupLinks, LinkClaim, LinkError
from reviewwatch.followup.listing import item_detail
from storage.db import Store
from storage.followup import MAX_NOTE_CHARS, FollowupError, change_state
from storage.models import utcnow

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "followup" / "templates"),
    autoescape=True, undefined=StrictUndefined, finalize=finalize))
CHOICES = {"replied": "Replied: we answered the customer",
           "resolved": "Resolved: the matter is settled",
           "dismissed": "Dismissed: nothing to do"}
CLOSED = ("resolved", "dismissed")


@router.get("/a/{token}", response_class=HTMLResponse)
def action_form(request: Request, token: str) -> HTMLResponse:
    found = _found(request, token)
    if isinstance(found, HTMLResponse):
        return found
    claim, item = found
    return _form(request, token, claim, item)


@router.post("/a/{token}", response_class=HTMLResponse)
async def action_post(request: Request, token: str) -> HTMLResponse:
    if not _allowed(request):
        return _page(request, "error", status=429, message="Too many attempts: wait a minute.")
    form = await _form_fields(request)
    return await run_in_threadpool(_act, request, token, form)


def _act(request: Request, token: str, form: dict[str, str]) -> HTMLResponse:
    found = _found(request, token)
    if isinstance(found, HTMLResponse):
        return found
    claim, item = found
    if not _links(request).csrf_ok(claim, form.get("csrf_token", "")):
        return _page(request, "error", item, status=403,
                     message="This form did not come from the link: open the link again.")
    state = form.get("state", "")
    note = clean_comment(form.get("note", ""))
    if state not in CHOICES or len(note) > MAX_NOTE_CHARS:
        return _form(request, token, claim, item, status=422,
                     error="Choose replied, resolved or dismissed (a note of at most "
                           f"{MAX_NOTE_CHARS} characters).")
    store: Store = request.app.state.store
    try:
        with store.transaction() as session:
            change_state(session, claim.item_id, state, by=_who(request, claim, item),
                         via="link", note=note or None)
            item = item_detail(session, claim.item_id) or item
    except FollowupError as exc:
        return _page(request, "error", item, status=409, message=f"Nothing changed: {exc}.")
    return _page(request, "done", item, message=f"Saved: this mention is now {state}.")


# ------------------------------------------------------------------------------- helpers


def _who(request: Request, claim: LinkClaim, item: dict[str, Any]) -> str:
    """The owner the digest went to (the token holds a keyed hash of the address only)."""
    settings: Settings = request.app.state.settings
    owners = next((b.owners for b in settings.businesses if b.id == item["business"]), [])
    return _links(request).recipient_of(claim, [str(owner) for owner in owners])


def _links(request: Request) -> FollowupLinks:
    settings: Settings = request.app.state.settings
    return FollowupLinks(settings)


def _found(request: Request, token: str) -> tuple[LinkClaim, dict[str, Any]] | HTMLResponse:
    try:
        claim = _links(request).read(token[:2000], utcnow())
    except LinkError as exc:
        if exc.expired:
            return _page(request, "error", status=410,
                         message="This link has expired: use the one in a newer digest, or "
                                 "the dashboard.")
        return _page(request, "error", status=404, message="This link is not valid.")
    store: Store = request.app.state.store
    with store.session() as session:
        item = item_detail(session, claim.item_id)
    if item is None:
        return _page(request, "error", status=404, message="This link is not valid.")
    if item["state"] in CLOSED:
        return _page(request, "error", item, status=409,
                     message=f"This mention is already {item['state']}: the link changes "
                             "nothing now (the dashboard can reopen it).")
    return claim, item


def _form(request: Request, token: str, claim: LinkClaim, item: dict[str, Any], *,
          status: int = 200, error: str | None = None) -> HTMLResponse:
    choices = [(value, text) for value, text in CHOICES.items() if value != item["state"]]
    return _page(request, "form", item, status=status, action=f"/a/{token}",
                 csrf_token=_links(request).csrf(claim), choices=choices,
                 max_note=MAX_NOTE_CHARS, error=error)


def _page(request: Request, page: str, item: dict[str, Any] | None = None, *,
          status: int = 200, message: str = "", **values: Any) -> HTMLResponse:
    title = f"Follow-up: {item['business']}" if item else "Follow-up"
    response = templates.TemplateResponse(
        request, "action.html.j2",
        {"page": page, "item": item, "title": title, "message": message, **values},
        status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaks onward
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _allowed(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    limit: RateLimit | None = getattr(request.app.state, "followup_rate_limit", None)
    if limit is None:
        limit = request.app.state.followup_rate_limit = RateLimit()
    address = request.client.host if request.client else "unknown"
    return limit.allow(address, settings.feedback.answers_per_minute)


async def _form_fields(request: Request) -> dict[str, str]:
    """An urlencoded body's first value per field, bounded in size."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items() if values}
