"""What one training run is asked to do: `TrainConfig`, shared by the trainer and its command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sentiment.data import SEMEVAL_TOPICS

# e5 models expect this prefix on every text they embed for classification.
QUERY_PREFIX = "query: "


@dataclass
class TrainConfig:
    model_path: str
    out_dir: Path
    work_dir: Path
    topics: tuple[str, ...] = SEMEVAL_TOPICS
    epochs: int = 5
    batch_size: int = 32
    lr: float = 6e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = 128
    lora_r: int = 16
    lora_alpha: int = 32
    seed: int = 13
    threads: int = 2
    device: str = "cpu"  # the shipped weights were trained on the CPU; "cuda" is faster, not bit-identical
    max_minutes: float | None = None
    ckpt_every: int = 100
    topic_loss_weight: float = 1.0
    label_smoothing: float = 0.0  # of the sentiment cross-entropy; the temperature is fitted on dev after
    average_last: int = 1  # >1: also try the weight average of the last N epochs, keep it if dev prefers it
    encoder_layers: int | None = None  # keep only the encoder's first N layers (a faster, smaller model)
    distill_from: Path | None = None  # a trained weights dir (adapter + heads) whose logits teach this run
    teacher_model: str = ""  # the teacher's encoder; empty: the same encoder as this run
    distill_weight: float = 0.5  # share of the sentiment loss taken by the teacher's soft labels
    distill_temperature: float = 2.0
    local_only: bool = True
    base_model: str = "multilingual-e5-small"
    extra: dict = field(default_factory=dict)


def epoch_weights_path(work_dir: Path, epoch: int) -> Path:
    """Where a run keeps the adapter and heads of one finished epoch (counted from 1)."""
    return work_dir / f"epoch{epoch}.pt"


def load_epoch_weights(work_dir: Path, epoch: int) -> dict:
    """{"lora", "heads"} of one finished epoch, on the CPU whichever device trained it."""
    import torch

    return torch.load(epoch_weights_path(work_dir, epoch), weights_only=True, map_location="cpu")
