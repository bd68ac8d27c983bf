"""Averaging the weights of the last training epochs (stochastic weight averaging, applied to LoRA).

A LoRA update is ΔW = s·B·A with s = α/r. Averaging A and B separately does not give the mean of
the updates (the mean of products is not the product of means). Concatenating along the rank does:
mean_k B_k·A_k = [B_1 … B_K]/K · [A_1; …; A_K], exact at rank K·r. `average_lora` forms that mean
and, so the shipped adapter keeps its rank and size, truncates it by SVD to `rank` (the best
rank-`rank` approximation of the mean update, Eckart–Young); the scale s is unchanged.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

Tensor = torch.Tensor


def average_lora(states: Sequence[Mapping[str, Tensor]], rank: int | None = None) -> dict[str, Tensor]:
    """Mean update of LoRA state dicts (peft keys `...lora_A...` / `...lora_B...`) as one LoRA.

    `rank=None` keeps the exact mean at rank K·r; otherwise the SVD truncation to `rank`.
    """
    if not states:
        raise ValueError("no adapter states to average")
    k = len(states)
    out: dict[str, Tensor] = {}
    for a_key in states[0]:
        if "lora_A" not in a_key:
            continue
        b_key = a_key.replace("lora_A", "lora_B")
        a = torch.cat([s[a_key].float() for s in states], dim=0)  # (K·r, in)
        b = torch.cat([s[b_key].float() for s in states], dim=1) / k  # (out, K·r)
        if rank is None:
            out[a_key], out[b_key] = a, b
            continue
        u, sv, vh = torch.linalg.svd(b @ a, full_matrices=False)
        root = sv[:rank].sqrt()
        out[b_key] = (u[:, :rank] * root).contiguous()
        out[a_key] = (root[:, None] * vh[:rank]).contiguous()
    missing = [key for key in states[0] if "lora_" in key and key not in out]
    if missing:
        raise ValueError(f"LoRA keys without their A/B pair: {missing[:3]}")
    return out


def average_tensors(states: Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """Plain element-wise mean (the heads: linear layers, so this is their SWA)."""
    if not states:
        raise ValueError("no states to average")
    return {key: torch.stack([s[key].float() for s in states]).mean(0) for key in states[0]}
