"""`reviewwatch train`: train the sentiment and topic heads (LoRA adapter + linear heads).

With `--data-dir` (the team's labelled folder, see sentiment/MODEL.md) it reproduces the shipped
weights: same files, same split, same seed. With FILES it trains on those labelled JSONL files
(`text`, `label`, optional `topics`), holding out a stable 10% for calibration.
`--with-corrections` adds the analysts' corrections from the store.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import click

from reviewwatch.errors import InputError


def corrections_examples(store: Any) -> list:
    """The corrected live mentions as training examples (storage.corrections.corrected_examples).

    The label is the analyst's, or the model's when only the topics were corrected; topics
    supervise training only where an analyst set them.
    """
    from sentiment.data import LABELS, Example
    from storage.corrections import corrected_examples

    with store.session() as session:
        rows = corrected_examples(session)
    return [
        Example(
            id=f"correction-{row['mention_id']}",
            text=row["text"],
            label=row["label"] if row["label"] in LABELS else None,
            lang=row["language"] or "",
            topics=list(row["topics"]) if row["topics_corrected"] else None,
            source="corrections",
        )
        for row in rows
        if row["label"] in LABELS or row["topics_corrected"]
    ]


@click.command("train")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False),
              help="The team's labelled data folder (SemEval/UMSAB files): reproduces the shipped weights.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Where the adapter and heads go (default: sentiment.weights_dir or <data_dir>/models/heads).")
@click.option("--work-dir", type=click.Path(file_okay=False), default=".train",
              show_default=True, help="Checkpoints and log; training resumes from here.")
@click.option("--epochs", type=int, default=5, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=6e-4, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True, help="Tokens per training text.")
@click.option("--lora-r", type=int, default=16, show_default=True, help="LoRA rank.")
@click.option("--lora-alpha", type=int, default=32, show_default=True,
              help="LoRA scale numerator (scale = alpha / r).")
@click.option("--average-last", type=int, default=1, show_default=True,
              help="Also try the weight average of the last N epochs; kept if it scores better on dev.")
@click.option("--hotel-sentences", type=click.IntRange(0, 8), default=3, show_default=True,
              help="With --data-dir: M-ABSA's hotel training sentences as sentence-level rows, each in this "
                   "many of its 8 languages (0: none). The shipped weights were trained with 3.")
@click.option("--review-domains/--no-review-domains", default=False, show_default=True,
              help="With --data-dir: also M-ABSA's course, food, phone and lecture-comment training sentences "
                   "(sentiment/data/mabsa_reviews.jsonl) as sentence-level rows.")
@click.option("--max-minutes", type=float, default=None, help="Stop (and finalise) after this long.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--device", default="cpu", show_default=True,
              help="cpu (how the shipped weights were trained), cuda or cuda:N: faster, not bit-identical to a CPU run.")
@click.option("--with-corrections", is_flag=True, help="Add the analysts' corrections from the store.")
@click.option("--no-resume", is_flag=True, help="Start afresh even if a checkpoint exists.")
@click.option("--no-int8-select", is_flag=True,
              help="Skip choosing the int8 variant for these weights on the calibration data (a few minutes).")
@click.option("--topic-epochs", type=int, default=10, show_default=True,
              help="Epochs of the per-topic heads (presence and opinion per topic), trained after the adapter.")
@click.option("--no-topic-heads", is_flag=True,
              help="Do not train the per-topic heads: topics then come from the 5-topic head and "
                   "topic_sentiment stays empty.")
@click.pass_context
def command(ctx: click.Context, files: tuple[str, ...], data_dir: str | None, out_dir: str | None,
            work_dir: str, epochs: int, batch_size: int, lr: float, max_length: int, lora_r: int,
            lora_alpha: int, average_last: int, hotel_sentences: int, review_domains: bool,
            max_minutes: float | None,
            seed: int, threads: int, device: str, with_corrections: bool, no_resume: bool, no_int8_select: bool,
            topic_epochs: int, no_topic_heads: bool) -> None:
    """Train the sentiment/topic heads (fixed seed, reproducible)."""
    app = ctx.obj
    settings = app.settings
    if not files and not data_dir:
        raise InputError("give labelled JSONL FILES or --data-dir")
    from sentiment.device import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise InputError(f"--device: {exc}") from None
    logging.getLogger("sentiment.train").setLevel(logging.INFO)
    from sentiment.convert import ensure_converted
    from sentiment.data import build_splits, read_training_files
    from sentiment.train import TrainConfig, run_training

    sset = settings.sentiment
    if sset.model:
        model_path, base = sset.model, sset.model
    else:
        model_path, base = str(ensure_converted(Path(settings.data_dir) / "models")), "multilingual-e5-small"
    if data_dir:
        splits = build_splits(Path(data_dir))
        train, dev = splits.train, splits.dev
        if hotel_sentences:
            from sentiment.mabsa import added_training_rows

            train = train + added_training_rows(splits, hotel_sentences)
        if review_domains:
            from sentiment.mabsa_domains import added_training_rows as review_rows

            train = train + review_rows(splits)
    else:
        train, dev = [], []
    if files:
        for e in read_training_files([Path(f) for f in files]):
            h = int(hashlib.sha1(e.id.encode()).hexdigest(), 16) % 10
            (dev if h == 0 else train).append(e)
    if with_corrections:
        corr = corrections_examples(app.store())
        click.echo(f"adding {len(corr)} analyst corrections")
        train += corr
    if topic_epochs < 1:
        raise InputError(f"--topic-epochs must be at least 1, got {topic_epochs}")
    if average_last < 1 or average_last > epochs:
        raise InputError(f"--average-last must be between 1 and --epochs ({epochs}), got {average_last}")
    if not train or not dev:
        raise InputError("not enough labelled rows to train and calibrate")
    out = Path(out_dir or sset.weights_dir or Path(settings.data_dir) / "models" / "heads")
    cfg = TrainConfig(model_path=model_path, out_dir=out, work_dir=Path(work_dir), epochs=epochs,
                      batch_size=batch_size, lr=lr, max_length=max_length, max_minutes=max_minutes, seed=seed,
                      threads=threads, lora_r=lora_r, lora_alpha=lora_alpha, average_last=average_last,
                      device=device, base_model=base,
                      local_only=not sset.allow_download)
    click.echo(f"training on {len(train)} texts, calibrating on {len(dev)}; checkpoints in {work_dir}")
    meta = run_training(cfg, train, dev, resume=not no_resume,
                        meta_extra={"sources": sorted({e.source for e in train}),
                                   "hotel_sentences": hotel_sentences if data_dir else 0,
                                   "review_domains": bool(review_domains and data_dir)})
    click.echo(f"wrote {out}: dev {meta['dev']}")
    if not no_int8_select:
        from sentiment.int8_select import select_and_write

        click.echo("choosing the int8 variant on the calibration data (sentiment.int8 = true)")
        logging.getLogger("sentiment.int8_select").setLevel(logging.INFO)
        section = select_and_write(out, dev, model=sset.model, converted=None if sset.model else Path(model_path))
        click.echo(f"int8: fp32 FFN down-projections in layers {section['float_ffn_layers']}, "
                   f"{'8' if section['full_range'] else '7'}-bit activations"
                   + ("" if section["within_tolerance"] else " (no variant within 1 point of fp32 on dev)"))
    if not no_topic_heads:
        _train_topic_heads(out, sset, Path(settings.data_dir), Path(work_dir), train, dev, topic_epochs, seed,
                           hotel=bool(data_dir))
    if not sset.weights_dir and out.resolve() != (Path(__file__).parents[2] / "sentiment" / "weights").resolve():
        click.echo(f"set sentiment.weights_dir = \"{out}\" to score with these weights")


def state_precision(sset: Any) -> str:
    """The precision the per-topic heads' training states are computed in: the one scoring will
    run on this CPU (heads learn from states like those they will read). int8 scoring keeps fp32
    hidden states, and fp16 is a GPU setting, so both train on fp32."""
    if sset.precision == "auto":
        import torch

        from sentiment.device import choose_precision

        chosen = choose_precision(torch.device("cpu"), int8_measured=True)
        return "bf16" if chosen == "bf16" else "fp32"
    return "bf16" if sset.precision == "bf16" else "fp32"


def _train_topic_heads(out: Path, sset: Any, data_dir: Path, work_dir: Path, train: list, dev: list,
                       epochs: int, seed: int, hotel: bool) -> None:
    """Retrain the per-topic heads on the new adapter's states and write them beside it; with the
    team's data (`hotel`), on the M-ABSA hotel sentences too, as the shipped heads were."""
    from sentiment.train_topics import retrain

    precision = state_precision(sset)
    logging.getLogger("sentiment.train_topics").setLevel(logging.INFO)
    click.echo(f"training the per-topic heads on the new encoder's states ({precision}, {epochs} epochs; "
               f"cached under {work_dir / 'topics'})")
    meta = retrain(out, model=sset.model, models_dir=data_dir, work_dir=work_dir, train_rows=train,
                   dev_rows=dev, precision=precision, epochs=epochs, seed=seed, hotel=hotel)
    if meta is None:
        click.echo("per-topic heads not trained: too few labelled rows name a topic (a `topics` field); "
                   "topics come from the 5-topic head and topic_sentiment stays empty")
        return
    dev_fig = meta["dev"]
    click.echo(f"per-topic heads: dev micro-F1 {dev_fig['micro_f1']:.3f}, opinion accuracy "
               f"{dev_fig['polarity_acc']:.3f} on {dev_fig['polarity_n']} opinions")
