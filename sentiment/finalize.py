"""The end of a run: the best checkpoint (or a weight average of the last epochs, when dev prefers
it) calibrated on dev and written as adapter + `heads.json` (the format the scorer loads)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment.calibration import fit_temperature, fit_thresholds
from sentiment.data import LABELS
from sentiment.metrics import micro_f1_multilabel
from sentiment.settings import default_topics
from sentiment.train_config import QUERY_PREFIX, epoch_weights_path, load_epoch_weights

if TYPE_CHECKING:
    from sentiment.trainer import Trainer

log = logging.getLogger("sentiment.train")


def calibrate_similarity(trainer: Trainer) -> tuple[float | None, float | None]:
    """Offset for similarity-scored topics, chosen on dev with the SemEval topics as a proxy."""
    torch = trainer.torch
    rows = [e for e in trainer.dev_examples if e.topics is not None]
    if not rows:
        return None, None
    keys = [k for k in trainer.cfg.topics]
    tax = default_topics()
    x = torch.nn.functional.normalize(trainer.pooled([e.text for e in rows]), dim=-1)
    cos = {}
    for k in keys:
        P = torch.nn.functional.normalize(trainer.pooled(tax[k].descriptions + tax[k].examples), dim=-1)
        cos[k] = (x @ P.T).max(dim=1).values
    best, best_f = 0.85, -1.0
    for off in [0.70 + 0.005 * i for i in range(61)]:
        preds = [{k for k in keys if cos[k][i] >= off} for i in range(len(rows))]
        f = micro_f1_multilabel([set(e.topics or ()) for e in rows], preds)
        if f > best_f:
            best, best_f = off, f
    return round(best, 3), round(best_f, 4)


def try_average(trainer: Trainer, last: int, single: dict) -> tuple[dict, Any]:
    """Weight average of the last `last` epochs (sentiment.weight_average), at the adapter's rank.

    Kept only if its dev score beats the best single epoch's (`single`); returns the record for
    heads.json and, when kept, its (res, logits, tscores) with the average loaded.
    """
    from sentiment.weight_average import average_lora, average_tensors  # imports torch
    wanted = list(range(trainer.cfg.epochs - last + 1, trainer.cfg.epochs + 1))
    paths = [epoch_weights_path(trainer.cfg.work_dir, e) for e in wanted]
    if not all(p.exists() for p in paths):
        log.warning("weight averaging skipped: epoch weights %s not all in %s", wanted, trainer.cfg.work_dir)
        return {"epochs": wanted, "kept": False, "reason": "epoch weights missing"}, None
    cks = [load_epoch_weights(trainer.cfg.work_dir, e) for e in wanted]
    keep_lora, keep_heads = trainer._trainable_state(), {
        k: v.detach().clone() for k, v in trainer.heads.state_dict().items()}
    lora = average_lora([c["lora"] for c in cks], rank=trainer.cfg.lora_r)
    loaded = trainer.model.load_state_dict(lora, strict=False)
    assert not loaded.unexpected_keys, loaded.unexpected_keys
    trainer.heads.load_state_dict(average_tensors([c["heads"] for c in cks]))
    evaluated = trainer.evaluate(trainer.dev_set, trainer.dev_examples)
    kept = evaluated[0]["score"] > single["score"]
    log.info("average of epochs %s: dev %s (best single epoch %s): %s", wanted,
             json.dumps(evaluated[0]), single["score"], "kept" if kept else "not kept")
    if not kept:
        trainer.model.load_state_dict(keep_lora, strict=False)
        trainer.heads.load_state_dict(keep_heads)
    record = {"epochs": wanted, "rank": trainer.cfg.lora_r, "dev": evaluated[0],
              "best_single_dev_score": single["score"], "kept": kept}
    return record, (evaluated if kept else None)


def finalize(trainer: Trainer, meta_extra: dict | None = None) -> dict:
    """Load the best checkpoint, calibrate on dev, write adapter + heads to out_dir."""
    best = trainer.cfg.work_dir / "best.pt"
    if best.exists():
        trainer.load_ckpt(best, full=False)
    res, logits, tscores = trainer.evaluate(trainer.dev_set, trainer.dev_examples)
    averaging = None
    if trainer.cfg.average_last > 1:
        averaging, evaluated = try_average(trainer, trainer.cfg.average_last, res)
        if evaluated is not None:
            res, logits, tscores = evaluated
    ys = [LABELS.index(e.label) for e in trainer.dev_examples if e.label in LABELS]
    lg = [x for e, x in zip(trainer.dev_examples, logits) if e.label in LABELS]
    temperature = fit_temperature(lg, ys)
    tt = [set(e.topics) for e in trainer.dev_examples if e.topics is not None]
    ts = [s for e, s in zip(trainer.dev_examples, tscores) if e.topics is not None]
    thresholds = fit_thresholds(ts, tt, trainer.cfg.topics) if tt else {}
    sim_offset, sim_f1 = calibrate_similarity(trainer)
    out = trainer.cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
    cfg = trainer.cfg
    meta = {
        "format": "reviewwatch-heads/1",
        "base_model": cfg.base_model,
        "similarity_offset": sim_offset if sim_offset is not None else 0.85,
        "similarity_dev_micro_f1_semeval_topics": sim_f1,
        "labels": list(LABELS),
        "trained_topics": list(cfg.topics),
        "temperature": temperature,
        "topic_thresholds": thresholds,
        "query_prefix": QUERY_PREFIX,
        "pooling": "mean",
        "adapter": "lora",
        **({"encoder_layers": cfg.encoder_layers} if cfg.encoder_layers else {}),
        "train": {
            "seed": cfg.seed, "epochs_planned": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
            "head_lr": cfg.head_lr, "max_length": cfg.max_length, "lora_r": cfg.lora_r,
            "lora_alpha": cfg.lora_alpha, "label_smoothing": cfg.label_smoothing, "device": str(trainer.device), "lora_targets": trainer.M.LORA_TARGETS,
            "train_examples": len(trainer.train_set["ids"]), "dev_examples": len(trainer.dev_examples),
            "history": trainer.state.get("history", []), **(meta_extra or {}),
        },
        "dev": res,
    }
    if averaging is not None:
        meta["train"]["averaging"] = averaging
    if cfg.distill_from is not None:
        meta["train"]["distillation"] = {
            "teacher": Path(cfg.distill_from).name,
            "teacher_model": Path(cfg.teacher_model).name if cfg.teacher_model else cfg.base_model,
            "weight": cfg.distill_weight, "temperature": cfg.distill_temperature}
    trainer.M.save_heads(out, trainer.heads, meta)
    log.info("wrote %s (temperature %.3f, thresholds %s)", out, temperature, thresholds)
    return meta
