"""M-ABSA's other review domains as sentence-level sentiment rows for the adapter's training.

    python -m sentiment.mabsa_domains --source /path/to/M-ABSA   # rewrites mabsa_reviews.jsonl

The hotel sentences (`sentiment/mabsa.py`) taught the adapter one kind of business. M-ABSA (same
origin and licence: github.com/swaggy66/M-ABSA at commit cb3121a, Apache-2.0 on its Hugging Face
card) holds four more kinds of customer text, each machine-translated into 20 languages:

- `coursera`: sentences of reviews of online courses (OATS, Chebolu et al. 2023);
- `food`: sentences of Amazon fine-food product reviews (OATS);
- `phone`: whole short reviews of phones and their delivery from an e-commerce site (aspects
  such as `Logistics#Speed`, `Battery/Longevity#Battery Life`);
- `sight`: comments on online lectures (aspects such as `Instructor`, `Course_General_Feedback`;
  polarities written POS / NEU / NEG).

`restaurant` and `laptop` are left out: they are SemEval's sentences, whose test splits are public
benchmarks (and SemEval restaurants is measured here). Only each domain's `train.txt` is read;
`dev.txt` and `test.txt` are M-ABSA's own selection and measurement splits and stay unread.

Rows: the product's eight languages that M-ABSA translates into; each source sentence (one line
index across the translations) kept in `LANGS_PER_SENTENCE` of them, chosen by a hash of the
domain and index, so that one sentence does not come back eight times and reruns take the same
rows. The label is the sentence's polarity where its opinions agree; sentences whose opinions
disagree are left out (SemEval's rows call them neutral, and that rule is what makes the model
read a review with reservations as neutral: these rows add no more of it); `[]` sentences are
unlabelled and left out. Texts also in the same language's M-ABSA test or dev file are dropped
here; texts of the team's own splits are dropped when the rows are added (`added_training_rows`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from sentiment.data import Example, Splits, norm_text
from sentiment.mabsa import MABSA_LANGS, ORIGIN, languages_of, read_split

HERE = Path(__file__).parent
FILE = HERE / "data" / "mabsa_reviews.jsonl"
DOMAINS = ("coursera", "food", "phone", "sight")
LANGS_PER_SENTENCE = 1
# a triple ['term', 'category', 'polarity'] ends with its quoted polarity and a closing bracket;
# terms hold quotes and brackets ('l'appareil', '[M*l^4]'), so only that end is matched; the
# polarity is spelt three ways (positive, POS, Pos), sometimes with a trailing space
_POLARITY_END = re.compile(r"'(positive|negative|neutral|conflict|pos|neg|neu)\s*'\s*\]", re.IGNORECASE)
_POLARITY = {"pos": "positive", "neg": "negative", "neu": "neutral"}


def polarities(labels: str) -> list[str]:
    """The opinions' polarities of one line's label part (`[]`: none); `conflict` kept as such."""
    found = [p.lower() for p in _POLARITY_END.findall(labels)]
    if not found and labels.strip() not in ("", "[]"):
        raise ValueError(f"unreadable labels: {labels[:80]!r}")
    return [_POLARITY.get(p, p) for p in found]


def sentence_label(pols: list[str]) -> str | None:
    """The polarity all opinions share; None where they disagree, one is `conflict`, or none."""
    kinds = set(pols)
    if len(kinds) != 1 or "conflict" in kinds:
        return None
    return next(iter(kinds))


def chosen(domain: str, index: int, lang: str, k: int = LANGS_PER_SENTENCE) -> bool:
    return lang in languages_of(f"{domain}:{index}", k)


def build(source: Path, out: Path = FILE, k: int = LANGS_PER_SENTENCE) -> dict[str, int]:
    """Write the rows; returns their count per domain."""
    if not 1 <= k <= len(MABSA_LANGS):
        raise ValueError(f"k must be 1..{len(MABSA_LANGS)}, got {k}")
    rows: list[dict] = []
    counts: dict[str, int] = {}
    for domain in DOMAINS:
        counts[domain] = 0
        for lang in MABSA_LANGS:
            held = {norm_text(ln.rpartition("####")[0]) for split in ("dev", "test")
                    for ln in read_split(source, lang, split, domain)}
            for index, line in enumerate(read_split(source, lang, "train", domain)):
                if not chosen(domain, index, lang, k):
                    continue
                text, _, labels = line.rstrip("\n").rpartition("####")
                text = text.strip()
                label = sentence_label(polarities(labels))
                if not text or label is None or norm_text(text) in held:
                    continue
                rows.append({"id": f"mabsa-{domain}-{lang}-train-{index}", "lang": lang, "domain": domain,
                             "text": text, "label": label})
                counts[domain] += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return counts


def read_rows(path: Path = FILE) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            out.append(Example(id=r["id"], text=r["text"], label=r["label"], lang=r["lang"], topics=None,
                               source=f"mabsa-{r['domain']}-{r['lang']}"))
    return out


def added_training_rows(splits: Splits, path: Path = FILE, *, balanced: bool = False) -> list[Example]:
    """The rows less any text already in the splits (trained, selecting or measured) and less
    repeats among themselves, so nothing measured comes back through them. `balanced`: see
    `balance_polarity`."""
    taken = splits.texts()
    out = []
    for e in read_rows(path):
        key = norm_text(e.text)
        if key not in taken:
            taken.add(key)
            out.append(e)
    return balance_polarity(out) if balanced else out


def balance_polarity(rows: list[Example]) -> list[Example]:
    """Each domain's positive rows cut to as many as its negative and neutral ones together.

    Three in four of these sentences are positive (customers who review mostly liked it): added
    as they are, they move the adapter's prior towards positive, and a plainly negative short
    sentence can then read positive (run13 in docs/model-experiments.md, in Russian). The
    positives kept are chosen by a hash of the row's id, so reruns keep the same rows."""
    by_domain: dict[str, list[Example]] = {}
    for e in rows:
        by_domain.setdefault(e.source.split("-")[1], []).append(e)
    keep: set[str] = set()
    for domain_rows in by_domain.values():
        others = [e for e in domain_rows if e.label != "positive"]
        positives = sorted((e for e in domain_rows if e.label == "positive"),
                           key=lambda e: hashlib.sha1(e.id.encode()).hexdigest())
        keep.update(e.id for e in others)
        keep.update(e.id for e in positives[: len(others)])
    return [e for e in rows if e.id in keep]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="a checkout (or bare git dir) of M-ABSA")
    ap.add_argument("--out", type=Path, default=FILE)
    ap.add_argument("--langs-per-sentence", type=int, default=LANGS_PER_SENTENCE)
    a = ap.parse_args(argv)
    counts = build(a.source, a.out, a.langs_per_sentence)
    print(f"{sum(counts.values())} sentences ({counts}) -> {a.out}; origin: {ORIGIN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
