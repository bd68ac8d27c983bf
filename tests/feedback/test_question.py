"""A business may ask its own question: the 1-5 satisfaction one instead of the 0-10 (no NPS)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from reviewwatch.gap import compute_gap
from reviewwatch.sync import sync_settings
from storage.db import Store
from storage.models import Mention
from tests.feedback.conftest import BUSINESS, KEY, feedback_links, form_value


def test_a_business_asks_its_own_satisfaction_question(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        feedback={"public_url": "http://testserver", "secret_key": KEY},
        businesses=[{"id": BUSINESS, "name": "Café", "feedback_question": "satisfaction",
                     "claims": [{"positive_share": 0.9, "stated_at": "2026-01-01"}]},
                    {"id": "other", "name": "Other"}],
    )
    assert (settings.feedback_question(BUSINESS), settings.feedback_question("other")) == (
        "satisfaction", "recommend")
    with store.transaction() as session:
        sync_settings(session, settings)
    outbox = tmp_path / "out"
    ask_customers(store, settings, BUSINESS,
                  parse_customers("email,name,language\nann@example.com,Ann,en\n"),
                  OutboxTransport(outbox))
    [eml] = outbox.glob("*.eml")
    [link] = feedback_links(email.message_from_bytes(eml.read_bytes(), policy=email.policy.default))

    with TestClient(create_app(settings, store)) as client:
        form = client.get(link)
        assert form.status_code == 200 and "How satisfied are you with Café?" in form.text
        assert form.text.count('name="score"') == 5
        csrf = form_value(form.text, "csrf_token")
        assert client.post(link, data={"score": "0", "csrf_token": csrf}).status_code == 422
        assert client.post(link, data={"score": "5", "csrf_token": csrf}).status_code == 200

    with store.session() as session:
        [answer] = session.scalars(select(Mention).where(Mention.is_private.is_(True))).all()
        assert (answer.rating, answer.rating_scale, answer.rating_normalised) == (5, 5, 1.0)
        assert answer.extra["question"] == "satisfaction"
        report = compute_gap(session, settings, BUSINESS,
                             until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).to_dict()
    asked = report["claims"][0]["channels"]["asked"]
    assert (asked["answered"], asked["share_positive"]["value"]) == (1, 1.0)
    assert (asked["nps_answers"], asked["nps"]) == (0, None)  # NPS only for the 0-10 question
