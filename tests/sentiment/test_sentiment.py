"""Sentiment stage on a tiny offline model: loading path, training, heads, windows, file contract, store."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sentiment.settings import SentimentSettings
from tests.sentiment.conftest import tiny_examples, train_tiny, write_jsonl

REQUIRED_TOPICS = {"service", "wait_time", "price", "quality", "cleanliness", "ambience", "location",
                   "communication", "booking"}


def test_package_import_is_light():
    code = "import sys, sentiment, sentiment.settings; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_default_taxonomy_is_multilingual():
    topics = SentimentSettings().topics
    assert REQUIRED_TOPICS <= set(topics)
    for key, td in topics.items():
        assert len(td.descriptions) + len(td.examples) >= 6, key


def test_settings_forbid_unknown_keys():
    with pytest.raises(Exception):
        SentimentSettings(modle="x")


def test_dequant_q4_block_layout():
    from sentiment.convert import Q4_BLOCK_BYTES, dequant_q4

    d = np.float16(0.5).tobytes()
    qs = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    w = dequant_q4(memoryview(d + qs), 1, 32)[0]
    assert len(d + qs) == Q4_BLOCK_BYTES
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def _settings(model: Path, weights: Path | None = None, **kw) -> SentimentSettings:
    kw.setdefault("precision", "fp32")  # the reference the other paths are compared with; "auto" has its tests
    return SentimentSettings(model=str(model), weights_dir=str(weights or ""), batch_size=4, threads=1, **kw)


def test_tiny_encoder_scores(tiny_model, tiny_weights):
    from sentiment.scorer import LABELS, Scorer, SentimentScore, load_scorer

    sc = load_scorer(_settings(tiny_model, tiny_weights), languages=["en", "fr"])
    assert isinstance(sc, Scorer)
    assert sc.model_id.endswith("+heads") and len(sc.model_version) == 12
    res = sc.score(["the food was great", "the staff were rude", "", "le service très bon"])
    assert len(res) == 4
    for r in res:
        assert isinstance(r, SentimentScore)
        assert set(r.probabilities) == set(LABELS)
        assert abs(sum(r.probabilities.values()) - 1) < 1e-4
        assert 1.0 <= r.stars <= 5.0
        assert r.sentiment == max(r.probabilities, key=r.probabilities.get)
        assert set(r.topic_scores) == REQUIRED_TOPICS
        assert set(r.topics) <= REQUIRED_TOPICS
    with pytest.raises(dataclasses.FrozenInstanceError):
        res[0].sentiment = "x"
    assert res[0].sentiment == "positive" and res[1].sentiment == "negative"  # learnt from the tiny set
    assert res[3].language == "fr"


def test_long_texts_are_windowed_not_cut(tiny_model, tiny_weights):
    from sentiment.scorer import load_scorer

    sc = load_scorer(_settings(tiny_model, tiny_weights, max_length=16))
    long = " ".join(["the food was great"] * 10 + ["the staff were rude"] * 30)
    wins = sc._windows([long])
    assert len(wins) > 1 and all(len(w[1]) <= 16 for w in wins)
    assert sum(w[2] for w in wins) == len(sc.tok(sc.prefix + long, add_special_tokens=False)["input_ids"])
    # the rude tail dominates: it would be lost if the text were cut at 16 tokens
    assert sc.score([long])[0].sentiment == "negative"


def test_int8_keeps_the_ffn_down_projections_in_float(tiny_model, tiny_weights):
    import torch

    from torch.ao.nn.quantized import dynamic as nnqd

    from sentiment.int8 import is_ffn_down_projection
    from sentiment.scorer import load_scorer

    fp32 = load_scorer(_settings(tiny_model, tiny_weights))
    sc = load_scorer(_settings(tiny_model, tiny_weights, int8=True))
    kinds = {name: type(m) for name, m in sc.model.named_modules()
             if name.endswith("dense") or name.endswith(("query", "key", "value"))}
    # weights without an int8 section: every FFN down-projection stays fp32, torch's 7-bit activations
    kept = [n for n in kinds if is_ffn_down_projection(n)]
    assert len(kept) == 2 and all(kinds[n] is torch.nn.Linear for n in kept)
    quantised = [n for n in kinds if not is_ffn_down_projection(n)]
    assert quantised and all(kinds[n] is nnqd.Linear for n in quantised)
    assert sc.model_version != fp32.model_version and sc.runtime == "cpu, int8"
    texts = ["The staff were lovely.", "Cold food and a rude waiter."]
    a, b = fp32.score(texts), sc.score(texts)
    for x, y in zip(a, b):
        assert abs(x.probabilities["positive"] - y.probabilities["positive"]) < 0.1


def test_int8_variant_comes_from_the_weights_else_the_safe_default():
    from sentiment.int8 import stays_float, variant_for, version_tag

    assert variant_for({}) == (None, False)  # no section: torch's 7 bits, every FFN down-projection fp32
    assert variant_for({"int8": {"float_ffn_layers": [5, 0, 4], "full_range": True}}) == ((5, 0, 4), True)
    layers, _ = variant_for({"int8": {"float_ffn_layers": [0, 4, 5], "full_range": True}})
    assert stays_float("encoder.layer.4.output.dense", layers)
    assert not stays_float("encoder.layer.7.output.dense", layers)
    assert not stays_float("encoder.layer.4.attention.output.dense", layers)
    assert not stays_float("encoder.layer.4.intermediate.dense", None)
    assert stays_float("encoder.layer.7.output.dense", None)
    tags = {version_tag(layers, full) for layers in ((0, 4, 5), None) for full in (True, False)}
    assert len(tags) == 4


def test_int8_variant_is_chosen_on_dev_and_used_by_the_scorer(tiny_model, tiny_weights, tmp_path):
    import shutil

    import torch
    from torch.ao.nn.quantized import dynamic as nnqd

    from sentiment.int8 import FullRangeDynamicLinear
    from sentiment.int8_select import select_and_write
    from sentiment.scorer import load_scorer
    from tests.sentiment.conftest import tiny_examples

    weights = tmp_path / "w"
    shutil.copytree(tiny_weights, weights)
    before = load_scorer(_settings(tiny_model, weights, int8=True)).model_version
    dev = tiny_examples(1)
    section = select_and_write(weights, dev, model=str(tiny_model), tolerance=100.0)
    keys = [k for k in section["fp32_dev"] if k not in ("texts_per_s", "topics")]

    def worst(c):
        return min(c[k] - section["fp32_dev"][k] for k in keys)

    # the chosen variant is the candidate closest to fp32 in its worst figure
    chosen = [c for c in section["candidates"] if (c["float_ffn_layers"], c["full_range"])
              == (section["float_ffn_layers"], section["full_range"])]
    assert len(chosen) == 1 and worst(chosen[0]) == max(worst(c) for c in section["candidates"])
    assert section["within_tolerance"] and section["worst_change_points"] == round(worst(chosen[0]), 2)
    assert set(section["layer_sensitivity_cosine"]) == {"0", "1"}
    assert all(0 < c <= 1.0001 for c in section["layer_sensitivity_cosine"].values())
    assert {len(c["float_ffn_layers"]) for c in section["candidates"]} == {0, 1, 2}
    assert {"texts_per_s", "topics"} <= set(section["fp32_dev"]) and len(section["fp32_dev"]) >= 3
    meta = json.loads((weights / "heads.json").read_text())
    assert meta["int8"]["float_ffn_layers"] == section["float_ffn_layers"] and meta["temperature"] > 0
    # whatever was chosen is what an int8 scorer runs: record a variant by hand and load it
    meta["int8"].update(float_ffn_layers=[1], full_range=True)
    (weights / "heads.json").write_text(json.dumps(meta))
    sc = load_scorer(_settings(tiny_model, weights, int8=True))
    assert sc.model_version != before  # scores from the two variants never mix
    kinds = {n: type(m) for n, m in sc.model.named_modules() if n.endswith("dense")}
    assert kinds["encoder.layer.1.output.dense"] is torch.nn.Linear
    assert kinds["encoder.layer.0.output.dense"] is FullRangeDynamicLinear
    assert not any(k is nnqd.Linear for k in kinds.values())  # no 7-bit Linear left
    # a tolerance of -100 points cannot be met: chosen over every candidate and flagged
    strict = select_and_write(weights, dev, model=str(tiny_model), tolerance=-100.0)
    assert not strict["within_tolerance"]


def test_full_range_int8_quantises_activations_to_8_bits_not_7():
    import torch
    from torch.ao.nn.quantized import dynamic as nnqd
    from torch.ao.quantization import per_channel_dynamic_qconfig

    from sentiment.int8 import FullRangeDynamicLinear, quantize_encoder

    # one input feature: no pair of products to saturate, so the error is the activations' step
    torch.manual_seed(0)
    lin = torch.nn.Linear(1, 64)
    lin.qconfig = per_channel_dynamic_qconfig
    x = torch.randn(512, 1)
    ref = lin(x).detach()
    errors = {}
    for cls in (nnqd.Linear, FullRangeDynamicLinear):
        errors[cls] = (cls.from_float(lin)(x) - ref).pow(2).mean().item()
    assert errors[FullRangeDynamicLinear] < 0.5 * errors[nnqd.Linear]  # half the step: ~1/4 the error
    q = quantize_encoder(torch.nn.Sequential(torch.nn.Linear(4, 4)), None, full_range=True)
    assert type(q[0]) is FullRangeDynamicLinear


def test_training_is_reproducible(tiny_model, tiny_weights, tmp_path):
    from safetensors.numpy import load_file

    train_tiny(tiny_model, tmp_path / "w", tmp_path / "work")
    for f in ("heads.safetensors", "adapter_model.safetensors"):
        a, b = load_file(str(tiny_weights / f)), load_file(str(tmp_path / "w" / f))
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_allclose(a[k], b[k], atol=1e-6)
    meta = json.loads((tmp_path / "w" / "heads.json").read_text())
    assert meta["base_model"] == str(tiny_model) and meta["temperature"] > 0


def test_label_smoothing_changes_the_heads_and_is_recorded(tiny_model, tiny_weights, tmp_path):
    from safetensors.numpy import load_file

    train_tiny(tiny_model, tmp_path / "w", tmp_path / "work", label_smoothing=0.2)
    meta = json.loads((tmp_path / "w" / "heads.json").read_text())
    assert meta["train"]["label_smoothing"] == 0.2
    assert json.loads((tiny_weights / "heads.json").read_text())["train"]["label_smoothing"] == 0.0
    a, b = load_file(str(tiny_weights / "heads.safetensors")), load_file(str(tmp_path / "w" / "heads.safetensors"))
    assert any(np.abs(a[k] - b[k]).max() > 1e-4 for k in a)


def test_label_smoothing_out_of_range_is_refused(capsys):
    from sentiment.train import main

    with pytest.raises(SystemExit) as exc:
        main(["--label-smoothing", "0.7"])
    assert exc.value.code == 2 and "between 0 and 0.5" in capsys.readouterr().err


def test_review_file_needs_the_review_domains_and_an_existing_file(tmp_path, capsys):
    from sentiment.train import main

    rows = tmp_path / "rows.jsonl"
    rows.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["--review-file", str(rows)])
    assert exc.value.code == 2 and "--review-file needs --review-domains" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--review-domains", "--review-file", str(tmp_path / "absent.jsonl")])
    assert exc.value.code == 2 and "no such file" in capsys.readouterr().err


def test_distillation_uses_the_teachers_logits_and_is_recorded(tiny_model, tiny_weights, tmp_path):
    import torch
    from safetensors.numpy import load_file

    train_tiny(tiny_model, tmp_path / "w", tmp_path / "work", distill_from=tiny_weights, distill_weight=0.7)
    meta = json.loads((tmp_path / "w" / "heads.json").read_text())
    assert meta["train"]["distillation"] == {"teacher": tiny_weights.name, "teacher_model": str(tiny_model),
                                             "weight": 0.7, "temperature": 2.0}
    cached = torch.load(tmp_path / "work" / "teacher_logits.pt", weights_only=True)
    assert cached.shape == (len(tiny_examples()), 3) and cached.abs().sum() > 0
    a, b = load_file(str(tiny_weights / "heads.safetensors")), load_file(str(tmp_path / "w" / "heads.safetensors"))
    assert any(np.abs(a[k] - b[k]).max() > 1e-4 for k in a)


def test_compact_encoder_keeps_its_first_layers_in_training_and_scoring(tiny_model, tiny_weights, tmp_path):
    from sentiment.scorer import ModelError, load_scorer

    out = tmp_path / "w"
    train_tiny(tiny_model, out, tmp_path / "work", encoder_layers=1, distill_from=tiny_weights)
    meta = json.loads((out / "heads.json").read_text())
    assert meta["encoder_layers"] == 1
    compact, full = load_scorer(_settings(tiny_model, out)), load_scorer(_settings(tiny_model, tiny_weights))
    assert len(compact.model.encoder.layer) == 1 and len(full.model.encoder.layer) == 2
    assert compact.model_version != full.model_version
    [r] = compact.score(["the staff was great"])
    assert r.sentiment in ("negative", "neutral", "positive") and abs(sum(r.probabilities.values()) - 1) < 1e-4
    meta["encoder_layers"] = 3  # more than the encoder has
    (out / "heads.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="cannot keep 3 layers of an encoder with 2"):
        load_scorer(_settings(tiny_model, out))


def test_distillation_from_a_folder_without_weights_is_refused(tmp_path, capsys):
    from sentiment.train import main

    with pytest.raises(SystemExit) as exc:
        main(["--distill-from", str(tmp_path)])
    assert exc.value.code == 2 and "no trained weights" in capsys.readouterr().err


def test_weights_for_another_encoder_are_refused(tiny_model, tiny_weights, tmp_path):
    import shutil

    from sentiment.scorer import ModelError, load_scorer

    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    with pytest.raises(ModelError, match="trained on"):
        load_scorer(_settings(other, tiny_weights))


def test_sequence_classifier_labels_are_mapped(tiny_classifier):
    from sentiment.scorer import _label_map, load_scorer

    sc = load_scorer(_settings(tiny_classifier))
    assert sc.kind == "classifier" and sc.model_id == str(tiny_classifier)
    [r] = sc.score(["the food was great"])
    assert abs(sum(r.probabilities.values()) - 1) < 1e-4 and 1 <= r.stars <= 5
    assert [m[0] for m in _label_map({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"})] == [
        "negative", "negative", "neutral", "positive", "positive"]
    assert _label_map({0: "LABEL_0", 1: "LABEL_1"}) == [("negative", 1.0), ("positive", 5.0)]


def _cli(tmp_path, tiny_model, tiny_weights, *args):
    from click.testing import CliRunner

    from reviewwatch.cli import cli

    cfg = tmp_path / "reviewwatch.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "data"}"\nlanguages = ["en", "fr"]\n[sentiment]\n'
        f'model = "{tiny_model}"\nweights_dir = "{tiny_weights}"\nbatch_size = 4\n', encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)


def test_score_file_contract_with_bad_lines(tmp_path, tiny_model, tiny_weights):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"id": 1, "text": "the food was great", "extra": "ignored"},
        "this is not json",
        {"id": "b", "title": "no text"},
        {"id": "c", "text": 42},
        {"id": "d", "text": "the staff were rude"},
        "[1, 2]",
    ])
    out = tmp_path / "out.jsonl"
    res = _cli(tmp_path, tiny_model, tiny_weights, "score", "--input", str(src), "--output", str(out),
               "--no-progress")
    assert res.exit_code != 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == [1, None, "b", "c", "d", None]
    ok = [x for x in lines if "error" not in x]
    assert [x["id"] for x in ok] == [1, "d"]
    for x in ok:
        assert set(x) == {"id", "language", "sentiment", "probabilities", "stars", "topics", "topic_scores",
                          "topic_sentiment"}
        assert x["sentiment"] in ("negative", "neutral", "positive")
    errs = {x["id"]: x["error"] for x in lines if "error" in x}
    assert "missing text" in errs["b"] and "string" in errs["c"]
    assert not (tmp_path / "data" / "reviewwatch.db").exists()  # the store was not touched


def test_score_file_all_good_exits_zero(tmp_path, tiny_model, tiny_weights):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": t} for i, t in enumerate(["good", "bad"])])
    res = _cli(tmp_path, tiny_model, tiny_weights, "score", "--input", str(src), "--output",
               str(tmp_path / "o.jsonl"), "--no-progress")
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 2


class FakeScorer:
    def __init__(self, version: str, label: str = "positive"):
        self.model_id, self.model_version, self.label, self.calls = "fake", version, label, 0

    def score(self, texts, progress=None):
        from sentiment.scorer import SentimentScore

        self.calls += len(texts)
        p = {k: (1.0 if k == self.label else 0.0) for k in ("negative", "neutral", "positive")}
        return [SentimentScore(language="en", sentiment=self.label, probabilities=p, stars=5.0,
                               topics=("service",), topic_scores={"service": 0.9, "price": 0.1}) for _ in texts]


def _seed_mentions(store, n=3, slug="cafe", texts=None):
    from storage.models import Business, Mention, Source

    texts = texts or [f"text {i}" for i in range(n)]
    with store.transaction() as s:
        b = Business(slug=slug, name=slug.title())
        s.add(b)
        s.flush()
        src = Source(business_id=b.id, type="feed", target=f"https://example.org/{slug}")
        s.add(src)
        s.flush()
        for i, text in enumerate(texts):
            s.add(Mention(business_id=b.id, source_id=src.id, external_id=f"m{i}", text=text,
                          content_hash=f"{slug}-h{i}"))


def test_store_scoring_rescoring_keeps_history(store):
    from sqlalchemy import func, select

    from reviewwatch.commands.score import score_store
    from storage.models import Mention, Score, ScoreTopic

    _seed_mentions(store)
    v1 = FakeScorer("v1")
    assert score_store(store, v1, chunk=2, show_progress=False, echo=lambda *_: None)["scored"] == 3
    assert score_store(store, v1, chunk=2, show_progress=False, echo=lambda *_: None)["total"] == 0
    assert v1.calls == 3
    v2 = FakeScorer("v2", "negative")
    score_store(store, v2, chunk=2, show_progress=False, echo=lambda *_: None)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Score)) == 6
        cur = list(s.scalars(select(Score).where(Score.is_current.is_(True))))
        assert len(cur) == 3 and {c.model_version for c in cur} == {"v2"} and {c.label for c in cur} == {"negative"}
        assert s.scalar(select(func.count()).select_from(ScoreTopic)) == 6
        assert {m.language for m in s.scalars(select(Mention))} == {"en"}
    # back to v1: its scores are reused, not recomputed
    score_store(store, v1, chunk=2, show_progress=False, echo=lambda *_: None)
    assert v1.calls == 3
    with store.session() as s:
        cur = list(s.scalars(select(Score).where(Score.is_current.is_(True))))
        assert {c.model_version for c in cur} == {"v1"}


def test_each_topic_keeps_its_own_opinion_in_the_store(store):
    """score_topics.sentiment holds the model's opinion per topic; none when it gave none or an
    unknown word (never a guess), and the views count it for that topic."""
    from sqlalchemy import select, text

    from reviewwatch.commands.score import score_store
    from sentiment.scorer import SentimentScore
    from storage.models import ScoreTopic

    class TopicScorer(FakeScorer):
        def score(self, texts, progress=None):
            p = {"negative": 0.1, "neutral": 0.1, "positive": 0.8}
            return [SentimentScore(language="en", sentiment="positive", probabilities=p, stars=5.0,
                                   topics=("service", "wait_time", "price"),
                                   topic_scores={"service": 0.9, "wait_time": 0.8, "price": 0.7},
                                   topic_sentiment={"wait_time": "negative", "service": "positive",
                                                    "price": "<b>bad</b>"})
                    for _ in texts]

    _seed_mentions(store, n=1)
    score_store(store, TopicScorer("v1"), show_progress=False, echo=lambda *_: None)
    with store.session() as s:
        stored = {t.topic: t.sentiment for t in s.scalars(select(ScoreTopic))}
        views = dict(s.execute(text("SELECT topic, label FROM v_mention_topics")).all())
    assert stored == {"service": "positive", "wait_time": "negative", "price": None}
    assert views == {"service": "positive", "wait_time": "negative", "price": "positive"}


def test_failed_batch_keeps_old_scores_current(store):
    from sqlalchemy import select

    from reviewwatch.commands.score import score_store
    from storage.models import Score

    _seed_mentions(store)
    score_store(store, FakeScorer("v1"), show_progress=False, echo=lambda *_: None)

    class Broken(FakeScorer):
        def score(self, texts, progress=None):
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError):
        score_store(store, Broken("v2"), show_progress=False, echo=lambda *_: None)
    with store.session() as s:
        cur = list(s.scalars(select(Score).where(Score.is_current.is_(True))))
        assert len(cur) == 3 and {c.model_version for c in cur} == {"v1"}


def test_train_command_on_labelled_files(tmp_path, tiny_model, tiny_weights):
    from tests.sentiment.conftest import TRAIN_ROWS

    rows = [{"id": f"x{k}-{i}", "text": t, "label": lab, "topics": top}
            for k in range(4) for i, (t, lab, top) in enumerate(TRAIN_ROWS)]
    rows.append({"id": "nolabel", "text": "the room"})
    f = write_jsonl(tmp_path / "labelled.jsonl", rows)
    out = tmp_path / "heads"
    res = _cli(tmp_path, tiny_model, tiny_weights, "train", str(f), "--out", str(out), "--work-dir",
               str(tmp_path / "work"), "--epochs", "1", "--threads", "1", "--max-length", "32")
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "heads.json").read_text())
    assert meta["base_model"] == str(tiny_model) and meta["trained_topics"][0] == "service"
    assert (out / "adapter_model.safetensors").exists() and (tmp_path / "work" / "best.pt").exists()
    # the int8 variant was chosen on the calibration rows and recorded with the weights
    assert set(meta["int8"]["float_ffn_layers"]) <= {0, 1} and len(meta["int8"]["candidates"]) >= 3
    assert "int8: fp32 FFN down-projections in layers" in res.output
    res = _cli(tmp_path, tiny_model, tiny_weights, "train")
    assert res.exit_code == 2 and "FILES or --data-dir" in res.output


def test_cycle_score_stage_scores_only_its_business(store, tmp_path, tiny_model, tiny_weights):
    """The cycle's real score stage (sentiment.batch through reviewwatch.cycle.score_new)."""
    from sqlalchemy import select

    from reviewwatch.config import load_settings
    from reviewwatch.cycle import score_new
    from storage.models import Business, Mention, Score

    _seed_mentions(store)  # business "cafe", 3 mentions
    _seed_mentions(store, slug="hotel", texts=["the staff were rude"])
    cfg = tmp_path / "reviewwatch.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "data"}"\nlanguages = ["en", "fr"]\n[sentiment]\n'
        f'model = "{tiny_model}"\nweights_dir = "{tiny_weights}"\nbatch_size = 2\n', encoding="utf-8")
    settings = load_settings(cfg)

    assert score_new(store, settings, "cafe") == 3
    assert score_new(store, settings, "cafe") == 0  # nothing new: nothing rescored
    with store.session() as s:
        scored = s.execute(select(Business.slug, Score.model_id, Score.label).join(
            Mention, Mention.id == Score.mention_id).join(Business, Business.id == Mention.business_id)
            .where(Score.is_current.is_(True))).all()
    assert [row.slug for row in scored] == ["cafe"] * 3
    assert all(row.model_id.startswith(str(tiny_model)) for row in scored)
    assert {row.label for row in scored} <= {"negative", "neutral", "positive"}
    assert score_new(store, settings, "hotel") == 1
