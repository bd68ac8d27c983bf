"""The follow-up API through FastAPI's TestClient, on both backends: listing, state changes with
a write token (a read token refused), history, corrections followed, response figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from reviewwatch.api import create_app
from tests.analysts.conftest import HOSTILE, Seeded

READ = {"Authorization": "Bearer read-secret"}
WRITE = {"Authorization": "Bearer write-secret"}


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings, seeded.store)) as client:
        yield client


def _item(client: TestClient, seeded: Seeded, ext: str) -> dict:
    items = client.get("/api/v1/followup", params={"business": "cafe-a"}, headers=READ).json()["items"]
    return next(i for i in items if i["mention_id"] == seeded.ids[ext])


def test_items_are_listed_with_filters_and_pages(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/v1/followup").status_code == 401
    page = client.get("/api/v1/followup", params={"business": "cafe-a", "limit": 3}, headers=READ)
    assert page.status_code == 200, page.text
    first = page.json()
    assert len(first["items"]) == 3 and first["next_before"] == first["items"][-1]["id"]
    rest = client.get("/api/v1/followup", params={"business": "cafe-a", "before": first["next_before"]},
                      headers=READ).json()
    cafe = {i["mention_id"] for i in first["items"] + rest["items"]}
    assert cafe == {seeded.ids[e] for e in ("c1", "c3", "c6", "c8", "c9")} and rest["next_before"] is None
    hostile = next(i for i in rest["items"] + first["items"] if i["mention_id"] == seeded.ids["c6"])
    assert hostile["excerpt"] == HOSTILE and hostile["state"] == "open"
    every = client.get("/api/v1/followup", headers=READ).json()["items"]
    assert {i["business"] for i in every} == {"cafe-a", "shop-b"} and len(every) == 6
    assert client.get("/api/v1/followup", params={"business": "nope"}, headers=READ).status_code == 404
    assert client.get("/api/v1/followup", params={"state": "closed"}, headers=READ).status_code == 422


def test_a_state_change_needs_a_write_token_and_is_kept(client: TestClient, seeded: Seeded) -> None:
    item = _item(client, seeded, "c1")
    url = f"/api/v1/followup/{item['id']}"
    refused = client.patch(url, json={"state": "replied"}, headers=READ)
    assert refused.status_code == 403
    assert client.get(url, headers=READ).json()["state"] == "open"

    replied = client.patch(url, json={"state": "replied", "replied_at": "2026-11-02T18:00:00Z",
                                      "note": "answered\u202e on Trustpilot"}, headers=WRITE)
    assert replied.status_code == 200, replied.text
    body = replied.json()
    assert body["state"] == "replied" and body["first_response_at"] == "2026-11-02T18:00:00Z"
    assert body["response_hours"] == 6.0 and body["changed_by"] == "alice"
    again = client.post(f"{url}/changes", json={"state": "replied"}, headers=WRITE)
    assert again.status_code == 409 and "already replied" in again.json()["detail"]
    resolved = client.post(f"{url}/changes", json={"state": "resolved"}, headers=WRITE)
    assert resolved.status_code == 201
    history = client.get(url, headers=READ).json()["history"]
    assert [(h["state_after"], h["changed_by"], h["via"], h["note"]) for h in history] == [
        ("open", "reviewwatch", "created", None), ("replied", "alice", "api", "answered on Trustpilot"),
        ("resolved", "alice", "api", None)]
    for bad in ({"state": "closed"}, {"state": "resolved", "replied_at": "2026-11-02T18:00:00Z"},
                {"state": "replied", "replied_at": "2026-11-02T18:00:00"},
                {"state": "replied", "replied_at": "2999-01-01T00:00:00Z"}, {"state": "open", "x": 1}):
        assert client.patch(url, json=bad, headers=WRITE).status_code == 422, bad
    assert client.patch("/api/v1/followup/999999", json={"state": "open"}, headers=WRITE).status_code == 404


def test_a_correction_through_the_api_is_followed_at_once(client: TestClient, seeded: Seeded) -> None:
    item = _item(client, seeded, "c9")
    fixed = client.post(f"/api/v1/mentions/{seeded.ids['c9']}/corrections",
                        json={"label": "positive"}, headers=WRITE)
    assert fixed.status_code == 201
    listed = client.get("/api/v1/followup", params={"business": "cafe-a"}, headers=READ).json()
    assert item["id"] not in {i["id"] for i in listed["items"]}
    withdrawn = client.get(f"/api/v1/followup/{item['id']}", headers=READ).json()
    assert (withdrawn["state"], withdrawn["negative"]) == ("dismissed", False)
    assert withdrawn["history"][-1]["via"] == "relabel"


def test_response_figures_through_the_api(client: TestClient, seeded: Seeded) -> None:
    item = _item(client, seeded, "c1")
    client.patch(f"/api/v1/followup/{item['id']}",
                 json={"state": "replied", "replied_at": "2026-11-03T12:00:00Z"}, headers=WRITE)
    figures = client.get("/api/v1/businesses/cafe-a/responses",
                         params={"since": "2026-11-01", "until": "2026-11-30"}, headers=READ)
    assert figures.status_code == 200, figures.text
    body = figures.json()
    assert (body["negative_mentions"], body["replied"], body["median_hours"]) == (5, 1, 24.0)
    assert body["response_rate"]["value"] == 0.2 and body["by_source"][0]["key"] == "trustpilot"
    assert client.get("/api/v1/businesses/nope/responses", headers=READ).status_code == 404
