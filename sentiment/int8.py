"""Dynamic int8 quantization of an encoder's Linear layers (`sentiment.int8 = true`).

Two choices, made for each set of trained weights on the dev split by `sentiment.int8_select`
(recorded in the weights' `heads.json`, section `int8`; MODEL.md, "int8"):
- whether activations use all 8 bits. torch's dynamic Linear keeps 7 (`reduce_range`), a guard
  against the int16 saturation of AVX2's multiply-add (VNNI CPUs have none). For the embedded model
  the full range moved embeddings closer to fp32 even on an AVX2 CPU, though saturation shows in the
  tail; random weights saturate far more;
- which FFN down-projections (`layer.N.output.dense`) stay fp32: the GELU outputs they read have
  outliers that one int8 scale per batch cannot hold, and only a few layers matter (for the shipped
  multilingual-e5-small adapter, layer 4 alone).
Weights without that section (an arbitrary classifier, heads trained before it existed) get torch's
default: 7-bit activations and every FFN down-projection in fp32.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Mapping
from typing import Any

import torch
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

_LAYER = re.compile(r"layer\.(\d+)\.")


class FullRangeDynamicLinear(nnqd.Linear):
    """torch's dynamic int8 Linear, quantising each batch's activations to the full 8 bits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params, reduce_range=False)
        return y.to(x.dtype)


def is_ffn_down_projection(module_name: str) -> bool:
    """BERT's FFN output Linear (`layer.N.output.dense`), not the attention's `attention.output.dense`."""
    return module_name.endswith("output.dense") and "attention" not in module_name


def layer_index(module_name: str) -> int | None:
    """N in `...layer.N....`: which encoder layer a module belongs to."""
    m = _LAYER.search(module_name)
    return int(m.group(1)) if m else None


def stays_float(module_name: str, float_ffn_layers: Collection[int] | None) -> bool:
    """Whether this Linear keeps fp32: an FFN down-projection of a listed layer (None: every layer)."""
    if not is_ffn_down_projection(module_name):
        return False
    if float_ffn_layers is None:
        return True
    n = layer_index(module_name)
    return n is not None and n in float_ffn_layers


def quantize_encoder(model: torch.nn.Module, float_ffn_layers: Collection[int] | None,
                     full_range: bool, inplace: bool = False) -> torch.nn.Module:
    """The model with every other Linear in dynamic int8, per-output-channel weight scales.

    `inplace`: swap the layers of `model` itself instead of a copy (the scorer's load: a copy of
    the fp32 encoder costs time and memory it never uses)."""
    spec = {name: per_channel_dynamic_qconfig for name, mod in model.named_modules()
            if isinstance(mod, torch.nn.Linear) and not stays_float(name, float_ffn_layers)}
    mapping = {torch.nn.Linear: FullRangeDynamicLinear if full_range else nnqd.Linear}
    with warnings.catch_warnings():
        # torch announces that eager-mode quantization moves to torchao; it still runs here, and
        # with int8 a default path the notice would land on every `reviewwatch score`'s stderr
        warnings.filterwarnings("ignore", r".*(torch\.ao\.quantization is deprecated|quantize_per_(tensor|channel)"
                                          r" and other quantized tensor creation)", category=Warning)
        return quantize_dynamic(model, spec, dtype=torch.qint8, mapping=mapping, inplace=inplace)


def version_tag(float_ffn_layers: Collection[int] | None, full_range: bool) -> bytes:
    """What goes into the model version, so scores from different int8 variants never mix."""
    kept = "all" if float_ffn_layers is None else "-".join(map(str, sorted(float_ffn_layers)))
    return f"int8-{'8' if full_range else '7'}bit-float-ffn-{kept}".encode()


def variant_for(meta: Mapping[str, Any]) -> tuple[tuple[int, ...] | None, bool]:
    """(fp32 FFN-down layers, full 8-bit range) recorded with the weights, else torch's safe default."""
    section = meta.get("int8")
    if not isinstance(section, Mapping) or "float_ffn_layers" not in section:
        return None, False
    return tuple(int(n) for n in section["float_ffn_layers"]), bool(section.get("full_range", False))
