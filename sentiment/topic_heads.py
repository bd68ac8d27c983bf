"""The per-topic heads: which topics a text talks about, and its opinion about each of them.

One learned query per topic attends over the encoder's last hidden states (softmax over the
text's tokens); the topic's attention-pooled vector, beside the mean-pooled one, gives the topic's
presence logit and a 3-class polarity (negative, neutral, positive). The encoder stays frozen:
the heads read the same hidden states the sentiment head pools, so scoring still takes one
encoder pass per text. Saved beside the shipped heads as `topic_heads.safetensors` +
`topic_heads.json` (thresholds per topic); trained by `sentiment/train_topics.py`.

Everything here imports torch; import this module lazily.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

TOPIC_HEADS_FILE = "topic_heads.safetensors"
TOPIC_META_FILE = "topic_heads.json"
ADAPTER_FILE = "adapter_model.safetensors"


def adapter_digest(weights_dir: Path) -> str | None:
    """SHA-1 of the LoRA adapter the heads read through (None where there is none): heads trained
    on one adapter's hidden states mean nothing on another's."""
    import hashlib

    path = weights_dir / ADAPTER_FILE
    return hashlib.sha1(path.read_bytes()).hexdigest() if path.exists() else None


class TopicHeads(nn.Module):
    """Per-topic attention pooling -> (presence logits [B, T], polarity logits [B, T, 3]).

    `slots` are the topics in order; a slot may be polarity-only (SemEval's opinions about the
    restaurant as a whole: `general`), its presence logit then unused.
    """

    def __init__(self, hidden: int, slots: list[str], inner: int = 128, dropout: float = 0.1,
                 pooling: str = "attention", with_mean: bool = True):
        super().__init__()
        if pooling not in ("attention", "mean"):
            raise ValueError(f"pooling must be attention or mean, not {pooling!r}")
        n = len(slots)
        self.slots = list(slots)
        # "mean": every topic reads the mean-pooled state (the baseline the attention is measured against)
        self.pooling = pooling
        # False: a topic reads only its own pooled vector (the mean's half of the input is zeros),
        # so its polarity cannot lean on the text's overall tone
        self.with_mean = with_mean
        self.norm = nn.LayerNorm(hidden)
        self.queries = nn.Parameter(torch.randn(n, hidden) * 0.02)
        self.presence_w = nn.Parameter(torch.zeros(n, 2 * hidden))
        self.presence_b = nn.Parameter(torch.zeros(n))
        # polarity: one small network shared by the topics (the new topics have few examples),
        # told which topic it reads by a learned per-topic offset
        self.polarity_in = nn.Linear(2 * hidden, inner)
        self.topic_offset = nn.Parameter(torch.zeros(n, inner))
        self.polarity_out = nn.Linear(inner, 3)
        self.dropout = nn.Dropout(dropout)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.norm(states)
        m = mask.to(x.dtype)
        scores = torch.einsum("blh,th->btl", x, self.queries) / math.sqrt(x.shape[-1])
        scores = scores.masked_fill(m[:, None, :] == 0, float("-inf"))
        mean = (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        if self.pooling == "mean":
            pooled = mean[:, None, :].expand(-1, len(self.slots), -1)
        else:
            pooled = torch.einsum("btl,blh->bth", torch.softmax(scores, dim=-1), x)
        context = mean[:, None, :].expand_as(pooled) if self.with_mean else torch.zeros_like(pooled)
        feats = self.dropout(torch.cat([pooled, context], dim=-1))
        presence = (feats * self.presence_w).sum(-1) + self.presence_b
        h = torch.nn.functional.gelu(self.polarity_in(feats) + self.topic_offset)
        polarity = self.polarity_out(self.dropout(h))
        return presence, polarity


def save_topic_heads(out_dir: Path, heads: TopicHeads, meta: dict) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu().contiguous().clone() for k, v in heads.state_dict().items()}
    save_file(sd, str(out_dir / TOPIC_HEADS_FILE))
    meta = {**meta, "slots": heads.slots, "inner": heads.polarity_in.out_features, "pooling": heads.pooling,
            "with_mean": heads.with_mean}
    (out_dir / TOPIC_META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_topic_heads(weights_dir: Path) -> tuple[TopicHeads, dict] | None:
    """The topic heads in `weights_dir`, or None where there are none (older or user weights)."""
    if not (weights_dir / TOPIC_META_FILE).exists():
        return None
    meta = json.loads((weights_dir / TOPIC_META_FILE).read_text(encoding="utf-8"))
    if meta.get("adapter_sha1") and meta["adapter_sha1"] != adapter_digest(weights_dir):
        import logging

        logging.getLogger("sentiment.topic_heads").warning(
            "%s: the topic heads were trained on another adapter (retrained weights?): not used; "
            "retrain them with `python -m sentiment.train_topics`", weights_dir)
        return None
    return read_heads(weights_dir, meta), meta


def read_heads(heads_dir: Path, meta: dict) -> TopicHeads:
    """The heads saved in `heads_dir` (`topic_heads.safetensors`), shaped as their `meta` says, in
    eval mode; no check of what they were trained on (the callers' business)."""
    from safetensors.torch import load_file

    sd = load_file(str(heads_dir / TOPIC_HEADS_FILE))
    heads = TopicHeads(sd["queries"].shape[1], list(meta["slots"]), inner=int(meta["inner"]),
                       pooling=meta.get("pooling", "attention"), with_mean=bool(meta.get("with_mean", True)))
    heads.load_state_dict(sd)
    heads.eval()
    return heads
