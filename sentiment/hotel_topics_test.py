"""The nine topics read on each of M-ABSA's hotel *test* sentences: a second hand-checked test split.

    python -m sentiment.hotel_topics_test --source /path/to/M-ABSA --labels A.jsonl [B.jsonl ...]
    python -m sentiment.hotel_topics_test --split train --source ... --labels ...   # READ_FILES

The SemEval test split (`sentiment/eval/topics_test.jsonl`) is restaurant reviews: cleanliness,
location, communication and booking come up in 0-26 of its sentences per language, too few to
measure them. Hotel guests talk about all four. M-ABSA's hotel test file (github.com/swaggy66/M-ABSA
at commit cb3121a, Apache-2.0; OATS hotel reviews machine-translated into 20 languages, line for
line) has 584 English sentences; each was read and given its topics from the taxonomy's
descriptions (`sentiment/settings.py`; the reading guide is `sentiment/eval/HOTEL-TOPICS.md`), and
the labels hold for the same line in every language. It is a public benchmark's test split: it is
measured here and never trained on or chosen with (nothing in `sentiment/` reads it to train).

The train and dev files were read the same way (`READ_FILES`, in `sentiment/data/`): the per-topic
heads may train on the first and be chosen on the second (`sentiment.train_topics
--hotel-read-topics`). The files hold no text: per line its index, the first 12 hex digits of the SHA-1 of the English
sentence (so a different M-ABSA file is refused, not silently misread) and the topics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sentiment.mabsa import read_split, text_digest
from sentiment.topic_rules import NINE_TOPICS

FILE = Path(__file__).parent / "eval" / "hotel_topics_test.jsonl"
# The same reading of the train and dev files, for the per-topic heads (train_topics
# --hotel-read-topics): they train on the first and are chosen on the second, never on FILE.
READ_FILES = {split: Path(__file__).parent / "data" / f"hotel_topics_{split}.jsonl" for split in ("train", "dev")}


class MisalignedError(ValueError):
    """The M-ABSA file read is not the one the labels were made on."""


def sentence_digest(line: str) -> str:
    """Of a line of an M-ABSA file (`text####labels`)."""
    return text_digest(line.rpartition("####")[0])


def read_topics_for_training() -> dict[tuple[str, int], tuple[str, set[str]]]:
    """(split, line) -> (digest of the English sentence, topics) of the read train and dev files."""
    return {(split, n): v for split, path in READ_FILES.items() for n, v in read(path).items()}


def read(path: Path = FILE) -> dict[int, tuple[str, set[str]]]:
    """Line index -> (digest of its English sentence, topics)."""
    out: dict[int, tuple[str, set[str]]] = {}
    with open(path, encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            out[r["line"]] = (r["en_sha1"], set(r["topics"]))
    return out


def gold_by_line(source: Path, path: Path = FILE, split: str = "test") -> dict[int, set[str]]:
    """The topics per line, after checking them against the English `split` file in `source`."""
    labels = read(path)
    english = read_split(source, "en", split)
    if len(english) != len(labels):
        raise MisalignedError(f"{path.name} labels {len(labels)} lines, the English {split} file has {len(english)}")
    for n, line in enumerate(english):
        digest, _ = labels[n]
        if sentence_digest(line) != digest:
            raise MisalignedError(f"line {n} of the English {split} file is not the sentence {path.name} labels")
    return {n: topics for n, (_, topics) in labels.items()}


def build(source: Path, label_files: list[Path], out: Path = FILE, split: str = "test") -> int:
    """Write `out` from reading labels ({"n", "topics"} per line of the English `split` file,
    every line once); returns lines."""
    english = read_split(source, "en", split)
    topics: dict[int, list[str]] = {}
    for path in label_files:
        with open(path, encoding="utf-8") as fh:
            for r in map(json.loads, fh):
                unknown = set(r["topics"]) - set(NINE_TOPICS)
                if unknown:
                    raise ValueError(f"{path}: line {r['n']}: not a topic: {sorted(unknown)}")
                if r["n"] in topics:
                    raise ValueError(f"{path}: line {r['n']} labelled twice")
                topics[r["n"]] = [t for t in NINE_TOPICS if t in r["topics"]]
    missing = sorted(set(range(len(english))) - set(topics))
    if missing or len(topics) != len(english):
        raise ValueError(f"labels for {len(topics)} lines, the file has {len(english)} (missing: {missing[:10]})")
    with open(out, "w", encoding="utf-8") as fh:
        for n, line in enumerate(english):
            fh.write(json.dumps({"line": n, "en_sha1": sentence_digest(line), "topics": topics[n]}) + "\n")
    return len(english)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="a checkout (or bare git dir) of M-ABSA")
    ap.add_argument("--labels", type=Path, nargs="+", required=True)
    ap.add_argument("--split", default="test", choices=["test", "train", "dev"])
    ap.add_argument("--out", type=Path, default=None, help="default: FILE for test, READ_FILES[split] otherwise")
    a = ap.parse_args(argv)
    a.out = a.out or (FILE if a.split == "test" else READ_FILES[a.split])
    n = build(a.source, a.labels, a.out, a.split)
    counts = {t: 0 for t in NINE_TOPICS}
    for _, found in read(a.out).values():
        for t in found:
            counts[t] += 1
    print(f"{n} lines -> {a.out}; sentences per topic: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
