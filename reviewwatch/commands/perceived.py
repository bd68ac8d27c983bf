"""`reviewwatch perceived --input FILE.jsonl`: the negative, neutral and positive shares of a set of
texts, with the estimator the gap uses (reviewwatch/gap/quantify.py), as one JSON object.

Each input line holds `text` and optionally `rating` (1..`rating_scale`, default 5) and `topics`
(a list of topic keys; without it the model's topics). A rated line counts by its rating through
`gap.rating_labels` (by default 4-5 of 5 positive, 3 neutral, 1-2 negative); the others are
scored by the model and quantified. `--calibration auto` calibrates on the file's own rated lines when there are at least
`gap.share_min_labelled` of them (10 of each label), else on the shipped held-out data;
`--calibration FILE` on a JSONL file of labelled texts (`text` and `label` or `rating`).
Every bad line is reported with its number, and the exit code is 2.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click
import numpy as np

from reviewwatch.errors import InputError
from storage.labels import RatingRule

MAX_TEXT_CHARS = 100_000
MAX_ERRORS_SHOWN = 20
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    text: str
    rating: float | None  # normalised to 0..1
    label: str | None  # given, in a calibration file
    topics: tuple[str, ...] | None

    def known(self, rule: RatingRule) -> str | None:
        """The label a person gave: a calibration file's, else the rating's (if ratings decide)."""
        if self.label is not None:
            return self.label
        return rule.label(self.rating) if rule.ratings_decide else None


def _number(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number")
    return float(value)


def parse_line(raw: str, number: int, *, labelled: bool = False) -> Line:
    """One line, or ValueError saying what is wrong with it."""
    from storage.ratings import normalise_rating

    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing text (a non-empty string)")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text longer than {MAX_TEXT_CHARS} characters")
    rating, scale = _number(obj, "rating"), _number(obj, "rating_scale")
    scale = 5.0 if scale is None else scale
    if scale <= 1:
        raise ValueError("rating_scale must be above 1")
    if rating is not None and not 1 <= rating <= scale:
        raise ValueError(f"rating {rating:g} is outside 1..{scale:g}")
    normalised = normalise_rating(rating, scale)
    given = obj.get("label")
    if given is not None:
        if not labelled:
            raise ValueError("`label` is only read in a calibration file")
        if given not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}")
    if labelled and given is None and normalised is None:
        raise ValueError("a calibration line needs `label` or `rating`")
    topics = obj.get("topics")
    if topics is not None and (
        not isinstance(topics, list) or not all(isinstance(t, str) for t in topics)
    ):
        raise ValueError("topics must be a list of strings")
    return Line(number, text, normalised, given, None if topics is None else tuple(topics))


def read_lines(src: TextIO, name: str, *, labelled: bool = False) -> list[Line]:
    """Every non-blank line; InputError naming each bad one (by number) if any is."""
    lines, errors = [], []
    for number, raw in enumerate(src, start=1):
        if not raw.strip():
            continue
        try:
            lines.append(parse_line(raw, number, labelled=labelled))
        except ValueError as exc:
            errors.append(f"{name}:{number}: {exc}")
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        raise InputError(
            f"{len(errors)} bad line(s) in {name}, nothing estimated:\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
        )
    if not lines:
        raise InputError(f"no texts in {name}")
    return lines


def _open(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    if not Path(path).is_file():
        raise InputError(f"no such file: {path}")
    return open(path, encoding="utf-8")


def _read(path: str, *, labelled: bool = False) -> list[Line]:
    src = _open(path)
    try:
        return read_lines(src, "stdin" if path == "-" else path, labelled=labelled)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc.reason})") from None
    finally:
        if src is not sys.stdin:
            src.close()


def _score(scorer: Any, lines: list[Line], show_progress: bool,
           business_kind: str | None = None) -> tuple[np.ndarray, list[set[str]]]:
    kind = {} if business_kind is None else {"business_kind": business_kind}
    with click.progressbar(length=len(lines), label="scoring", file=sys.stderr,
                           hidden=not show_progress) as bar:
        results = scorer.score([line.text for line in lines], progress=bar.update, **kind)
    probs = np.array([[r.probabilities[label] for label in LABELS] for r in results], dtype=float)
    return probs, [set(r.topics) for r in results]


def estimate(
    lines: list[Line],
    probs: np.ndarray,
    calibration_lines: tuple[list[Line], np.ndarray] | None,
    method: str,
    min_labelled: int,
    rule: RatingRule,
) -> dict[str, Any]:
    """The JSON object: the same estimator, calibration rule and method as the gap."""
    from reviewwatch.gap import quantify as q
    from reviewwatch.gap import shares

    labels = [line.known(rule) for line in lines]
    known = [None if label is None else LABELS.index(label) for label in labels]
    if calibration_lines is None:
        rows = [i for i, k in enumerate(known) if k is not None]
        own = _calibration([labels[i] for i in rows], probs[rows], q.OWN)
        calibration = shares.choose(own, min_labelled)
    else:
        given, given_probs = calibration_lines
        always = RatingRule(True, rule.negative_below, rule.positive_above)
        calibration = _calibration([line.known(always) for line in given], given_probs, q.FILE)
    corrector = q.fit(calibration, shares.method_for(method, calibration))
    result = q.estimate(corrector, known, probs, lengths=[len(line.text) for line in lines]).to_dict()
    result["method_description"] = corrector.describe()
    return result


def _calibration(labels: list[str | None], probs: np.ndarray, source: str) -> Any:
    from reviewwatch.gap import quantify as q

    return q.Calibration(
        probabilities=probs.reshape(len(labels), 3),
        labels=np.array([LABELS.index(label or "") for label in labels], dtype=np.int64),
        domains=np.zeros(len(labels), dtype=np.int64),
        domain_names=("own",),
        source=source,
    )


@click.command("perceived")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="JSONL: `text`, optional `rating`, `rating_scale` and `topics` per line.")
@click.option("--calibration", "calibration", default="auto", show_default=True,
              help="`auto` (the file's rated lines if enough, else the shipped held-out data) or "
                   "a JSONL file of labelled texts (`text` and `label` or `rating`).")
@click.option("--method", type=click.Choice(["auto", "PACC", "ACC", "EMQ", "EMQ-BCTS", "PCC"]), default=None,
              help="Quantification method (default: gap.share_method).")
@click.option("--topic", default=None, help="Only the lines about this topic (given, else the model's).")
@click.option("--kind", "business_kind", default=None,
              help="Read the model's topics as a business of this kind's (e.g. hotel: heads trained on hotels).")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
@click.pass_context
def command(ctx: click.Context, input_path: str, calibration: str, method: str | None,
            topic: str | None, business_kind: str | None, no_progress: bool) -> None:
    """Shares of negative, neutral and positive texts, corrected for the model's errors."""
    from reviewwatch.commands.score import ScorerLoader, version_for_kind

    settings = ctx.obj.settings
    chosen = method or settings.gap.share_method
    if chosen == "counts":
        chosen = "auto"  # the command always corrects; `counts` is the gap's comparison mode
    lines = _read(input_path)
    given = None if calibration == "auto" else _read(calibration, labelled=True)
    scorer = ScorerLoader(settings)()
    version = version_for_kind(scorer, business_kind)
    probs, model_topics = _score(scorer, lines, not no_progress, business_kind)
    if topic is not None:
        keep = [i for i, line in enumerate(lines)
                if topic in (line.topics if line.topics is not None else model_topics[i])]
        if not keep:
            raise InputError(f"no line is about topic {topic!r}")
        lines, probs = [lines[i] for i in keep], probs[keep]
    given_probs = None if given is None else _score(scorer, given, not no_progress)[0]
    result = estimate(
        lines,
        probs,
        None if given is None or given_probs is None else (given, given_probs),
        chosen,
        settings.gap.share_min_labelled,
        settings.gap.rating_labels.rule(),
    )
    result["model"] = f"{scorer.model_id} {version}"
    if topic is not None:
        result["topic"] = topic
    click.echo(json.dumps(result, ensure_ascii=False))
