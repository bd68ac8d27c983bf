"""Labelled data: reading JSON Lines, the SemEval review split, de-duplication, the evaluation sets.

No torch here. Data files are read where they are (the team's shared folder); never copied.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
SEMEVAL_TOPICS = ("service", "price", "quality", "ambience", "location")


@dataclass
class Example:
    id: str
    text: str
    label: str | None
    lang: str = ""
    topics: list[str] | None = None  # None: topics not annotated
    source: str = ""
    meta: dict = field(default_factory=dict)


def norm_text(t: str) -> str:
    return re.sub(r"\s+", " ", t.strip().lower())


def read_jsonl(path: Path, source: str | None = None) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            text = r.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            label = r.get("label")
            if label is not None and label not in LABELS:
                raise ValueError(f"{path}:{n + 1}: unknown label {label!r}")
            topics = r.get("topics")
            out.append(Example(
                id=str(r.get("id", f"{Path(path).stem}-{n}")), text=text, label=label,
                lang=r.get("lang", ""), topics=list(topics) if isinstance(topics, list) else None,
                source=source or Path(path).stem,
                meta={"opinions": r["opinions"]} if "opinions" in r else {},
            ))
    return out


def semeval_review_id(ex_id: str) -> str:
    return ex_id.rsplit(":", 1)[0]


def semeval_part(ex_id: str) -> str:
    """Split by review (the id before ':'): 20% test, 10% dev, 70% train; stable across runs."""
    h = int(hashlib.sha1(semeval_review_id(ex_id).encode()).hexdigest(), 16) % 10
    return "test" if h < 2 else "dev" if h == 2 else "train"


def review_label(ex: Example) -> str:
    """Sentence label for reviews: annotated polarity; no opinion or disagreeing opinions -> neutral."""
    return ex.label if ex.label is not None else "neutral"


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example]
    test: dict[str, list[Example]]  # name -> examples (never trained on)

    def texts(self) -> set[str]:
        """Every text the splits hold (trained, selecting or measured), normalised: what rows
        added from elsewhere must not repeat."""
        held = {norm_text(e.text) for rows in self.test.values() for e in rows}
        return held | {norm_text(e.text) for e in self.train + self.dev}


def build_splits(data_dir: Path) -> Splits:
    """The team's data: what trains, what selects (dev) and what measures (test)."""
    d = Path(data_dir)
    train, dev, test = [], [], {}
    for lang in ("en", "fr", "de", "es"):
        train += read_jsonl(d / f"umsab-tweets-{lang}-train.jsonl", f"umsab-{lang}")
        dev += read_jsonl(d / f"umsab-tweets-{lang}-val.jsonl", f"umsab-{lang}")
        test[f"umsab-{lang}"] = read_jsonl(d / f"umsab-tweets-{lang}-test.jsonl", f"umsab-{lang}")
    for p in sorted(d.glob("semeval16-restaurants-*-train.jsonl")):
        lang = p.stem.split("-")[2]
        rows = read_jsonl(p, f"semeval-{lang}")
        parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
        for ex in rows:
            ex.meta["original_label"] = ex.label
            ex.label = review_label(ex)
            parts[semeval_part(ex.id)].append(ex)
        train += parts["train"]
        dev += parts["dev"]
        test[f"semeval-{lang}"] = parts["test"]
    for name, fname in (("uci-en", "uci-sentences-en.jsonl"), ("amazon-books-fr", "amazon-books-fr.jsonl"),
                        ("swedish-social-sv", "swedish-social-sv.jsonl")):
        if (d / fname).exists():
            test[name] = read_jsonl(d / fname, name)
    # de-duplicate: nothing that is measured may be trained on or used for selection
    test_texts = {norm_text(e.text) for rows in test.values() for e in rows}
    seen: set[str] = set()

    def keep(e: Example) -> bool:
        k = norm_text(e.text)
        if k in test_texts or k in seen:
            return False
        seen.add(k)
        return True

    train = [e for e in train if keep(e)]
    dev = [e for e in dev if keep(e)]
    return Splits(train, dev, test)


def read_training_files(paths: list[Path]) -> list[Example]:
    """User-provided labelled JSONL (`text`, `label`, optional `topics`) for `reviewwatch train`."""
    out = []
    for p in paths:
        out += [e for e in read_jsonl(Path(p)) if e.label is not None]
    return out
