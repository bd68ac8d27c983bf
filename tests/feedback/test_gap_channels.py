"""Each claim of the gap report in public beside when asked: counts, shares and NPS, never text."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import select

from reviewwatch.config import ClaimConfig, Settings
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.feedback.customers import parse_customers
from reviewwatch.feedback.invite import ask_customers
from reviewwatch.gap import compute_gap
from reviewwatch.gap.render_html import render_html
from reviewwatch.gap.render_table import print_report
from reviewwatch.gap.report import json_schema
from storage.db import Store
from storage.feedback import record_answer
from storage.models import FeedbackInvitation, Score, ScoreTopic
from tests.feedback.conftest import KEY
from tests.gap import seed
from tests.gap.schema_check import errors

ASKED_AT = seed.UNTIL - dt.timedelta(days=6)
SECRET = "Secret answer <b>kept private</b>"


def _settings(*claims: ClaimConfig) -> Settings:
    config = seed.settings(claims)
    feedback = config.feedback.model_copy(update={"secret_key": SecretStr(KEY)})
    return config.model_copy(update={"feedback": feedback})


def _claims() -> list[ClaimConfig]:
    day = dt.date(2026, 1, 1)
    return [
        ClaimConfig(positive_share=0.9, stated_at=day),
        ClaimConfig(average_rating=4.5, stated_at=day),
        ClaimConfig(topic="service", positive_share=0.8, stated_at=day),
    ]


def _score(session, mention_id: int, label: str, topics: dict[str, str]) -> None:
    p = dict.fromkeys(("negative", "neutral", "positive"), 0.0) | {label: 1.0}
    session.add(Score(
        mention_id=mention_id, model_id="test", model_version="1", label=label,
        p_negative=p["negative"], p_neutral=p["neutral"], p_positive=p["positive"],
        topic_scores={}, is_current=True,
        topics=[ScoreTopic(topic=t, probability=0.9, sentiment=s) for t, s in topics.items()],
    ))


def _seed(store: Store, config: Settings, tmp_path: Path) -> None:
    with store.transaction() as session:
        business, sources = seed.setup(session, config)
        for label, topics in (("positive", ["service"]), ("positive", []), ("negative", ["service"]),
                              ("negative", [])):
            seed.add(session, business, sources["schema_org"], label, topics=topics)
    lines = "".join(f"c{i}@example.com,C{i},en\n" for i in range(5))
    ask_customers(store, config, "cafe", parse_customers("email,name,language\n" + lines),
                  OutboxTransport(tmp_path), now=ASKED_AT)
    # Four answer: 10 about the service (praise), 9 with nothing to say, 3 unhappy with the
    # service; 0, not read by the model yet: it counts by its score alone, under no topic.
    answers = ((10, "positive", {"service": "positive"}), (9, "positive", {}),
               (3, "negative", {"service": "negative"}), (0, None, {}))
    with store.transaction() as session:
        invitations = session.scalars(select(FeedbackInvitation).order_by(FeedbackInvitation.id))
        for invitation, (score, label, topics) in zip(invitations, answers, strict=False):
            mention = record_answer(session, invitation.id, score=score, comment=SECRET,
                                    question="recommend", now=ASKED_AT + dt.timedelta(days=1))
            assert mention is not None
            if label is not None:
                _score(session, mention.id, label, topics)


def test_each_claim_shows_public_beside_asked(store: Store, tmp_path: Path) -> None:
    config = _settings(*_claims())
    _seed(store, config, tmp_path)

    with store.session() as session:
        report = compute_gap(session, config, "cafe", since=seed.SINCE, until=seed.UNTIL).to_dict()

    assert report["schema_version"] == 4
    assert errors(report, json_schema()) == []
    by = {(c["metric"], c["topic"]): c for c in report["claims"]}
    overall, rating = by[("positive_share", None)], by[("average_rating", None)]
    service = by[("positive_share", "service")]
    # Public: the claim's own mentions (the topic's opinions for a topic claim).
    assert overall["channels"]["public"]["mentions"] == 4
    assert overall["channels"]["public"]["share_positive"] == overall["perceived"]
    assert math.isclose(rating["channels"]["public"]["share_positive"]["value"], 0.5)
    assert service["channels"]["public"]["mentions"] == 2
    # Asked: 5 delivered, 4 answered, 2 of them positive; NPS (2 promoters - 2 detractors) / 4.
    asked = overall["channels"]["asked"]
    assert (asked["asked"], asked["answered"], asked["answers_counted"]) == (5, 4, 4)
    assert math.isclose(asked["response_rate"]["value"], 0.8)
    assert asked["response_rate"]["low"] < 0.8 < asked["response_rate"]["high"]
    assert math.isclose(asked["share_positive"]["value"], 0.5)
    assert asked["nps_answers"] == 4 and math.isclose(asked["nps"]["value"], 0.0, abs_tol=1e-9)
    assert -100 < asked["nps"]["low"] < 0 < asked["nps"]["high"] < 100
    assert asked["nps_interval"] == "adjusted-wald"
    assert rating["channels"]["asked"] == asked  # one channel, whatever the claim's metric
    # A topic claim counts the answers about its topic: one praise, one complaint.
    on_service = service["channels"]["asked"]
    assert (on_service["asked"], on_service["answers_counted"]) == (5, 2)
    assert math.isclose(on_service["share_positive"]["value"], 0.5)
    assert math.isclose(on_service["nps"]["value"], 0.0)
    # Private answers are counted, never shown: nowhere in the JSON, the table or the HTML.
    assert "Secret answer" not in json.dumps(report)
    assert report["overall"]["mentions"] == 4  # the public voice holds no answer
    html = render_html([report])
    assert "In public versus when asked" in html and "Secret answer" not in html
    table = tmp_path / "table.txt"
    with table.open("w", encoding="utf-8") as stream:
        print_report(report, Console(file=stream, width=200, no_color=True))
    printed = table.read_text(encoding="utf-8")
    assert "in public versus when asked" in printed and "Secret answer" not in printed
    assert "+0 (" in printed  # the NPS with its interval


def test_requests_outside_the_window_are_not_counted(store: Store, tmp_path: Path) -> None:
    config = _settings(*_claims()[:1])
    _seed(store, config, tmp_path)
    with store.session() as session:
        report = compute_gap(session, config, "cafe", since=ASKED_AT + dt.timedelta(hours=1),
                             until=seed.UNTIL).to_dict()
    asked = report["claims"][0]["channels"]["asked"]
    assert (asked["asked"], asked["answered"], asked["response_rate"], asked["nps"]) == (
        0, 0, None, None)
    table = tmp_path / "table.txt"
    with table.open("w", encoding="utf-8") as stream:
        print_report(report, Console(file=stream, width=200, no_color=True))
    assert "no feedback requests in this window" in table.read_text(encoding="utf-8")
