"""Fast by default: `precision = "auto"`, the prepared encoder (no transformers at load), and no
model load when there is nothing to score.

The prepared encoder must be the same model as the transformers one: same hidden states, same
scores, same model version; "auto" must resolve to a real precision recorded in the version.
"""

from __future__ import annotations

import json

import pytest

from sentiment.settings import SentimentSettings
from tests.sentiment.conftest import write_jsonl
from tests.sentiment.test_sentiment import FakeScorer, _seed_mentions

TEXTS = ["the food was great", "the staff were rude", "", "le service très bon",
         " ".join(["the food was great"] * 5 + ["the staff were rude"] * 12)]  # windowed at max_length


def _s(model, weights, **kw) -> SentimentSettings:
    kw.setdefault("threads", 1)
    return SentimentSettings(model=str(model), weights_dir=str(weights), batch_size=4, **kw)


def test_the_bert_module_computes_what_transformers_does(tiny_model):
    import torch
    from transformers import AutoModel

    from sentiment.bert import BertEncoder, BertShape, supports

    ref = AutoModel.from_pretrained(str(tiny_model), add_pooling_layer=False).eval()
    cfg = ref.config.to_dict()
    assert supports(cfg)
    mine = BertEncoder(BertShape.from_config(cfg)).eval()
    mine.load_state_dict(ref.state_dict(), strict=True)  # BertModel's names, no extra or missing part
    ids = torch.tensor([[2, 5, 9, 11, 7, 3], [2, 6, 3, 0, 0, 0]])
    mask = (torch.arange(6) < torch.tensor([[6], [3]])).long()
    with torch.inference_mode():
        a = ref(input_ids=ids, attention_mask=mask).last_hidden_state
        b = mine(ids, mask).last_hidden_state
    keep = mask.bool()
    assert torch.allclose(a[keep], b[keep], atol=1e-6), (a[keep] - b[keep]).abs().max()
    assert not supports({**cfg, "hidden_act": "relu"}) and not supports({**cfg, "model_type": "roberta"})


def test_the_prepared_encoder_is_the_same_model(tiny_model, tiny_weights, tmp_path):
    from sentiment.scorer import TransformersScorer

    data = tmp_path / "data"
    ref = TransformersScorer(_s(tiny_model, tiny_weights, precision="fp32", max_length=16), data_dir=data,
                             prepared=False)
    first = TransformersScorer(_s(tiny_model, tiny_weights, precision="fp32", max_length=16), data_dir=data,
                               prepared=True)
    assert type(first.model).__name__ == "BertModel"  # the first load goes through transformers ...
    kept = list((data / "models" / "prepared").iterdir())
    assert len(kept) == 1 and (kept[0] / "manifest.json").exists()  # ... and keeps what it built
    fast = TransformersScorer(_s(tiny_model, tiny_weights, precision="fp32", max_length=16), data_dir=data,
                              prepared=True)
    assert type(fast.model).__name__ == "BertEncoder"
    assert fast.model_version == first.model_version == ref.model_version
    assert fast._windows(TEXTS) == ref._windows(TEXTS)  # the same token ids, windows included
    assert len(fast._windows(TEXTS[-1:])) > 1
    for x, y in zip(ref.score(TEXTS), fast.score(TEXTS), strict=True):
        assert x.sentiment == y.sentiment and x.topics == y.topics
        for label, p in x.probabilities.items():
            assert abs(p - y.probabilities[label]) < 1e-5
    # int8 keeps the same FFN-down layers in fp32 in either module and quantises the rest
    # (query, key and value as one Linear here: the same weights per output row, the same scores)
    fast8 = TransformersScorer(_s(tiny_model, tiny_weights, int8=True), data_dir=data, prepared=True)
    ref8 = TransformersScorer(_s(tiny_model, tiny_weights, int8=True), data_dir=data, prepared=False)
    assert fast8.model_version == ref8.model_version != ref.model_version

    def kept_float(sc):
        return sorted(n for n, m in sc.model.named_modules() if type(m) is sc.torch.nn.Linear)

    assert kept_float(fast8) == kept_float(ref8) and kept_float(fast8)
    assert any(n.endswith("attention.self.qkv") for n, _ in fast8.model.named_modules())
    for x, y in zip(ref8.score(TEXTS), fast8.score(TEXTS), strict=True):
        for label, p in x.probabilities.items():
            assert abs(p - y.probabilities[label]) < 1e-5


def test_changed_weights_or_a_damaged_cache_fall_back_to_transformers(tiny_model, tiny_weights, tmp_path):
    import shutil

    from sentiment.scorer import TransformersScorer

    data = tmp_path / "data"
    weights = tmp_path / "weights"
    shutil.copytree(tiny_weights, weights)
    TransformersScorer(_s(tiny_model, weights, precision="fp32"), data_dir=data, prepared=True)
    [kept] = (data / "models" / "prepared").iterdir()
    (kept / "manifest.json").write_text("{not json", encoding="utf-8")
    again = TransformersScorer(_s(tiny_model, weights, precision="fp32"), data_dir=data, prepared=True)
    assert type(again.model).__name__ == "BertModel"  # unreadable: rebuilt through transformers
    meta = json.loads((weights / "heads.json").read_text())
    meta["temperature"] = 2.5
    (weights / "heads.json").write_text(json.dumps(meta))
    changed = TransformersScorer(_s(tiny_model, weights, precision="fp32"), data_dir=data, prepared=True)
    assert type(changed.model).__name__ == "BertModel" and changed.model_version != again.model_version
    assert len(list((data / "models" / "prepared").iterdir())) == 2


def test_the_model_version_does_not_depend_on_where_the_files_lie(real_data_dir, tmp_path):
    from sentiment.scorer import TransformersScorer

    link = tmp_path / "same-data-by-another-path"
    link.symlink_to(real_data_dir, target_is_directory=True)
    fp32 = SentimentSettings(precision="fp32")
    a = TransformersScorer(fp32, data_dir=real_data_dir, prepared=False)
    b = TransformersScorer(fp32, data_dir=link, prepared=False)
    assert a.path != b.path and a.model_version == b.model_version


def test_auto_chooses_from_the_hardware_by_the_documented_rule():
    import torch

    from sentiment.device import choose_precision

    cpu = torch.device("cpu")
    amx = {"amx_bf16": True, "avx512_bf16": True, "avx512_vnni": True}
    vnni = {"amx_bf16": False, "avx512_bf16": True, "avx512_vnni": True}
    avx2 = {"amx_bf16": False, "avx512_bf16": False, "avx512_vnni": False}
    assert choose_precision(cpu, int8_measured=True, cpu=amx) == "bf16"
    assert choose_precision(cpu, int8_measured=True, cpu=vnni) == "int8"
    assert choose_precision(cpu, int8_measured=False, cpu=vnni) == "fp32"  # no int8 variant chosen on dev
    assert choose_precision(cpu, int8_measured=True, cpu=avx2) == "fp32"
    assert choose_precision(torch.device("mps"), int8_measured=True, cpu=amx) == "fp32"


def test_auto_resolves_to_a_real_precision_recorded_in_the_version(tiny_model, tiny_weights):
    from sentiment.device import choose_precision, cpu_features
    from sentiment.scorer import load_scorer

    auto = load_scorer(_s(tiny_model, tiny_weights))  # the default setting
    assert SentimentSettings().precision == "auto"
    expected = choose_precision(auto.device, int8_measured="int8" in auto.meta, cpu=cpu_features())
    assert auto.precision == expected and auto.precision in ("fp32", "bf16", "int8")
    assert auto.runtime == f"{auto.device}, {auto.precision}"
    # the version is that of the explicit setting "auto" chose: never "auto" itself
    explicit = (_s(tiny_model, tiny_weights, int8=True) if expected == "int8"
                else _s(tiny_model, tiny_weights, precision=expected))
    assert load_scorer(explicit).model_version == auto.model_version
    fp32 = load_scorer(_s(tiny_model, tiny_weights, precision="fp32"))
    assert (fp32.model_version == auto.model_version) == (expected == "fp32")
    assert auto.score(["the food was great"])[0].sentiment in ("negative", "neutral", "positive")


def test_an_explicit_setting_wins_over_the_hardware(tiny_model, tiny_weights):
    from sentiment.scorer import load_scorer

    for precision in ("fp32", "bf16"):
        sc = load_scorer(_s(tiny_model, tiny_weights, precision=precision, device="cpu"))
        assert sc.precision == precision and {p.dtype for p in sc.model.parameters()} == {
            {"fp32": sc.torch.float32, "bf16": sc.torch.bfloat16}[precision]}
    assert load_scorer(_s(tiny_model, tiny_weights, int8=True)).precision == "int8"  # auto + int8 = int8


def test_model_identity_is_the_loaded_scorers_without_loading(tiny_model, tiny_weights, tmp_path):
    from sentiment.scorer import load_scorer, model_identity

    data = tmp_path / "data"
    settings = [_s(tiny_model, tiny_weights), _s(tiny_model, tiny_weights, precision="fp32"),
                _s(tiny_model, tiny_weights, precision="bf16"), _s(tiny_model, tiny_weights, int8=True)]
    assert model_identity(settings[0], data_dir=data) is None  # nothing prepared yet: unknown
    for s in settings:
        sc = load_scorer(s, data_dir=data)
        assert model_identity(s, data_dir=data) == (sc.model_id, sc.model_version)


def _cli(tmp_path, model, weights, *args):
    from click.testing import CliRunner

    from reviewwatch.cli import cli

    cfg = tmp_path / "reviewwatch.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "data"}"\nlanguages = ["en", "fr"]\n[sentiment]\n'
                   f'model = "{model}"\nweights_dir = "{weights}"\nbatch_size = 4\n', encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)


def test_score_with_no_text_loads_no_model(tmp_path, tiny_weights):
    # a model that cannot load: any attempt to load it fails the command
    missing = tmp_path / "no-such-model"
    for name, rows in (("empty", []), ("no-texts", ["not json", {"id": 1, "title": "no text"}])):
        src = write_jsonl(tmp_path / f"{name}.jsonl", rows)
        out = tmp_path / f"{name}.out"
        res = _cli(tmp_path, missing, tiny_weights, "score", "--input", str(src), "--output", str(out),
                   "--no-progress")
        assert "cannot load model" not in res.output, res.output
        assert res.exit_code == (0 if name == "empty" else 1), res.output  # 1: lines that failed
        assert len(out.read_text().splitlines()) == len(rows)
    # the check can fail: with one text to score, the model is loaded, and this one cannot be
    src = write_jsonl(tmp_path / "one.jsonl", [{"id": 1, "text": "the food was great"}])
    res = _cli(tmp_path, missing, tiny_weights, "score", "--input", str(src), "--output", str(tmp_path / "o"))
    assert res.exit_code == 2 and "cannot load model" in res.output


def test_store_with_nothing_new_to_score_loads_no_model(store, tmp_path, tiny_model, tiny_weights,
                                                        monkeypatch):
    import sentiment.scorer as S
    from reviewwatch.commands.score import ScorerLoader, score_store
    from reviewwatch.config import Settings
    from sentiment.batch import score_pending

    settings = Settings(data_dir=tmp_path / "data", languages=["en"],
                        sentiment=_s(tiny_model, tiny_weights).model_dump())
    quiet = {"show_progress": False, "echo": lambda *_: None}
    assert score_store(store, ScorerLoader(settings), **quiet)["total"] == 0  # an empty store
    _seed_mentions(store)
    assert score_store(store, ScorerLoader(settings), **quiet)["scored"] == 3  # loads, scores

    def refuse(*_a, **_k):
        raise AssertionError("a scorer was built")

    monkeypatch.setattr(S.TransformersScorer, "__init__", refuse)
    said: list[str] = []
    assert score_store(store, ScorerLoader(settings), show_progress=False, echo=said.append)["total"] == 0
    assert said and said[0].startswith("nothing to score")
    assert score_pending(store, settings.sentiment, languages=["en"], data_dir=settings.data_dir) == 0
    # once a mention lacks a current score, the model is loaded: the refusal shows
    score_store(store, FakeScorer("other"), **quiet)  # current scores now from another model
    with pytest.raises(AssertionError, match="a scorer was built"):
        score_store(store, ScorerLoader(settings), **quiet)


def test_the_embedded_model_prepared_scores_as_transformers_does(real_data_dir, tmp_path):
    import shutil

    from sentiment.scorer import TransformersScorer

    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    for p in (real_data_dir / "models").iterdir():  # the converted model, not its caches
        if p.name != "prepared":
            (data / "models" / p.name).symlink_to(p, target_is_directory=p.is_dir())
    texts = ["Le serveur était charmant.", "  Das  Bad war\tschmutzig!! ", "Официант был груб, ждали час.",
             "El local es muy ruidoso 😡", "ok", "Great staff,friendly and fast… 10/10 <s> </s>",
             "Mysig miljö och bra musik.\r\nMen dyrt.", "Très bon. " * 300]  # the last: several windows
    ref = TransformersScorer(SentimentSettings(precision="fp32"), data_dir=data, prepared=False)
    TransformersScorer(SentimentSettings(precision="fp32"), data_dir=data, prepared=True)  # prepares
    fast = TransformersScorer(SentimentSettings(precision="fp32"), data_dir=data, prepared=True)
    assert type(fast.model).__name__ == "BertEncoder" and fast.model_version == ref.model_version
    # transformers 5 runs the XLM-R tokenizer with a whitespace split before its Metaspace step:
    # the prepared tokenizer must give the very ids the model was trained with
    assert fast._windows(texts) == ref._windows(texts)
    for x, y in zip(ref.score(texts), fast.score(texts), strict=True):
        assert x.sentiment == y.sentiment and x.topics == y.topics and x.language == y.language
        for label, p in x.probabilities.items():
            assert abs(p - y.probabilities[label]) < 1e-4
    shutil.rmtree(data / "models" / "prepared")


def test_shards_side_by_side_give_what_one_stream_gives(tiny_model, tiny_weights):
    from sentiment.scorer import load_scorer

    sc = load_scorer(_s(tiny_model, tiny_weights, precision="fp32", threads=2, max_length=16))
    assert sc.workers == 2 and sc.torch.get_num_threads() == 1
    texts = [f"{'the food was great ' * (i % 7)}the staff were rude {i}" for i in range(40)]
    done: list[int] = []
    sharded = sc.score(texts, progress=done.append)
    assert sum(done) == len(texts)
    sc.workers = 1
    for x, y in zip(sc.score(texts), sharded, strict=True):
        assert x.sentiment == y.sentiment and x.topics == y.topics
        for label, p in x.probabilities.items():
            assert abs(p - y.probabilities[label]) < 1e-5
