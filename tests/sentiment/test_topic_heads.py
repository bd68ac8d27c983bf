"""The per-topic heads: shipped files, labels, the tiny-model path with and without them, and the
shipped model's opinion per topic on a few clear texts (real model, one load)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from sentiment.data import semeval_part
from sentiment.topic_labels import LABELS_FILE, TEST_FILE
from sentiment.topic_rules import NEW_TOPICS, NINE_TOPICS
from tests.sentiment.test_sentiment import _settings

LABELS = {"negative", "neutral", "positive"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_shipped_topic_head_files_load():
    from sentiment.scorer import SHIPPED_WEIGHTS
    from sentiment.topic_heads import load_topic_heads

    loaded = load_topic_heads(SHIPPED_WEIGHTS)
    assert loaded is not None, "sentiment/weights/topic_heads.json is missing"
    heads, meta = loaded
    assert heads.slots == [*NINE_TOPICS, "general"] and meta["polarity_only"] == ["general"]
    assert heads.queries.shape == (10, 384)
    assert set(meta["topic_thresholds"]) == set(NINE_TOPICS)
    assert all(0 < v < 1 for v in meta["topic_thresholds"].values())


def test_label_files_hold_ids_and_known_topics_only():
    train = _rows(LABELS_FILE)
    test = _rows(TEST_FILE)
    assert {"id", "lang", "part", "topics"} == set(train[0]) and {"id", "lang", "topics"} == set(test[0])
    assert all(set(r["topics"]) <= set(NEW_TOPICS) for r in train)
    assert all(set(r["topics"]) <= set(NINE_TOPICS) for r in test)
    # the test split is the held-out part only, and nothing of it is in the training labels
    assert all(semeval_part(r["id"]) == "test" for r in test)
    assert all(r["part"] in ("train", "dev") and semeval_part(r["id"]) == r["part"] for r in train)
    langs = Counter(r["lang"] for r in test)
    assert all(langs[lang] >= 300 for lang in ("en", "fr", "es", "ru")), langs
    assert {t for r in test for t in r["topics"]} == set(NINE_TOPICS)


def test_tiny_model_without_topic_heads_keeps_the_fallback(tiny_model, tiny_weights):
    from sentiment.scorer import load_scorer

    sc = load_scorer(_settings(tiny_model, tiny_weights), languages=["en"])
    assert sc.topic_heads is None
    res = sc.score(["the food was great", "the staff were rude and slow"])
    assert all(r.topic_sentiment == {} for r in res)  # the store counts the overall label then
    scores, polarities = sc.score_with_polarities(["the food was great"])
    assert polarities == [{}] and scores[0].sentiment in LABELS


def test_tiny_model_with_topic_heads_gives_an_opinion_per_topic(tiny_model, tiny_weights, tmp_path):
    import torch

    from sentiment.scorer import load_scorer
    from sentiment.topic_heads import TopicHeads, save_topic_heads

    weights = tmp_path / "weights"
    shutil.copytree(tiny_weights, weights)
    before = load_scorer(_settings(tiny_model, weights), languages=["en"]).model_version
    torch.manual_seed(1)
    heads = TopicHeads(32, [*NINE_TOPICS, "general"], inner=8)
    with torch.no_grad():
        heads.presence_b.fill_(3.0)  # every topic present, so every one needs an opinion
    save_topic_heads(weights, heads, {"polarity_only": ["general"],
                                      "topic_thresholds": {t: 0.5 for t in NINE_TOPICS}})
    sc = load_scorer(_settings(tiny_model, weights, max_length=16), languages=["en"])
    assert sc.model_version != before  # the heads are part of the model
    texts = ["the food was great", "the staff were rude and slow " * 8]  # the second: several windows
    res = sc.score(texts)
    for r in res:
        assert set(r.topics) == set(NINE_TOPICS)
        assert set(r.topic_sentiment) == set(r.topics) and set(r.topic_sentiment.values()) <= LABELS
    # sharded scoring (two workers) gives what one stream gives
    many = [f"the food was great {i}" for i in range(12)] + texts
    small = _settings(tiny_model, weights, max_length=16).model_copy(update={"batch_size": 2})
    one, two = load_scorer(small, languages=["en"]), load_scorer(small, languages=["en"])
    one.workers, two.workers = 1, 2
    a, b = one.score(many), two.score(many)
    assert [x.topic_sentiment for x in a] == [x.topic_sentiment for x in b]
    for x, y in zip(a, b):
        assert x.topic_scores == pytest.approx(y.topic_scores, abs=1e-5)


@pytest.fixture(scope="module")
def shipped(real_data_dir):
    from sentiment.scorer import load_scorer
    from sentiment.settings import SentimentSettings

    return load_scorer(SentimentSettings(precision="fp32", device="cpu"), languages=["en", "fr", "de"],
                       data_dir=real_data_dir)


def test_shipped_model_gives_an_opinion_per_topic(shipped):
    texts = ["The food was great but the bathroom was dirty.",
             "La nourriture était excellente mais les toilettes étaient sales.",
             "Das Essen war hervorragend, aber das Bad war schmutzig.",
             "We waited an hour for our table and nobody apologised.",
             "Check-in took 35 minutes.",
             "Great staff, friendly and fast."]
    res = shipped.score(texts)
    for r in res:  # every topic found has the opinion about it
        assert r.topics and set(r.topic_sentiment) == set(r.topics), (r.topics, r.topic_sentiment)
        assert set(r.topic_sentiment.values()) <= LABELS
    # the four topics SemEval does not annotate are found now (the examples)
    for r in res[:2]:
        assert {"quality", "cleanliness"} <= set(r.topics), (r.topics, r.topic_scores)
    assert "quality" in res[2].topics
    assert "wait_time" in res[3].topics and res[3].topic_sentiment["wait_time"] == "negative"
    assert "wait_time" in res[4].topics
    assert res[5].topic_sentiment.get("service") == "positive"
    assert not {"booking", "communication"} & set(res[5].topics)


def _labelled_file(tmp_path: Path, with_topics: bool) -> Path:
    from tests.sentiment.conftest import TRAIN_ROWS, write_jsonl

    rows = [{"id": f"x{k}-{i}", "text": t, "label": lab, **({"topics": top} if with_topics else {})}
            for k in range(4) for i, (t, lab, top) in enumerate(TRAIN_ROWS)]
    return write_jsonl(tmp_path / "labelled.jsonl", rows)


def test_train_command_retrains_the_topic_heads_on_its_own_adapter(tmp_path, tiny_model, tiny_weights):
    """`reviewwatch train` used to leave the per-topic heads behind: heads read an adapter's
    hidden states, so after a retrain the old ones were refused and topics fell back."""
    from sentiment.scorer import load_scorer
    from sentiment.topic_heads import adapter_digest
    from tests.sentiment.test_sentiment import _cli

    out, work = tmp_path / "heads", tmp_path / "work"
    res = _cli(tmp_path, tiny_model, tiny_weights, "train", str(_labelled_file(tmp_path, True)), "--out", str(out),
               "--work-dir", str(work), "--epochs", "1", "--threads", "1", "--max-length", "32",
               "--no-int8-select", "--topic-epochs", "4")
    assert res.exit_code == 0, res.output
    assert "per-topic heads: dev micro-F1" in res.output
    meta = json.loads((out / "topic_heads.json").read_text())
    assert meta["adapter_sha1"] == adapter_digest(out) and adapter_digest(out) != adapter_digest(tiny_weights)
    assert meta["base_model"] == str(tiny_model) and meta["train"]["epochs"] == 4
    assert meta["train"]["train_sentences"] + meta["train"]["dev_sentences"] == 48
    # the states were cached under the new adapter's own key
    assert [p.name for p in (work / "topics").iterdir()] == [adapter_digest(out)[:12]]
    sc = load_scorer(_settings(tiny_model, out), languages=["en"])
    assert sc.topic_heads is not None  # loaded: its adapter digest matches
    results = sc.score(["the food was great", "the staff were rude and slow", "very expensive place"])
    assert any(r.topic_sentiment for r in results)  # not vacuous: the heads did give topics
    assert all(set(r.topic_sentiment) == set(r.topics) for r in results)
    assert all(v in LABELS for r in results for v in r.topic_sentiment.values())


def test_train_command_says_when_no_row_names_a_topic(tmp_path, tiny_model, tiny_weights):
    from tests.sentiment.test_sentiment import _cli

    out = tmp_path / "heads"
    res = _cli(tmp_path, tiny_model, tiny_weights, "train", str(_labelled_file(tmp_path, False)), "--out", str(out),
               "--work-dir", str(tmp_path / "work"), "--epochs", "1", "--threads", "1", "--max-length", "32",
               "--no-int8-select")
    assert res.exit_code == 0, res.output
    assert "per-topic heads not trained" in res.output
    assert (out / "heads.json").exists() and not (out / "topic_heads.json").exists()
    res = _cli(tmp_path, tiny_model, tiny_weights, "train", str(_labelled_file(tmp_path, True)), "--out", str(out),
               "--topic-epochs", "0")
    assert res.exit_code == 2 and "--topic-epochs must be at least 1" in res.output


def test_polarity_loss_of_a_batch_without_opinions_is_zero_not_nan():
    import torch

    from sentiment.train_topics import polarity_loss

    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)
    logits = torch.randn(4, 10, 3, requires_grad=True)
    none = polarity_loss(ce, logits, torch.full((4, 10), -100))
    assert float(none.detach()) == 0.0
    none.backward()  # and it still has a gradient path (zeros), so the step can run
    assert logits.grad is not None and float(logits.grad.abs().sum()) == 0.0
    some = torch.full((4, 10), -100)
    some[0, 0] = 2
    assert float(polarity_loss(ce, logits, some).detach()) > 0.0


def test_retrain_adds_the_hotel_sentences_and_reads_a_long_row_up_to_its_first_window(tmp_path, tiny_model,
                                                                                       tiny_weights):
    """`reviewwatch train --data-dir` trains the heads as the shipped ones were (SemEval + the
    committed M-ABSA hotel sentences); a user's row longer than one window used to stop training."""
    from sentiment.data import Example
    from sentiment.mabsa import read_rows
    from sentiment.train_topics import retrain
    from tests.sentiment.conftest import tiny_examples

    weights = tmp_path / "weights"
    shutil.copytree(tiny_weights, weights)
    rows = tiny_examples(4)
    long_row = Example(id="long", text="the food was great . " * 40, label="positive", topics=["quality"],
                       source="tiny-en")  # ~200 tokens: the tiny model's window is 64
    meta = retrain(weights, model=str(tiny_model), models_dir=tmp_path / "data", work_dir=tmp_path / "work",
                   train_rows=[*rows[:40], long_row], dev_rows=rows[40:], precision="fp32", epochs=1, hotel=True)
    assert meta is not None
    hotel_train, hotel_dev = read_rows()
    assert meta["train"]["train_sentences"] == 41 + len(hotel_train)
    assert meta["train"]["dev_sentences"] == 8 + len(hotel_dev)
    assert set(meta["dev_by_source"]) == {"semeval", "mabsa_hotel"}
    assert (weights / "topic_heads.safetensors").exists()


def test_shipped_hotel_heads_read_a_hotels_rooms_as_quality(shipped):
    """The general heads read a hotel room as ambience (the issue's finding on the hotel split);
    a business declared a hotel is read with the hotel heads (sentiment/kinds.py)."""
    texts = ["The room was spacious and the bed very comfortable.",
             "La chambre était petite et le matelas défoncé.",
             "Das Bad war schmutzig."]
    general = shipped.score(texts)
    hotel = shipped.score(texts, business_kind="hotel")
    assert "quality" not in general[0].topics, general[0].topics
    assert hotel[0].topic_sentiment.get("quality") == "positive", (hotel[0].topics, hotel[0].topic_scores)
    assert hotel[1].topic_sentiment.get("quality") == "negative", (hotel[1].topics, hotel[1].topic_scores)
    assert hotel[2].topic_sentiment.get("cleanliness") == "negative", (hotel[2].topics, hotel[2].topic_scores)
    assert shipped.version_for("hotel") != shipped.model_version
