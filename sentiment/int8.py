"""Dynamic int8 quantization of an encoder's Linear layers (`sentiment.int8 = true`).

Two choices, both measured on the dev split (MODEL.md, "int8"):
- for the embedded model, activations use all 8 bits. torch's dynamic Linear keeps 7
  (`reduce_range`), a guard against the int16 saturation of AVX2's multiply-add (VNNI CPUs have
  none). Even on an AVX2 CPU the full range moved this model's embeddings closer to fp32 (dev
  cosine 0.985 -> 0.989 with the layers below in fp32; agreement with the fp32 label 92.6 -> 94.6 %),
  though saturation shows in the tail (the worst 0.1 % of texts: 0.905 -> 0.854). Other encoders
  keep torch's default, as random weights saturate far more;
- some FFN down-projections (`layer.N.output.dense`) stay fp32: the GELU outputs they read have
  outliers that one int8 scale per batch cannot hold. For the embedded multilingual-e5-small only
  layers 0, 4 and 5 matter (found one layer at a time); other encoders keep all of them.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import torch
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

EMBEDDED_FLOAT_FFN_LAYERS = (0, 4, 5)
_LAYER = re.compile(r"layer\.(\d+)\.")


class FullRangeDynamicLinear(nnqd.Linear):
    """torch's dynamic int8 Linear, quantising each batch's activations to the full 8 bits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params, reduce_range=False)
        return y.to(x.dtype)


def is_ffn_down_projection(module_name: str) -> bool:
    """BERT's FFN output Linear (`layer.N.output.dense`), not the attention's `attention.output.dense`."""
    return module_name.endswith("output.dense") and "attention" not in module_name


def stays_float(module_name: str, float_ffn_layers: Collection[int] | None) -> bool:
    """Whether this Linear keeps fp32: an FFN down-projection of a listed layer (None: every layer)."""
    if not is_ffn_down_projection(module_name):
        return False
    if float_ffn_layers is None:
        return True
    m = _LAYER.search(module_name)
    return m is not None and int(m.group(1)) in float_ffn_layers


def quantize_encoder(model: torch.nn.Module, float_ffn_layers: Collection[int] | None,
                     full_range: bool) -> torch.nn.Module:
    """The model with every other Linear in dynamic int8, per-output-channel weight scales."""
    spec = {name: per_channel_dynamic_qconfig for name, mod in model.named_modules()
            if isinstance(mod, torch.nn.Linear) and not stays_float(name, float_ffn_layers)}
    mapping = {torch.nn.Linear: FullRangeDynamicLinear if full_range else nnqd.Linear}
    return quantize_dynamic(model, spec, dtype=torch.qint8, mapping=mapping)


def version_tag(float_ffn_layers: Collection[int] | None, full_range: bool) -> bytes:
    """What goes into the model version, so scores from different int8 variants never mix."""
    kept = "all" if float_ffn_layers is None else "-".join(map(str, sorted(float_ffn_layers)))
    return f"int8-{'8' if full_range else '7'}bit-float-ffn-{kept}".encode()
