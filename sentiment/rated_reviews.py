"""Long, real, rated reviews as a development set for the long-review correction.

    python -m sentiment.rated_reviews \\
        --womens-clothing "/path/to/Womens Clothing E-Commerce Reviews.csv" \\
        --restmex2021 /path/to/rest-mex_2021_Sentiment_data_train.csv \\
        [--shared-data ../shared/data]          # rewrites sentiment/data/rated_reviews_dev.jsonl

Each review's label is the reviewer's own rating (`rating`, on a scale of `rating_scale`), not
an annotator's. Sources, licences and the exact files (repository + commit) are in
sentiment/data/RATED-REVIEWS-NOTICE.md:

- `womensclothing`: Women's E-Commerce Clothing Reviews (an online retailer's customers, 1-5),
  CC0-1.0 as stated on its Kaggle page; the copy used holds the dataset's first 1,000 rows;
- `restmex2021`: Rest-Mex 2021 sentiment track, *train* part (Spanish TripAdvisor opinions on
  tourist attractions of Guanajuato, 1-5), academic/research use only.

Left out on purpose: French book reviews (Babelio, Critiques Libres; CC0 on their Hugging Face
card) are the evaluation set of MTEB's `FrenchBookReviews` task, a public benchmark's test split,
which nothing here may be chosen on.

Per source: texts stripped, empty ones and ones over MAX_CHARS dropped, ratings outside the
scale dropped, duplicates (case- and whitespace-insensitive) dropped (first kept), texts that
are also in the team's labelled files (`<shared-data>/*.jsonl`, field `text`) dropped; then a
seeded simple random sample of LONG_SHARE * PER_SOURCE texts of MIN_LONG characters or more
and the rest from the shorter ones (the rating distribution within each length band is the
source's own: nothing is balanced). Rows are written in source order, then original order.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from storage.labels import DEFAULT_RULE
from storage.ratings import normalise_rating

HERE = Path(__file__).parent
FILE = HERE / "data" / "rated_reviews_dev.jsonl"
NOTICE = HERE / "data" / "RATED-REVIEWS-NOTICE.md"
KINDS = ("hotel", "restaurant", "product", "app", "service", "movie", "book", "attraction")
MAX_CHARS = 4000
MIN_LONG = 150
PER_SOURCE = 1500
LONG_SHARE = 0.85
SEED = 20261207


@dataclass(frozen=True)
class Review:
    id: str
    source: str
    lang: str
    kind: str
    text: str
    rating: float | int
    rating_scale: int


def read(path: Path = FILE) -> list[Review]:
    """The committed reviews, in file order."""
    with open(path, encoding="utf-8") as fh:
        return [Review(**json.loads(line)) for line in fh if line.strip()]


def label(review: Review) -> str:
    """The review's label by its rating, under the store's default rule (`storage.labels`)."""
    rated = DEFAULT_RULE.label(normalise_rating(review.rating, review.rating_scale))
    assert rated is not None  # `clean` keeps ratings within their scale only
    return rated


def norm(text: str) -> str:
    """The key two texts are duplicates under: case- and whitespace-insensitive."""
    return re.sub(r"\s+", " ", text.strip()).casefold()


def read_csv(path: Path, *, source: str, lang: str, kind: str, id_column: str, text_column: str,
             rating_column: str) -> Iterator[Review]:
    """One source's CSV file: each row's text and rating (rows without either are skipped), its
    id `<source>:<id_column>`, on a scale of 5."""
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = (row.get(text_column) or "").strip()
            rating = (row.get(rating_column) or "").strip()
            if text and rating:
                yield Review(id=f"{source}:{row[id_column]}", source=source, lang=lang, kind=kind,
                             text=text, rating=int(float(rating)), rating_scale=5)


def read_womens_clothing(path: Path) -> Iterator[Review]:
    """Women's E-Commerce Clothing Reviews CSV: (row number), Clothing ID, Age, Title, Review Text,
    Rating, ... The text is `Review Text` alone."""
    return read_csv(path, source="womensclothing", lang="en", kind="product", id_column="",
                    text_column="Review Text", rating_column="Rating")


def read_restmex2021(path: Path) -> Iterator[Review]:
    """Rest-Mex 2021 train CSV: index, Title, Opinion, Place, Gender, Age, Country, Date, Label.

    The text is the `Opinion` alone (the title is left out, as a crawled review's body is what
    the product scores)."""
    return read_csv(path, source="restmex2021", lang="es", kind="attraction", id_column="index",
                    text_column="Opinion", rating_column="Label")


def shared_texts(data_dir: Path | None) -> set[str]:
    """Normalised `text` of every row of the team's labelled files (empty if none given)."""
    out: set[str] = set()
    if data_dir is None or not data_dir.is_dir():
        return out
    for path in sorted(data_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    text = json.loads(line).get("text")
                    if isinstance(text, str):
                        out.add(norm(text))
    return out


def clean(rows: Iterable[Review], exclude: set[str], seen: set[str]) -> list[Review]:
    """Filters of the module docstring; `seen` (normalised texts kept so far) is updated."""
    out = []
    for r in rows:
        key = norm(r.text)
        if (len(r.text) > MAX_CHARS or not 0 < r.rating <= r.rating_scale
                or key in seen or key in exclude):
            continue
        seen.add(key)
        out.append(r)
    return out


def sample(rows: list[Review], n: int = PER_SOURCE, seed: int = SEED) -> list[Review]:
    """LONG_SHARE of n from texts of MIN_LONG+ characters, the rest from shorter ones, each a
    seeded simple random sample; returned in the input's order."""
    rng = random.Random(seed)
    long_ = [i for i, r in enumerate(rows) if len(r.text) >= MIN_LONG]
    short = [i for i, r in enumerate(rows) if len(r.text) < MIN_LONG]
    n_long = min(len(long_), round(n * LONG_SHARE))
    n_short = min(len(short), n - n_long)
    keep = set(rng.sample(long_, n_long)) | set(rng.sample(short, n_short))
    return [r for i, r in enumerate(rows) if i in keep]


def build(womens_clothing: Path, restmex2021: Path, shared_data: Path | None) -> list[Review]:
    exclude = shared_texts(shared_data)
    seen: set[str] = set()
    out: list[Review] = []
    out += sample(clean(read_womens_clothing(womens_clothing), exclude, seen))
    out += sample(clean(read_restmex2021(restmex2021), exclude, seen))
    return out


def write(rows: list[Review], path: Path = FILE) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--womens-clothing", type=Path, required=True)
    ap.add_argument("--restmex2021", type=Path, required=True)
    ap.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=FILE)
    args = ap.parse_args()
    rows = build(args.womens_clothing, args.restmex2021, args.shared_data)
    write(rows, args.out)
    print(f"{len(rows)} reviews -> {args.out}")


if __name__ == "__main__":
    main()
