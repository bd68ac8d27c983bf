"""Write reviewwatch/gap/calibration/heldout.json: the shipped model's probabilities and the true
labels of the team's development split, the calibration the share correction falls back on.

Which texts: `sentiment.data.build_splits(...).dev`, i.e. `umsab-tweets-{en,fr,de,es}-val` and the
SemEval-2016 restaurant reviews hashing to "dev" (10 % of reviews, six languages), de-duplicated
against every measured file. The weights never trained on them; they chose the training epoch
and fitted the temperature and topic thresholds (sentiment/MODEL.md). No test split is read
(neither `umsab-*-test` nor SemEval's "test" reviews), and neither are the measurement-only files
(uci, amazon-books-fr, swedish-social-sv): `bench/quality.py` measures the correction on those.
Also whole reviews labelled by their reviewers' own ratings (`sentiment/data/rated_reviews_dev.jsonl`,
development data: English clothing products, Spanish tourist attractions; `gap.rating_labels`'
default rule), one domain per source: what the model's errors are on real businesses' reviews,
short and long (bench/share_length_check.py).
The file holds no text: per domain, the labels and the probabilities (4 decimals), fp32.

    .venv/bin/python bench/make_share_calibration.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import LABEL_ORDER, load_default_scorer, probabilities  # noqa: E402
from sentiment import rated_reviews  # noqa: E402
from sentiment.data import build_splits  # noqa: E402
from sentiment.scorer import SHIPPED_WEIGHTS  # noqa: E402

OUT = REPO / "reviewwatch" / "gap" / "calibration" / "heldout.json"
KINDS = {"semeval": "restaurant review sentences (SemEval-2016, dev reviews)",
         "umsab": "tweets (UMSAB / XLM-T, validation split)",
         "rated": "whole reviews labelled by their own ratings (sentiment/data/rated_reviews_dev.jsonl)"}
WEIGHT_FILES = ("heads.json", "heads.safetensors", "adapter_model.safetensors")
# The longest text the calibration vouches for: this quantile of its texts' lengths. Chosen on the
# development data alone (bench/share_length_check.py): its SemEval sentences joined back into
# whole reviews were read 4-9 points off up to about this length (229 characters), 17-22 above.
LENGTH_QUANTILE = 0.99


def weights_digest(weights_dir: Path = SHIPPED_WEIGHTS) -> str:
    """SHA-1 of the shipped weights' files: a test checks the calibration was made with them."""
    h = hashlib.sha1()
    for name in WEIGHT_FILES:
        path = weights_dir / name
        if path.exists():
            h.update(name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def rated_domains() -> dict[str, list[tuple[str, str]]]:
    """The rated reviews per source, named `rated-<language>`: (text, label) in file order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for review in rated_reviews.read():
        out.setdefault(f"rated-{review.lang}", []).append((review.text, rated_reviews.label(review)))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    scorer = load_default_scorer()
    by_domain: dict[str, list[tuple[str, str]]] = {}
    for example in build_splits(a.data_dir).dev:
        by_domain.setdefault(example.source, []).append((example.text, str(example.label)))
    by_domain.update(rated_domains())
    domains = {}
    lengths = sorted(len(text) for rows in by_domain.values() for text, _ in rows)
    max_chars = lengths[min(len(lengths) - 1, int(LENGTH_QUANTILE * len(lengths)))]
    for name, rows in sorted(by_domain.items()):
        probs = probabilities(scorer, "dev-" + name, [text for text, _ in rows])
        domains[name] = {
            "kind": KINDS[name.split("-")[0]],
            "language": name.split("-")[1],
            "labels": [LABEL_ORDER.index(label) for _, label in rows],
            "probabilities": [[round(p, 4) for p in row] for row in probs],
        }
        print(f"{name:12s} n={len(rows)}", file=sys.stderr)
    document = {
        "description": "The shipped sentiment model's probabilities [negative, neutral, positive] and the "
                       "true label index of each text of the development split (bench/make_share_calibration.py).",
        "labels": list(LABEL_ORDER),
        "model_id": scorer.model_id,
        "model_version": scorer.model_version,
        "precision": "fp32",
        "weights_sha1": weights_digest(),
        "max_chars": max_chars,
        "max_chars_rule": f"the {LENGTH_QUANTILE:.0%} quantile of the texts' lengths in characters",
        "domains": domains,
    }
    a.out.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {a.out} ({sum(len(d['labels']) for d in domains.values())} texts)", file=sys.stderr)


if __name__ == "__main__":
    main()
