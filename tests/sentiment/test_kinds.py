"""Topic heads for a kind of business (sentiment/kinds.py): the shipped hotel heads, the scorer's
overlay of them on the general path, their own model version, and the paths that store scores
(the cycle's score stage, the worker's batcher, `reviewwatch score`) reading each business as
its kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sentiment.topic_rules import NINE_TOPICS
from tests.sentiment.test_sentiment import _cli, _seed_mentions, _settings, write_jsonl

SLOTS = [*NINE_TOPICS, "general"]


def test_shipped_hotel_heads_load_and_were_chosen_on_the_hotel_dev():
    from sentiment.kinds import kinds_dir, known_kinds, load_kind
    from sentiment.scorer import SHIPPED_WEIGHTS

    assert known_kinds(SHIPPED_WEIGHTS) == ["hotel"]
    hotel = load_kind(SHIPPED_WEIGHTS, "hotel", 384)  # trained on the shipped adapter's states
    assert hotel.heads.slots == SLOTS and hotel.meta["kind"] == "hotel"
    assert hotel.presence and hotel.presence <= set(NINE_TOPICS)
    choice = hotel.meta["kind_choice"]
    # a topic takes its presence from the hotel heads exactly where they did at least as well on dev
    assert hotel.presence == {t for t in NINE_TOPICS
                              if choice["gold"][t] and choice["kind_f1"][t] >= choice["general_f1"][t]}
    assert hotel.meta["train"]["extra_data"]["mabsa_hotel"]["topics_read"] is True
    assert hotel.meta["train"]["train_sentences"] == hotel.meta["train"]["extra_data"]["mabsa_hotel"]["train_sentences"]
    quality = json.loads((kinds_dir(SHIPPED_WEIGHTS) / "hotel" / "topic_quality.json").read_text(encoding="utf-8"))
    assert set(quality["topics"]) == set(NINE_TOPICS)


def _weights_with_a_kind(tmp_path: Path, tiny_weights: Path) -> Path:
    """Tiny weights whose general heads find every topic, positive, and whose `hotel` heads find
    none, negative; the hotel heads give the presence of `quality` and `price` only."""
    import torch

    from sentiment.topic_heads import TopicHeads, save_topic_heads

    weights = tmp_path / "weights"
    shutil.copytree(tiny_weights, weights)
    torch.manual_seed(1)
    general = TopicHeads(32, SLOTS, inner=8)
    hotel = TopicHeads(32, SLOTS, inner=8)
    with torch.no_grad():
        general.presence_b.fill_(5.0)
        hotel.presence_b.fill_(-5.0)
        for heads, label in ((general, 2), (hotel, 0)):  # polarity: positive, negative
            heads.polarity_out.weight.zero_()
            heads.polarity_out.bias.zero_()
            heads.polarity_out.bias[label] = 10.0
    thresholds = {t: 0.5 for t in NINE_TOPICS}
    save_topic_heads(weights, general, {"polarity_only": ["general"], "topic_thresholds": thresholds})
    save_topic_heads(weights / "kinds" / "hotel", hotel,
                     {"polarity_only": ["general"], "topic_thresholds": thresholds, "kind": "hotel",
                      "presence_from_heads": ["quality", "price"]})
    return weights


def test_a_kinds_heads_give_the_presence_they_were_chosen_for_and_every_opinion(tiny_model, tiny_weights, tmp_path):
    from sentiment.scorer import ModelError, load_scorer

    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    sc = load_scorer(_settings(tiny_model, weights, max_length=16), languages=["en"])
    assert sc.business_kinds == ["hotel"]
    assert sc.version_for(None) == sc.model_version != sc.version_for("hotel")
    texts = ["the room was dirty", "the staff were rude and slow " * 8]  # the second: several windows
    general = sc.score(texts)
    hotel = sc.score(texts, business_kind="hotel")
    for g, h in zip(general, hotel):
        assert set(g.topics) == set(NINE_TOPICS) and set(g.topic_sentiment.values()) == {"positive"}
        # quality and price read by the hotel heads (absent); the rest as the general path reads them
        assert set(h.topics) == set(NINE_TOPICS) - {"quality", "price"}
        assert set(h.topic_sentiment.values()) == {"negative"}  # every opinion from the hotel heads
        assert h.probabilities == g.probabilities  # the overall sentiment is the kind's too: unchanged
    # sharded scoring (two workers) gives what one stream gives
    many = [f"the food was great {i}" for i in range(12)] + texts
    small = _settings(tiny_model, weights, max_length=16).model_copy(update={"batch_size": 2})
    one, two = load_scorer(small, languages=["en"]), load_scorer(small, languages=["en"])
    one.workers, two.workers = 1, 2
    a, b = one.score(many, business_kind="hotel"), two.score(many, business_kind="hotel")
    assert [x.topic_sentiment for x in a] == [x.topic_sentiment for x in b]
    _, polarities = sc.score_with_polarities(texts[:1], business_kind="hotel")
    assert max(polarities[0]["quality"], key=polarities[0]["quality"].__getitem__) == "negative"
    with pytest.raises(ModelError, match="no topic heads for kind 'spa'.*known: hotel"):
        sc.score(texts, business_kind="spa")


def test_a_kinds_heads_of_another_adapter_are_refused(tiny_model, tiny_weights, tmp_path):
    from sentiment.scorer import ModelError, load_scorer

    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    meta_file = weights / "kinds" / "hotel" / "topic_heads.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps({**meta, "adapter_sha1": "0" * 40}), encoding="utf-8")
    with pytest.raises(ModelError, match="trained on another adapter"):
        load_scorer(_settings(tiny_model, weights), languages=["en"])


def _config(tmp_path: Path, tiny_model: Path, weights: Path, kind: str | None = "hotel") -> Path:
    cfg = tmp_path / "reviewwatch.toml"
    kind_line = f'kind = "{kind}"\n' if kind else ""
    cfg.write_text(
        f'data_dir = "{tmp_path / "data"}"\nlanguages = ["en"]\n[sentiment]\n'
        f'model = "{tiny_model}"\nweights_dir = "{weights}"\nbatch_size = 2\n'
        f'[[businesses]]\nid = "cafe"\nname = "Cafe"\n'
        f'[[businesses]]\nid = "hotel"\nname = "Hotel"\n{kind_line}', encoding="utf-8")
    return cfg


def _current(store) -> dict[str, set[tuple[str, tuple[str, ...]]]]:
    """Per business: the (model version, topics) of its current scores."""
    from sqlalchemy import select

    from storage.models import Business, Mention, Score

    out: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    with store.session() as s:
        rows = s.execute(select(Business.slug, Score).join(Mention, Mention.id == Score.mention_id)
                         .join(Business, Business.id == Mention.business_id).where(Score.is_current.is_(True)))
        for slug, score in rows:
            out.setdefault(slug, set()).add((score.model_version, tuple(sorted(t.topic for t in score.topics))))
    return out


def test_the_cycle_and_the_worker_read_each_business_as_its_kind(store, tmp_path, tiny_model, tiny_weights):
    from reviewwatch.config import load_settings
    from reviewwatch.cycle import score_new
    from reviewwatch.worker.scoring import ScoreBatcher
    from sentiment.batch import scorer_for

    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    _seed_mentions(store, slug="cafe", texts=["the food was great", "the staff were rude"])
    _seed_mentions(store, slug="hotel", texts=["the room was dirty"])
    settings = load_settings(_config(tmp_path, tiny_model, weights))
    assert settings.kind_of("hotel") == "hotel" and settings.kind_of("cafe") is None
    sc = scorer_for(settings.sentiment, settings.languages, settings.data_dir)

    assert score_new(store, settings, "hotel") == 1
    assert score_new(store, settings, "hotel") == 0  # its kind's version is current: nothing rescored
    hotel_topics = tuple(sorted(set(NINE_TOPICS) - {"quality", "price"}))
    assert _current(store) == {"hotel": {(sc.version_for("hotel"), hotel_topics)}}

    # the worker's batcher: both businesses' tasks at once, each read as its kind
    _seed_mentions(store, slug="hotel2", texts=["the bed was fine"])
    settings = load_settings(_config(tmp_path, tiny_model, weights)).model_copy(
        update={"businesses": [*settings.businesses, settings.business("hotel").model_copy(update={"id": "hotel2"})]})
    counts = ScoreBatcher(store, settings)._score(["cafe", "hotel", "hotel2"])
    assert counts == {"cafe": 2, "hotel2": 1}
    current = _current(store)
    assert current["cafe"] == {(sc.model_version, tuple(sorted(NINE_TOPICS)))}
    assert current["hotel2"] == {(sc.version_for("hotel"), hotel_topics)}


def test_a_business_that_becomes_a_kind_is_rescored_by_reviewwatch_score(tmp_path, tiny_model, tiny_weights):
    from click.testing import CliRunner

    from reviewwatch.cli import cli

    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    db = tmp_path / "rw.db"
    env = {"REVIEWWATCH_DATABASE_URL": f"sqlite:///{db}"}
    runner = CliRunner()

    def run(kind: str | None, *args: str):
        res = runner.invoke(cli, ["--config", str(_config(tmp_path, tiny_model, weights, kind)), *args], env=env)
        assert res.exit_code == 0, res.output
        return res.output

    run(None, "db", "upgrade")
    from storage.db import Store

    rw = Store(f"sqlite:///{db}")
    _seed_mentions(rw, slug="cafe", texts=["the food was great"])
    _seed_mentions(rw, slug="hotel", texts=["the room was dirty", "the bed was fine"])
    assert "scored 3 mentions" in run(None, "score", "--no-progress")
    versions = {v for vs in _current(rw).values() for v, _ in vs}
    assert len(versions) == 1  # no kind: everything read as any business
    out = run("hotel", "score", "--no-progress")  # the hotel declared a hotel: its two mentions again
    assert "scored 2 mentions" in out and "nothing to score" in out  # the cafe's one is current
    current = _current(rw)
    assert {v for v, _ in current["hotel"]} != {v for v, _ in current["cafe"]} == versions
    rw.dispose()


def test_unknown_kind_is_a_clear_configuration_error(tmp_path, tiny_model, tiny_weights):
    from reviewwatch.config import load_settings
    from reviewwatch.errors import ConfigError

    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    with pytest.raises(ConfigError, match="kind 'spa' has no topic heads in .*known kinds: hotel"):
        load_settings(_config(tmp_path, tiny_model, weights, kind="spa"))
    with pytest.raises(ConfigError, match="kind 'Hotel!' must be a slug"):
        load_settings(_config(tmp_path, tiny_model, weights, kind="Hotel!"))


def test_score_file_reads_topics_as_the_kind_given(tmp_path, tiny_model, tiny_weights):
    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": "the room was dirty"}])
    out = tmp_path / "out.jsonl"
    res = _cli(tmp_path, tiny_model, weights, "score", "--input", str(src), "--output", str(out),
               "--no-progress", "--kind", "hotel")
    assert res.exit_code == 0, res.output
    row = json.loads(out.read_text(encoding="utf-8"))
    assert "quality" not in row["topics"] and set(row["topic_sentiment"].values()) == {"negative"}
    res = _cli(tmp_path, tiny_model, weights, "score", "--input", str(src), "--output", str(out),
               "--no-progress", "--kind", "spa")
    assert res.exit_code != 0 and "no topic heads for kind 'spa'" in res.output


def test_perceived_reads_the_models_topics_as_the_kind_given(tmp_path, tiny_model, tiny_weights):
    weights = _weights_with_a_kind(tmp_path, tiny_weights)
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "the room was dirty"}, {"text": "the staff were rude"}])
    general = _cli(tmp_path, tiny_model, weights, "perceived", "--input", str(src), "--topic", "quality",
                   "--no-progress")
    assert general.exit_code == 0, general.output
    assert json.loads(general.output.splitlines()[-1])["n"] == 2  # the general heads find quality in both
    hotel = _cli(tmp_path, tiny_model, weights, "perceived", "--input", str(src), "--topic", "quality",
                 "--kind", "hotel", "--no-progress")
    assert hotel.exit_code != 0 and "no line is about topic 'quality'" in hotel.output
    service = _cli(tmp_path, tiny_model, weights, "perceived", "--input", str(src), "--topic", "service",
                   "--kind", "hotel", "--no-progress")
    assert service.exit_code == 0, service.output
    model_id, version = json.loads(general.output.splitlines()[-1])["model"].split()
    kind_id, kind_version = json.loads(service.output.splitlines()[-1])["model"].split()
    assert kind_id == model_id and kind_version != version  # the hotel's scores have their own version
