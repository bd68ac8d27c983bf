"""The Python API over the views, on SQLite and PostgreSQL: filters, pages, aggregates, corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from reviewwatch.errors import InputError
from storage.analytics import (
    daily_sentiment,
    sentiment_over_time,
    topic_aggregates,
    topic_weekly,
    wilson,
)
from storage.corrections import correct_mention, corrected_examples
from storage.queries import (
    MentionFilter,
    decode_cursor,
    escape_like,
    mention_page,
    mentions_frame,
    validate_filter,
)
from tests.analysts.conftest import HOSTILE, Seeded


def _ids(seeded: Seeded, frame) -> set[str]:
    back = {v: k for k, v in seeded.ids.items()}
    return {back[int(i)] for i in frame["mention_id"]}


def test_filters_combine(seeded: Seeded) -> None:
    with seeded.store.session() as s:
        assert len(mentions_frame(s, MentionFilter())) == 12
        cafe_negative = mentions_frame(s, MentionFilter(business="cafe-a", sentiment="negative"))
        assert _ids(seeded, cafe_negative) == {"c1", "c3", "c6", "c8", "c9"}
        assert _ids(seeded, mentions_frame(s, MentionFilter(language="fr"))) == {"c3"}
        assert _ids(seeded, mentions_frame(s, MentionFilter(source="feed"))) == {"s1", "s2"}
        assert _ids(seeded, mentions_frame(s, MentionFilter(topic="wait_time"))) == {"c1", "c8"}
        assert _ids(seeded, mentions_frame(s, MentionFilter(min_rating=4, max_rating=4))) == {
            "c7", "c10"}
        period = MentionFilter(since=dt.date(2026, 11, 9), until=dt.date(2026, 11, 10))
        assert _ids(seeded, mentions_frame(s, period)) == {"c4", "c5"}
        assert _ids(seeded, mentions_frame(s, MentionFilter(search="WAITER"))) == {"c1"}
        frame = mentions_frame(s, MentionFilter(business="cafe-a"))
        assert list(frame["published_at"]) == sorted(frame["published_at"], reverse=True)
        assert frame.loc[frame["mention_id"] == seeded.ids["c1"], "topics"].item() == [
            "service", "wait_time"]


@pytest.mark.parametrize("needle", ["100%", "_wild_", "'; DROP TABLE mentions; --", "<script>"])
def test_search_is_a_literal_parameter(seeded: Seeded, needle: str) -> None:
    with seeded.store.session() as s:
        assert _ids(seeded, mentions_frame(s, MentionFilter(search=needle))) == {"c6"}
        assert s.execute(text("SELECT COUNT(*) FROM mentions")).scalar() == 12


def test_wildcards_do_not_match_everything(seeded: Seeded) -> None:
    with seeded.store.session() as s:
        assert mentions_frame(s, MentionFilter(search="%")).shape[0] == 1
        assert mentions_frame(s, MentionFilter(search="_")).shape[0] == 1
        injected = MentionFilter(business="cafe-a' OR '1'='1")
        assert mentions_frame(s, injected).empty
    assert escape_like("a%b_c\\") == "a\\%b\\_c\\\\"


def test_keyset_pages_cover_everything_once(seeded: Seeded) -> None:
    seen: list[int] = []
    cursor = None
    with seeded.store.session() as s:
        while True:
            page = mention_page(s, MentionFilter(), limit=5, cursor=cursor)
            seen += [item["mention_id"] for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert len(seen) == 12 and set(seen) == set(seeded.ids.values())
    with pytest.raises(InputError, match="invalid cursor"):
        decode_cursor("not-a-cursor")


def test_validate_filter_refuses_unknown_names(seeded: Seeded) -> None:
    topics = list(seeded.settings.sentiment.topics)
    with seeded.store.session() as s:
        with pytest.raises(InputError, match="unknown topic 'weather'"):
            validate_filter(s, MentionFilter(topic="weather"), known_topics=topics)
        with pytest.raises(InputError, match="unknown business 'nope'"):
            validate_filter(s, MentionFilter(business="nope"), known_topics=topics)
    with pytest.raises(ValueError, match="since"):
        MentionFilter(since=dt.date(2026, 2, 1), until=dt.date(2026, 1, 1))


def test_sentiment_over_time_with_wilson_intervals(seeded: Seeded) -> None:
    with seeded.store.session() as s:
        weekly = sentiment_over_time(s, MentionFilter(business="cafe-a"), "week")
    assert list(weekly["bucket"]) == ["2026-11-02", "2026-11-09", "2026-11-16"]  # Mondays
    assert list(weekly["mentions"]) == [3, 3, 4] and list(weekly["negative"]) == [2, 1, 2]
    first = weekly.iloc[0]
    assert first["positive_share"] == pytest.approx(1 / 3)
    assert (first["positive_low"], first["positive_high"]) == pytest.approx(wilson(1, 3))
    assert wilson(0, 0) == (None, None)
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)


def test_topic_aggregates_and_views(seeded: Seeded) -> None:
    with seeded.store.session() as s:
        topics = topic_aggregates(s, MentionFilter(business="cafe-a")).set_index("topic")
        assert topics.loc["service", "mentions"] == 6 and topics.loc["service", "positive"] == 3
        daily = daily_sentiment(s, "cafe-a")
        assert int(daily["mentions"].sum()) == 10 and daily["day"].iloc[0] == "2026-11-02"
        weekly = topic_weekly(s, "cafe-a")
        service = weekly[weekly["topic"] == "service"]
        assert list(service["week"]) == ["2026-11-02", "2026-11-09", "2026-11-16"]
        assert list(service["mentions"]) == [2, 2, 2]


def test_a_correction_overrides_the_model_everywhere(seeded: Seeded) -> None:
    c1 = seeded.ids["c1"]
    with seeded.store.transaction() as s:
        correction = correct_mention(
            s, c1, analyst="alice", label="positive", topics=["price"],
            known_topics=list(seeded.settings.sentiment.topics),
        )
        assert correction.label_before == "negative"
        assert correction.topics_before == ["service", "wait_time"]
    with seeded.store.session() as s:
        negative = mentions_frame(s, MentionFilter(business="cafe-a", sentiment="negative"))
        assert c1 not in set(negative["mention_id"])
        row = mentions_frame(s, MentionFilter(topic="price", sentiment="positive"))
        assert c1 in set(row["mention_id"])
        assert bool(row.set_index("mention_id").loc[c1, "corrected"]) is True
        assert row.set_index("mention_id").loc[c1, "model_label"] == "negative"
        assert mentions_frame(s, MentionFilter(topic="wait_time")).shape[0] == 1
        daily = daily_sentiment(s, "cafe-a").set_index("day")
        assert daily.loc["2026-11-02", "positive"] == 1
        assert corrected_examples(s) == [{
            "mention_id": c1, "text": "The waiter was rude and slow.", "label": "positive",
            "topics": ["price"], "topics_corrected": True, "language": "en"}]
    with seeded.store.transaction() as s:  # a later topics-only correction keeps the label
        correct_mention(s, c1, analyst="bob", topics=["service"])
    with seeded.store.session() as s:
        assert corrected_examples(s)[0]["label"] == "positive"
        assert corrected_examples(s)[0]["topics"] == ["service"]


def test_retraining_takes_the_corrections_field_by_field(seeded: Seeded) -> None:
    """`reviewwatch train --with-corrections` reads these examples."""
    from reviewwatch.commands.train import corrections_examples
    from storage.models import Mention

    c1, c2, c3 = (seeded.ids[k] for k in ("c1", "c2", "c3"))
    known = list(seeded.settings.sentiment.topics)
    with seeded.store.transaction() as s:
        correct_mention(s, c1, analyst="alice", label="positive", known_topics=known)
        correct_mention(s, c1, analyst="bob", topics=["price"], known_topics=known)  # later, topics only
        correct_mention(s, c2, analyst="alice", topics=["ambience"], known_topics=known)
        correct_mention(s, c3, analyst="alice", label="neutral", known_topics=known)
        s.get(Mention, c3).deleted_at = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    examples = {e.id: e for e in corrections_examples(seeded.store)}
    assert set(examples) == {f"correction-{c1}", f"correction-{c2}"}  # the deleted one is left out
    first, second = examples[f"correction-{c1}"], examples[f"correction-{c2}"]
    assert (first.label, first.topics, first.lang) == ("positive", ["price"], "en")
    # only the topics were corrected: the model's label, and the analyst's topics
    assert (second.label, second.topics, second.source) == ("positive", ["ambience"], "corrections")


def test_corrections_are_validated(seeded: Seeded) -> None:
    with seeded.store.transaction() as s:
        with pytest.raises(InputError, match="needs a label or topics"):
            correct_mention(s, seeded.ids["c1"], analyst="alice")
        with pytest.raises(InputError, match="unknown topic"):
            correct_mention(s, seeded.ids["c1"], analyst="a", topics=["x"], known_topics=["y"])
        with pytest.raises(InputError, match="no mention"):
            correct_mention(s, 999_999, analyst="alice", label="neutral")


def test_hostile_text_is_stored_verbatim(seeded: Seeded) -> None:
    with seeded.store.session() as s:
        frame = mentions_frame(s, MentionFilter(search="DROP TABLE"))
    assert frame["text"].item() == HOSTILE


def test_streaming_yields_bounded_chunks(seeded: Seeded) -> None:
    from storage.queries import iter_mention_chunks

    with seeded.store.engine.connect() as connection:
        chunks = list(iter_mention_chunks(connection, MentionFilter(), chunk_size=5))
    assert [len(c) for c in chunks] == [5, 5, 2]
    assert all("topics" in row for chunk in chunks for row in chunk)


def test_pages_go_on_from_dated_to_undated_mentions(seeded: Seeded) -> None:
    from storage.mentions import MentionData, write_mentions
    from storage.models import Source

    with seeded.store.transaction() as session:
        source = session.query(Source).filter_by(type="feed").one()
        write_mentions(session, business_id=source.business_id, source_id=source.id, items=[
            MentionData(external_id=f"undated{i}", text=f"no date {i}") for i in range(3)])
    for limit in (1, 4, 5, 20):
        seen, cursor = [], None
        with seeded.store.session() as s:
            while True:
                page = mention_page(s, MentionFilter(), limit=limit, cursor=cursor)
                assert len(page.items) <= limit
                seen += [item["published_at"] for item in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert len(seen) == 15 and seen[-3:] == [None, None, None]
        dated = [d for d in seen if d is not None]
        assert dated == sorted(dated, reverse=True)
