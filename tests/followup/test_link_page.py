"""The digest's signed link to a follow-up item: a form that works without JavaScript; forged,
expired and tampered links, a post without the form's CSRF field, and a link reused after the
item was resolved each get a clear 4xx page and change nothing."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.followup.links import FollowupLinks
from storage.followup import history, sync_followups
from storage.models import FollowupItem, utcnow
from tests.analysts.conftest import HOSTILE, Seeded

OWNER = "owner@cafe-a.example"


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


def _item_id(seeded: Seeded, ext: str) -> int:
    seeded.settings.businesses[0].owners = [OWNER]  # type: ignore[list-item]
    with seeded.store.transaction() as session:
        sync_followups(session)
        return session.scalars(select(FollowupItem.id).where(
            FollowupItem.mention_id == seeded.ids[ext])).one()


def _path(seeded: Seeded, item_id: int, now: dt.datetime | None = None) -> str:
    url = FollowupLinks(seeded.settings).url(item_id, OWNER, now or utcnow())
    return url.removeprefix(seeded.settings.feedback.public_url)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert match, page
    return match.group(1)


def _state(seeded: Seeded, item_id: int) -> str:
    with seeded.store.session() as session:
        return session.get_one(FollowupItem, item_id).state


def test_the_link_opens_a_form_that_changes_the_state(client: TestClient, seeded: Seeded) -> None:
    item_id = _item_id(seeded, "c6")
    path = _path(seeded, item_id)
    assert path.startswith("/a/")
    assert "cafe-a.example" not in base64.urlsafe_b64decode(path[3:].split(".")[0] + "==").decode()
    page = client.get(path)
    assert page.status_code == 200 and "no-referrer" == page.headers["referrer-policy"]
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text  # hostile text escaped
    assert 'name="state" value="replied"' in page.text and 'value="open"' not in page.text
    done = client.post(path, data={"csrf_token": _csrf(page.text), "state": "replied",
                                   "note": "called them back"})
    assert done.status_code == 200 and "now replied" in done.text
    with seeded.store.session() as session:
        last = history(session, item_id)[-1]
    assert (last.state_after, last.changed_by, last.via, last.note) == (
        "replied", OWNER, "link", "called them back")
    assert HOSTILE  # the seeded review c6 is the hostile one


def test_a_post_without_the_forms_csrf_field_changes_nothing(client: TestClient, seeded: Seeded) -> None:
    item_id = _item_id(seeded, "c1")
    path = _path(seeded, item_id)
    for data in ({"state": "resolved"}, {"state": "resolved", "csrf_token": "0" * 64}):
        refused = client.post(path, data=data)
        assert refused.status_code == 403 and "did not come from the link" in refused.text
    bad = client.post(path, data={"csrf_token": _csrf(client.get(path).text), "state": "open"})
    assert bad.status_code == 422
    assert _state(seeded, item_id) == "open"


def test_forged_and_expired_links_get_a_clear_page(client: TestClient, seeded: Seeded) -> None:
    item_id = _item_id(seeded, "c1")
    path = _path(seeded, item_id)
    forged = client.get(path[:-3] + ("xyz" if not path.endswith("xyz") else "abc"))
    assert forged.status_code == 404 and "not valid" in forged.text
    assert client.get("/a/not-a-token").status_code == 404
    other_key = seeded.settings.model_copy(deep=True)
    other_key.feedback.secret_key = type(other_key.feedback.secret_key)("z" * 40)  # type: ignore[misc]
    foreign = FollowupLinks(other_key).url(item_id, OWNER, utcnow()).removeprefix(
        seeded.settings.feedback.public_url)
    assert client.post(foreign, data={"state": "resolved"}).status_code == 404
    expired = _path(seeded, item_id, utcnow() - dt.timedelta(days=15))
    answer = client.get(expired)
    assert answer.status_code == 410 and "expired" in answer.text
    assert client.post(expired, data={"state": "resolved"}).status_code == 410
    assert _state(seeded, item_id) == "open"


def test_a_link_reused_after_resolve_changes_nothing(client: TestClient, seeded: Seeded) -> None:
    item_id = _item_id(seeded, "c3")
    path = _path(seeded, item_id)
    csrf = _csrf(client.get(path).text)
    assert client.post(path, data={"csrf_token": csrf, "state": "resolved"}).status_code == 200
    again = client.get(path)
    assert again.status_code == 409 and "already resolved" in again.text
    reused = client.post(path, data={"csrf_token": csrf, "state": "dismissed"})
    assert reused.status_code == 409
    with seeded.store.session() as session:
        assert [c.state_after for c in history(session, item_id)] == ["open", "resolved"]


def test_a_link_to_an_owner_no_longer_configured_records_no_address(
    client: TestClient, seeded: Seeded
) -> None:
    item_id = _item_id(seeded, "c8")
    path = _path(seeded, item_id)
    seeded.settings.businesses[0].owners = []
    csrf = _csrf(client.get(path).text)
    assert client.post(path, data={"csrf_token": csrf, "state": "dismissed"}).status_code == 200
    with seeded.store.session() as session:
        assert history(session, item_id)[-1].changed_by == "a digest's link"
