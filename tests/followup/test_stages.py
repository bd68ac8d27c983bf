"""Items are opened where mentions are scored: the cycle's score stage and the worker's score
task; running either again opens nothing twice."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from reviewwatch.config import Settings
from reviewwatch.cycle import run_cycle
from reviewwatch.worker.runtime import WorkerRuntime
from reviewwatch.worker.tasks import score_stage
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Business, FollowupChange, FollowupItem, Mention, Score, Source
from tests.analysts.conftest import Seeded


def _add_unscored(store: Store, slug: str, texts: list[str]) -> None:
    with store.transaction() as session:
        source = session.scalars(select(Source).join(Business).where(Business.slug == slug)).one()
        items = [MentionData(external_id=f"new-{i}", text=t) for i, t in enumerate(texts)]
        write_mentions(session, business_id=source.business_id, source_id=source.id, items=items)


def keyword_scorer(store: Store, settings: Settings, slug: str) -> int:
    """Negative when "rude" is said; scores what has no score, like the real stage."""
    with store.transaction() as session:
        unscored = session.scalars(select(Mention).join(Business).where(
            Business.slug == slug, ~Mention.id.in_(select(Score.mention_id)))).all()
        for mention in unscored:
            label = "negative" if "rude" in mention.text.lower() else "positive"
            session.add(Score(mention_id=mention.id, model_id="kw", model_version="1", label=label,
                              p_negative=0.8, p_neutral=0.1, p_positive=0.1, is_current=True))
    return len(unscored)


def _counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        return (session.scalar(select(func.count()).select_from(FollowupItem)) or 0,
                session.scalar(select(func.count()).select_from(FollowupChange)) or 0)


def test_the_cycles_score_stage_opens_items_once(seeded: Seeded, tmp_path: Path) -> None:
    _add_unscored(seeded.store, "cafe-a", ["Rude cashier.", "Nice cake."])

    def cycle() -> Any:
        return run_cycle(seeded.settings, "cafe-a", store=seeded.store, dry_run=True,
                         outbox=tmp_path / "outbox", score=keyword_scorer,
                         crawl=lambda settings, slug: [sys.executable, "-c", "pass"])

    assert cycle().stage("score").detail == "2 scored"
    # cafe-a's five negative reviews and the new rude one; shop-b is another business's cycle
    assert _counts(seeded.store) == (6, 6)
    cycle()
    assert _counts(seeded.store) == (6, 6)


def test_the_workers_score_task_opens_items_once(seeded: Seeded) -> None:
    _add_unscored(seeded.store, "shop-b", ["So rude on the phone."])
    runtime = WorkerRuntime(seeded.settings, seeded.store, queues=["score"], concurrency=1,
                            publish=lambda stage, cycle_id: None)
    runtime._scorer = SimpleNamespace(  # type: ignore[assignment] - the model's place
        score=lambda slug: keyword_scorer(seeded.store, seeded.settings, slug))
    with seeded.store.session() as session:
        shop = session.scalars(select(Business.id).where(Business.slug == "shop-b")).one()
    cycle: Any = SimpleNamespace(slug="shop-b", business_id=shop)  # the cycle knows its business
    assert score_stage(runtime, cycle, SimpleNamespace()) == (True, "1 scored")  # type: ignore[arg-type]
    assert _counts(seeded.store) == (2, 2)  # s1 and the rude call
    score_stage(runtime, cycle, SimpleNamespace())  # type: ignore[arg-type] - redelivered
    assert _counts(seeded.store) == (2, 2)
