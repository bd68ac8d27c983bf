"""The asked channel through the API: delivered, answered, response rate, share positive, NPS."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.gap.channels import net_promoter
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from storage.db import Store
from storage.feedback import record_answer
from storage.models import FeedbackInvitation, utcnow
from tests.feedback.conftest import BUSINESS


def test_net_promoter_score_and_adjusted_wald_interval() -> None:
    nps = net_promoter([10, 9, 3])
    assert nps is not None
    assert math.isclose(nps.value, 100 / 3)
    # Rocks (2016): 3/4 promoter and 3/4 detractor added, n + 3.
    p, d = 2.75 / 6, 1.75 / 6
    half = 1.959963984540054 * math.sqrt((p + d - (p - d) ** 2) / 6)
    assert math.isclose(nps.low, 100 * (p - d - half)) and math.isclose(nps.high, 100 * (p - d + half))
    assert net_promoter([]) is None
    # One happy answer: the observed 100 stays inside an interval that is anything but narrow.
    one = net_promoter([10])
    assert one is not None and one.value == one.high == 100 and one.low < 0
    # Many answers: close to the plain multinomial interval.
    many = net_promoter([10] * 500 + [8] * 300 + [2] * 200)
    assert many is not None and math.isclose(many.value, 30)
    plain = 100 * 1.959963984540054 * math.sqrt((0.5 + 0.2 - 0.09) / 1000)
    assert math.isclose(many.high - many.low, 2 * plain, rel_tol=0.01)


def test_asked_channel_over_the_api(
    synced: Store, settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = "".join(f"c{i}@example.com,C{i},en\n" for i in range(4))
    ask_customers(synced, settings, BUSINESS, parse_customers("email,name,language\n" + lines),
                  OutboxTransport(tmp_path))
    with synced.transaction() as session:
        invitations = session.scalars(select(FeedbackInvitation).order_by(FeedbackInvitation.id))
        for invitation, score in zip(invitations, (10, 9, 3), strict=False):
            record_answer(session, invitation.id, score=score, comment="", question="recommend",
                          now=utcnow())
    app_settings = settings.model_copy(update={"api": settings.api.model_copy(
        update={"read_tokens": [SecretStr("read-secret")]})})
    with TestClient(create_app(app_settings, synced)) as client:
        assert client.get(f"/api/v1/businesses/{BUSINESS}/asked").status_code == 401
        got = client.get(f"/api/v1/businesses/{BUSINESS}/asked",
                         headers={"Authorization": "Bearer read-secret"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["asked"], body["answered"], body["nps_answers"]) == (4, 3, 3)
    assert body["response_rate"]["value"] == 0.75
    assert math.isclose(body["share_positive"]["value"], 2 / 3, abs_tol=1e-6)
    assert math.isclose(body["nps"]["value"], 100 / 3, abs_tol=1e-4)
