"""Distillation: a trained teacher's soft sentiment labels for every training text."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sentiment.data import LABELS
from sentiment.train_config import TrainConfig

log = logging.getLogger("sentiment.train")


def teacher_logits(cfg: TrainConfig, ids: list[list[int]], pad_token_id: int, device: Any) -> Any:
    """The teacher's sentiment logits for every training text (`ids`, as the student reads them).

    Computed once and cached in the work directory, so a resumed run does not redo it.
    """
    import torch
    from peft import PeftModel

    from sentiment import modeling as M

    cache = cfg.work_dir / "teacher_logits.pt"
    if cache.exists():
        cached = torch.load(cache, weights_only=True)
        if cached.shape[0] == len(ids):
            return cached.to(device)
    t0 = time.time()
    assert cfg.distill_from is not None, "teacher_logits needs cfg.distill_from"
    heads, meta = M.load_heads(Path(cfg.distill_from))
    enc = M.load_encoder(cfg.teacher_model or cfg.model_path, cfg.local_only)
    if meta.get("encoder_layers"):
        M.keep_first_layers(enc, int(meta["encoder_layers"]))
    teacher = PeftModel.from_pretrained(enc, str(cfg.distill_from)).merge_and_unload().eval()
    out = torch.zeros(len(ids), len(LABELS))
    with torch.inference_mode():
        for idx in M.length_batches([len(x) for x in ids], 64):
            b, m = M.pad_batch([ids[i] for i in idx], pad_token_id)
            s, _ = heads(M.mean_pool(teacher(input_ids=b, attention_mask=m).last_hidden_state, m))
            out[idx] = s
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    torch.save(out, cache)
    log.info("teacher logits from %s for %d texts in %.1f min", cfg.distill_from, len(ids),
             (time.time() - t0) / 60)
    return out.to(device)
