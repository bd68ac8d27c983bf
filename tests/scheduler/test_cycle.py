"""A whole cycle: a crawl that fails midway is recorded, and scoring and the digest still run."""

from __future__ import annotations

import sys

from sqlalchemy import select

from reviewwatch.config import Settings
from reviewwatch.cycle import crawl_command, run_cycle
from reviewwatch.digest.send import SmtpTransport
from storage.db import Store
from storage.models import Business, CrawlRun, GapSnapshot, Mention, Score
from tests.digest.conftest import BUSINESS, OWNER, Seeder
from tests.digest.mail import plain, tokens
from tests.digest.smtpserver import SmtpServer

# A crawl that stores one mention, then dies with its crawl run still marked running.
CRASHING_CRAWL = """
import sys
from sqlalchemy import select
from storage.db import Store
from storage.mentions import MentionData, write_mentions
from storage.models import Business, CrawlRun, Source
store = Store(sys.argv[1], migrate=False)
with store.transaction() as session:
    source = session.scalars(select(Source).join(Business).where(Business.slug == sys.argv[2])).one()
    session.add(CrawlRun(source_id=source.id, status="running"))
    item = MentionData(external_id="crawled-1", text="Rude staff, token mention-999", language="en")
    write_mentions(session, business_id=source.business_id, source_id=source.id, items=[item])
print("spider crashed: boom", file=sys.stderr)
sys.exit(1)
"""


def crashing_crawl(store: Store):  # noqa: ANN201 - a CrawlCommand
    return lambda settings, slug: [sys.executable, "-c", CRASHING_CRAWL, store.url, slug]


def keyword_scorer(store: Store, settings: Settings, slug: str) -> int:
    """Scores unscored mentions from the store (negative when "rude" is said), like the real stage."""
    with store.transaction() as session:
        unscored = session.scalars(
            select(Mention)
            .join(Business)
            .where(Business.slug == slug, ~Mention.id.in_(select(Score.mention_id)))
        ).all()
        for mention in unscored:
            negative = "rude" in mention.text.lower()
            session.add(
                Score(
                    mention_id=mention.id,
                    model_id="keywords",
                    model_version="1",
                    label="negative" if negative else "positive",
                    p_negative=0.9 if negative else 0.1,
                    p_neutral=0.05,
                    p_positive=0.05 if negative else 0.85,
                    is_current=True,
                )
            )
    return len(unscored)


def test_a_crawl_failing_midway_is_recorded_and_reported_and_the_cycle_goes_on(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    earlier = seed()  # stored and scored by an earlier cycle

    result = run_cycle(
        settings,
        BUSINESS,
        store=store,
        crawl=crashing_crawl(store),
        score=keyword_scorer,
        transport=SmtpTransport(settings.smtp),
    )

    assert [(s.name, s.ok) for s in result.stages] == [
        ("crawl", False),
        ("score", True),
        ("snapshot", True),
        ("digest", True),
    ]
    assert result.stage("crawl").detail == "crawl process exited with status 1"  # type: ignore[union-attr]
    assert result.stage("score").detail == "1 scored"  # type: ignore[union-attr]
    with store.session() as session:
        [run] = session.scalars(select(CrawlRun)).all()
        assert run.status == "failed" and run.finished_at is not None
        assert run.error_summary == "crawl process exited with status 1: spider crashed: boom"
        assert len(session.scalars(select(GapSnapshot)).all()) == 1
    [message] = smtp_server.recorder.to(OWNER)
    assert tokens(message) == {earlier, 999}
    assert "Crawl failures" in plain(message) and "spider crashed: boom" in plain(message)


def test_a_crawl_process_that_cannot_run_adds_a_failed_run_per_source(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    fails = lambda settings, slug: [sys.executable, "-c", "raise SystemExit(3)"]  # noqa: E731
    result = run_cycle(
        settings,
        BUSINESS,
        store=store,
        crawl=fails,
        score=keyword_scorer,
        transport=SmtpTransport(settings.smtp),
    )
    assert not result.ok and result.stage("digest").ok  # type: ignore[union-attr]
    with store.session() as session:
        [run] = session.scalars(select(CrawlRun)).all()
    assert run.status == "failed" and run.error_summary == "crawl process exited with status 3"
    assert "crawl process exited with status 3" in plain(smtp_server.recorder.to(OWNER)[0])


def test_a_stop_request_lets_the_running_stage_finish_and_skips_the_rest(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    stages_started: list[str] = []

    def stop_after_crawl() -> bool:
        stages_started.append("check")
        return len(stages_started) > 1

    ok = lambda settings, slug: [sys.executable, "-c", "pass"]  # noqa: E731
    result = run_cycle(
        settings,
        BUSINESS,
        store=store,
        crawl=ok,
        score=keyword_scorer,
        should_stop=stop_after_crawl,
    )
    assert result.stopped and [s.name for s in result.stages] == ["crawl"]
    assert result.stages[0].ok and smtp_server.recorder.received == []


def test_the_crawl_runs_the_cli_in_a_fresh_interpreter_with_the_config_file(
    settings: Settings, write_config
) -> None:
    from reviewwatch.config import load_settings

    path = write_config('[[businesses]]\nid = "x"\nname = "X"\n')
    argv = crawl_command(load_settings(path), "x")
    assert argv == [
        sys.executable,
        "-m",
        "reviewwatch",
        "--config",
        str(path),
        "crawl",
        "--business",
        "x",
    ]
    assert crawl_command(settings, BUSINESS)[-3:] == ["crawl", "--business", BUSINESS]


def test_a_weekly_digests_other_days_run_every_stage_but_the_digest(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder
) -> None:
    seed()
    ok_crawl = lambda settings, slug: [sys.executable, "-c", "pass"]  # noqa: E731

    quiet_day = run_cycle(
        settings, BUSINESS, store=store, crawl=ok_crawl, score=keyword_scorer,
        transport=SmtpTransport(settings.smtp), send_digest=False,
    )
    assert [(s.name, s.ok) for s in quiet_day.stages] == [
        ("crawl", True), ("score", True), ("snapshot", True), ("digest", True)]
    assert quiet_day.stage("digest").detail.startswith("weekly digest: not today")  # type: ignore[union-attr]
    assert quiet_day.digest is None and smtp_server.recorder.received == []

    digest_day = run_cycle(
        settings, BUSINESS, store=store, crawl=ok_crawl, score=keyword_scorer,
        transport=SmtpTransport(settings.smtp),
    )
    assert digest_day.ok
    assert len(smtp_server.recorder.to(OWNER)) == 1  # what the quiet day kept back goes now
    with store.session() as session:
        assert len(session.scalars(select(GapSnapshot)).all()) == 2  # a snapshot each day


def test_the_daemons_cycles_crawl_one_at_a_time(store: Store, settings: Settings, tmp_path) -> None:
    """Two businesses' cycles at the same minute never crawl at once (per-domain politeness)."""
    import threading

    from reviewwatch.cycle import run_crawl

    log = tmp_path / "crawls.log"
    crawl = [sys.executable, "-c",
             "import sys, time; f = open(sys.argv[1], 'a'); f.write(f'start {time.monotonic()}\\n');"
             " f.flush(); time.sleep(0.4); f.write(f'end {time.monotonic()}\\n')", str(log)]
    threads = [threading.Thread(target=run_crawl, args=(store, settings, BUSINESS, crawl))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    events = [line.split() for line in log.read_text().splitlines()]
    assert [kind for kind, _ in events] == ["start", "end"] * 3  # never two starts in a row


def test_the_daemons_retry_job_resends_a_pending_digest(
    store: Store, settings: Settings, smtp_server: SmtpServer, seed: Seeder, tmp_path
) -> None:
    import datetime as dt

    import scheduler
    from reviewwatch.digest.deliver import send_digests
    from storage.models import Digest, utcnow
    from tests.digest.conftest import make_settings
    from tests.digest.smtpserver import free_port

    mention = seed()
    failed = send_digests(store, make_settings(tmp_path, free_port()), BUSINESS)  # server down
    assert [o.status for o in failed.outcomes] == ["pending"]
    with store.transaction() as session:  # its back-off has passed
        for digest in session.scalars(select(Digest)):
            digest.next_attempt_at = utcnow() - dt.timedelta(minutes=1)

    daemon = scheduler.Daemon(settings, store, runner=lambda slug, should_stop: None)
    try:
        daemon.start()
        job = daemon.scheduler.get_job(scheduler.RETRY_JOB)
        assert job.func_ref == scheduler.RETRY_FUNC
        job.func()  # what the interval trigger runs: the stored reference, resolved
    finally:
        daemon.shutdown()

    [message] = smtp_server.recorder.to(OWNER)
    assert tokens(message) == {mention}
    with store.session() as session:
        [digest] = session.scalars(select(Digest)).all()
        assert (digest.status, digest.attempts) == ("sent", 2)
        assert message["Message-ID"] == digest.message_id
