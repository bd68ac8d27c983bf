"""`reviewwatch score`: sentiment, stars and topics for stored mentions, or for a JSONL file.

Store mode scores every mention without a score from the current model (id + version + mention
revision), in batches; each batch's new scores become current in the same transaction that retires
the previous ones, so old scores stay current until the new ones are committed.

File mode (`--input IN.jsonl --output OUT.jsonl`) never touches the store: each input line holds
`id` and `text`; each output line the scores, or `{"id", "error"}` for a line that cannot be
scored. The exit code is 1 when any line failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from reviewwatch.errors import InputError, ReviewwatchError
from reviewwatch.paths import output_file


class ScorerLoader:
    """The configured scorer, loaded when first called: a command with nothing to score loads no
    model (seconds of imports and weights)."""

    def __init__(self, settings: Any):
        self.settings, self.languages, self.data_dir = settings.sentiment, settings.languages, settings.data_dir

    def __call__(self) -> Any:
        from sentiment.scorer import ModelError, load_scorer

        try:
            return load_scorer(self.settings, languages=self.languages, data_dir=self.data_dir)
        except ModelError as exc:
            raise ReviewwatchError(str(exc)) from None


def version_for_kind(scorer: Any, business_kind: str | None) -> str:
    """The model version of a kind's scores (None: the general one); an unknown kind is bad input."""
    from sentiment.batch import version_of
    from sentiment.scorer import ModelError

    try:
        return version_of(scorer, business_kind)
    except (ValueError, ModelError) as exc:
        raise InputError(str(exc)) from None


def parse_line(line: str) -> tuple[Any, str | None, str | None]:
    """(id, text, error) for one input line."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        return None, None, f"not JSON: {getattr(exc, 'msg', exc)}"
    if not isinstance(obj, dict):
        return None, None, "not a JSON object"
    ident = obj.get("id")
    if "text" not in obj or obj["text"] is None:
        return ident, None, "missing text"
    if not isinstance(obj["text"], str):
        return ident, None, "text must be a string"
    return ident, obj["text"], None


def score_file(scorer: Any, src: TextIO, dst: TextIO, batch_size: int = 256, show_progress: bool = True,
               business_kind: str | None = None) -> int:
    """Score a JSONL stream; returns the number of failed lines.

    `scorer` may be a `ScorerLoader`: it loads the model only when some line has a text to score.
    `business_kind`: read the topics as a business of that kind's (sentiment/kinds.py).
    """
    rows = []
    for raw in src:
        if raw.strip():
            rows.append(parse_line(raw))
    failed = sum(1 for r in rows if r[2] is not None)
    todo = [i for i, r in enumerate(rows) if r[2] is None]
    if todo and isinstance(scorer, ScorerLoader):
        scorer = scorer()
    kind = {} if business_kind is None else {"business_kind": business_kind}
    if todo:
        version_for_kind(scorer, business_kind)  # an unknown kind fails before any line is scored
    results: dict[int, dict] = {}
    with click.progressbar(length=len(todo), label="scoring", file=sys.stderr,
                           hidden=not show_progress) as bar:
        for a in range(0, len(todo), batch_size):
            chunk = todo[a : a + batch_size]
            for i, res in zip(chunk, scorer.score([rows[i][1] for i in chunk], progress=bar.update, **kind)):
                results[i] = res.as_dict()
    for i, (ident, _text, err) in enumerate(rows):
        rec = {"id": ident, "error": err} if err is not None else {"id": ident, **results[i]}
        dst.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return failed


def score_store(store: Any, scorer: Any, chunk: int = 256, show_progress: bool = True,
                echo=click.echo, business_slug: str | None = None, business_kind: str | None = None,
                exclude: tuple[str, ...] = ()) -> dict[str, int]:
    """Score every live mention lacking a current score from `scorer`'s model, with a progress bar
    (of one business, read as its `business_kind`'s; or of all but the `exclude`d businesses)."""
    from dataclasses import asdict

    from sentiment.batch import BatchStats, pending_mention_ids, score_mentions, version_of

    if isinstance(scorer, ScorerLoader):  # ask what the model would be before loading it
        from sentiment.scorer import model_identity

        known = model_identity(scorer.settings, data_dir=scorer.data_dir, business_kind=business_kind)
        if known is not None and not pending_mention_ids(store, *known, business_slug, exclude):
            echo(f"nothing to score: every mention has a current score from {known[0]} {known[1]}")
            return asdict(BatchStats())
        scorer = scorer()
    mid, mver = scorer.model_id, version_of(scorer, business_kind)
    ids = pending_mention_ids(store, mid, mver, business_slug, exclude)
    if not ids:
        echo(f"nothing to score: every mention has a current score from {mid} {mver}")
        return asdict(BatchStats())
    runtime = getattr(scorer, "runtime", None)  # device and precision, where the scorer says
    label = f"scoring with {mid} {mver}" + (f" ({runtime})" if runtime else "")
    with click.progressbar(length=len(ids), label=label, file=sys.stderr,
                           hidden=not show_progress) as bar:
        stats = score_mentions(store, scorer, ids, chunk=chunk, progress=bar.update, business_kind=business_kind)
    echo(f"scored {stats.scored} mentions, reused {stats.reactivated} earlier scores ({mid} {mver})")
    return asdict(stats)


@click.command("score")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Score the texts of this JSONL file (`id`, `text` per line) instead of the store.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Where file-mode results go (default: stdout).")
@click.option("--batch-size", type=int, default=None, help="Texts per call of the model, and per transaction in the store "
                   "(default: 4096, or sentiment.batch_size × 8 if more).")
@click.option("--business", "business_id", default=None, help="Store mode: only this business (its id).")
@click.option("--kind", "business_kind", default=None,
              help="File mode: read the topics as a business of this kind's (e.g. hotel: heads trained on "
                   "hotel reviews). Store mode uses each business's own `kind`.")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
@click.pass_context
def command(ctx: click.Context, input_path: str | None, output_path: str | None, batch_size: int | None,
            business_id: str | None, business_kind: str | None, no_progress: bool) -> None:
    """Score sentiment, stars and topics of stored mentions (or of a JSONL file)."""
    app = ctx.obj
    settings = app.settings
    from sentiment.batch import chunk_size

    chunk = batch_size or chunk_size(settings.sentiment)
    if output_path and not input_path:
        raise InputError("--output needs --input")
    if output_path and output_path != "-":
        output_file(Path(output_path))  # before the model loads
    if input_path:
        if input_path != "-" and not Path(input_path).exists():
            raise InputError(f"no such file: {input_path}")
        scorer = ScorerLoader(settings)
        src = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8")
        dst = sys.stdout if not output_path or output_path == "-" else open(output_path, "w", encoding="utf-8")
        try:
            failed = score_file(scorer, src, dst, chunk, show_progress=not no_progress, business_kind=business_kind)
        finally:
            if src is not sys.stdin:
                src.close()
            if dst is not sys.stdout:
                dst.close()
        if failed:
            click.echo(f"{failed} line(s) could not be scored", err=True)
            ctx.exit(1)
        return
    if business_kind is not None:
        raise InputError("--kind is for file mode (--input); in the store each business is read as its own `kind`")
    slug = settings.business(business_id).id if business_id else None
    store = app.store()
    loader = ScorerLoader(settings)
    if slug is not None:
        score_store(store, loader, chunk, show_progress=not no_progress, business_slug=slug,
                    business_kind=settings.kind_of(slug))
    else:
        # the businesses of a kind are read with its heads (their own model version), the rest as any
        kinded = {b.id: b.kind for b in settings.businesses if b.kind is not None}
        score_store(store, loader, chunk, show_progress=not no_progress, exclude=tuple(kinded))
        for business, kind in kinded.items():
            score_store(store, loader, chunk, show_progress=not no_progress, business_slug=business,
                        business_kind=kind)
    from reviewwatch.followup.stage import open_followups

    opened = open_followups(store, slug).opened  # as the cycle's score stage does
    if opened:
        click.echo(f"{opened} follow-up item{'s' if opened != 1 else ''} opened for negative mentions")
