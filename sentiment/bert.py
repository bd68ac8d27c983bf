"""A BERT encoder for inference in plain torch: what scoring needs of transformers' `BertModel`.

Why: importing transformers' modeling code pulls in torch's compiler, distributed tensors and
attention kernels' registries, several seconds of CPU before the first text is scored (the
largest part of the 7.4 s a single-text `reviewwatch score` took). Scoring needs only the
forward pass of an absolute-position BERT, which is this module. Its parameter names are
`BertModel`'s (no pooler), so a `BertModel` state dict loads into it unchanged, and
`sentiment/int8.py` finds its Linear layers under the same names. A test holds its output to
`BertModel`'s on the real weights (tests/sentiment/test_fast_load.py).

Training and any model that is not a plain BERT keep transformers (sentiment/modeling.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# the config.json fields this module implements; anything else makes `supports` say no
_GELU = ("gelu",)


@contextmanager
def uninitialised() -> Iterator[None]:
    """Modules built in here get their parameters allocated, not initialised: for a model whose
    every tensor a state dict then replaces. (Random normal values for a 250 000-row embedding
    take half a second; building on the meta device instead imports torch's compiler.)"""
    classes: tuple[Any, ...] = (nn.Linear, nn.Embedding, nn.LayerNorm)
    saved = [cls.reset_parameters for cls in classes]
    for cls in classes:
        cls.reset_parameters = _no_init
    try:
        yield
    finally:
        for cls, f in zip(classes, saved):
            cls.reset_parameters = f


def _no_init(self: nn.Module) -> None:
    return None


@dataclass(frozen=True)
class BertShape:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    pad_token_id: int

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> BertShape:
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__})


def supports(cfg: Mapping[str, Any]) -> bool:
    """Whether a transformers config.json describes a BERT this module computes exactly."""
    return (cfg.get("model_type") == "bert" and cfg.get("hidden_act") in _GELU
            and cfg.get("position_embedding_type", "absolute") == "absolute"
            and not cfg.get("is_decoder", False) and not cfg.get("add_cross_attention", False)
            and all(k in cfg for k in BertShape.__dataclass_fields__ if k != "pad_token_id"))


class _Embeddings(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        self.word_embeddings = nn.Embedding(s.vocab_size, s.hidden_size, padding_idx=s.pad_token_id)
        self.position_embeddings = nn.Embedding(s.max_position_embeddings, s.hidden_size)
        self.token_type_embeddings = nn.Embedding(s.type_vocab_size, s.hidden_size)
        self.LayerNorm = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        # token type 0 everywhere and positions from 0, as BertModel does when given neither
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings.weight[0]
             + self.position_embeddings.weight[:n])
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        self.heads = s.num_attention_heads
        self.query = nn.Linear(s.hidden_size, s.hidden_size)
        self.key = nn.Linear(s.hidden_size, s.hidden_size)
        self.value = nn.Linear(s.hidden_size, s.hidden_size)

    def fuse(self) -> None:
        """query, key and value as one Linear: one GEMM (and, in int8, one quantisation of the
        input) instead of three. Per output row the same weights: fp32 differs by rounding
        only; int8, whose weight scales are per output row and input scale per call, not at all."""
        parts = (self.query, self.key, self.value)
        qkv = nn.Linear(parts[0].in_features, 3 * parts[0].out_features, device=parts[0].weight.device,
                        dtype=parts[0].weight.dtype)
        with torch.no_grad():
            qkv.weight.copy_(torch.cat([p.weight for p in parts]))
            qkv.bias.copy_(torch.cat([p.bias for p in parts]))
        self.qkv = qkv
        del self.query, self.key, self.value

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        b, n, h = x.shape
        if hasattr(self, "qkv"):
            q, k, v = self.qkv(x).view(b, n, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        else:
            shape = (b, n, self.heads, h // self.heads)
            q, k, v = (lin(x).view(shape).transpose(1, 2) for lin in (self.query, self.key, self.value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        return out.transpose(1, 2).reshape(b, n, h)


class _Dense(nn.Module):
    """Linear, then LayerNorm of the result plus the residual: BERT's `*Output` blocks."""

    def __init__(self, n_in: int, n_out: int, eps: float):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = nn.LayerNorm(n_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        setattr(self, "self", _SelfAttention(s))  # BertModel's name for it: `attention.self.query`
        self.output = _Dense(s.hidden_size, s.hidden_size, s.layer_norm_eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        return self.output(getattr(self, "self")(x, keep), x)


class _Intermediate(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        self.dense = nn.Linear(s.hidden_size, s.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # exact (erf) GELU: config hidden_act "gelu"


class _Layer(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        self.attention = _Attention(s)
        self.intermediate = _Intermediate(s)
        self.output = _Dense(s.intermediate_size, s.hidden_size, s.layer_norm_eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        a = self.attention(x, keep)
        return self.output(self.intermediate(a), a)


class _Stack(nn.Module):
    def __init__(self, s: BertShape):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(s) for _ in range(s.num_hidden_layers))


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor


class BertEncoder(nn.Module):
    """`BertModel(add_pooling_layer=False)`'s forward for inference: last hidden state only."""

    def __init__(self, shape: BertShape):
        super().__init__()
        self.config = shape  # as BertModel's: `num_hidden_layers` and the sizes
        self.embeddings = _Embeddings(shape)
        self.encoder = _Stack(shape)

    def fuse_qkv(self) -> BertEncoder:
        for layer in self.encoder.layer:
            getattr(layer.attention, "self").fuse()
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> EncoderOutput:
        x = self.embeddings(input_ids)
        keep = None
        if attention_mask is not None and not bool(attention_mask.all()):
            # a padded key gets no attention; [batch, 1, 1, keys] broadcasts over heads and queries
            keep = attention_mask[:, None, None, :].bool()
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return EncoderOutput(last_hidden_state=x)
