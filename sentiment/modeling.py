"""Shared model pieces: loading an encoder, mean pooling, the trained heads, LoRA, batching.

Everything here imports torch/transformers; import this module lazily.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

LABELS = ("negative", "neutral", "positive")
HEADS_FILE = "heads.safetensors"
META_FILE = "heads.json"
LORA_TARGETS = ["query", "key", "value", "dense"]


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_tokenizer(path: str, local_only: bool = True):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=local_only)


def load_encoder(path: str, local_only: bool = True):
    """The real transformers loading path: `AutoModel.from_pretrained(path_or_hub_id)`."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a sub-second load: its bar would only clutter cycle logs
    config = AutoConfig.from_pretrained(path, local_files_only=local_only)
    kwargs = {}
    if config.model_type in ("bert", "xlm-roberta", "roberta"):
        kwargs["add_pooling_layer"] = False
    return AutoModel.from_pretrained(path, local_files_only=local_only, **kwargs)


def keep_first_layers(encoder, n: int):
    """The encoder cut to its first `n` transformer layers: half the layers, about half the FLOPs.

    BERT-style encoders keep their blocks in `encoder.layer`; the lower layers carry most of what
    a fine-tuned head needs, and dropping the top ones costs the least (Sajjad et al., 2023).
    """
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise ValueError(f"cannot cut {type(encoder).__name__} to {n} layers: it has no encoder.layer list")
    if not 1 <= n <= len(layers):
        raise ValueError(f"cannot keep {n} layers of an encoder with {len(layers)}")
    encoder.encoder.layer = layers[:n]
    encoder.config.num_hidden_layers = n
    return encoder


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


class Heads(nn.Module):
    """Sentiment (3 classes) and multi-label topic heads on the mean-pooled embedding."""

    def __init__(self, hidden: int, n_topics: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.sentiment = nn.Linear(hidden, len(LABELS))
        self.topics = nn.Linear(hidden, n_topics) if n_topics else None

    def forward(self, pooled: torch.Tensor):
        x = self.dropout(pooled)
        s = self.sentiment(x)
        t = self.topics(x) if self.topics is not None else None
        return s, t


def apply_lora(encoder, r: int = 8, alpha: int = 16, dropout: float = 0.1):
    from peft import LoraConfig, get_peft_model

    for p in encoder.parameters():
        p.requires_grad_(False)
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=LORA_TARGETS, bias="none")
    return get_peft_model(encoder, cfg)


def length_batches(lengths: Sequence[int], batch_size: int, shuffle_seed: int | None = None,
                   max_tokens: int | None = None) -> list[list[int]]:
    """Index batches of similar length. With a seed: shuffled within length buckets, batch order shuffled."""
    idx = list(range(len(lengths)))
    if shuffle_seed is not None:
        rng = random.Random(shuffle_seed)
        rng.shuffle(idx)
        chunk = batch_size * 50
        shuffled: list[list[int]] = []
        for c in range(0, len(idx), chunk):
            part = sorted(idx[c : c + chunk], key=lambda i: lengths[i])
            shuffled += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
        rng.shuffle(shuffled)
        return shuffled
    idx.sort(key=lambda i: lengths[i])
    out: list[list[int]] = []
    cur: list[int] = []
    cur_max = 0
    for i in idx:
        L = lengths[i]
        if cur and (len(cur) >= batch_size or (max_tokens and max(cur_max, L) * (len(cur) + 1) > max_tokens)):
            out.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, L)
    if cur:
        out.append(cur)
    return out


def pad_batch(seqs: Iterable[Sequence[int]], pad_id: int, fixed: int | None = None):
    seqs = list(seqs)
    L = fixed or max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        s = list(s)[:L]
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def save_heads(out_dir: Path, heads: Heads, meta: dict) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu().contiguous().clone() for k, v in heads.state_dict().items()}
    save_file(sd, str(out_dir / HEADS_FILE))
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_heads(weights_dir: Path) -> tuple[Heads, dict]:
    from safetensors.torch import load_file

    meta = json.loads((weights_dir / META_FILE).read_text(encoding="utf-8"))
    sd = load_file(str(weights_dir / HEADS_FILE))
    hidden = sd["sentiment.weight"].shape[1]
    n_topics = sd["topics.weight"].shape[0] if "topics.weight" in sd else 0
    heads = Heads(hidden, n_topics)
    heads.load_state_dict(sd)
    heads.eval()
    return heads, meta
