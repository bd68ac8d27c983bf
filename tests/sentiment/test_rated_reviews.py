"""The committed development set of long rated reviews (sentiment/data/rated_reviews_dev.jsonl,
written by sentiment/rated_reviews.py): schema, unique ids, deduplicated texts, ratings within
their scale, no text of the team's labelled files, and the per-language counts its NOTICE states."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from sentiment.rated_reviews import FILE, KINDS, MAX_CHARS, NOTICE, norm, sample, Review

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FIELDS = {"id", "source", "lang", "kind", "text", "rating", "rating_scale"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with open(FILE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_schema(rows):
    assert rows
    for r in rows:
        assert set(r) == FIELDS, r["id"]
        assert isinstance(r["text"], str) and r["text"] == r["text"].strip() and r["text"]
        assert len(r["text"]) <= MAX_CHARS
        assert r["id"].startswith(r["source"] + ":")
        assert re.fullmatch(r"[a-z]{2}", r["lang"])
        assert r["kind"] in KINDS
        assert isinstance(r["rating"], int | float) and isinstance(r["rating_scale"], int)


def test_ids_unique_and_texts_deduplicated(rows):
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({norm(r["text"]) for r in rows}) == len(rows)


def test_ratings_within_scale(rows):
    for r in rows:
        assert 0 < r["rating"] <= r["rating_scale"], r["id"]


def test_no_text_of_the_shared_data(rows):
    files = sorted(SHARED.glob("*.jsonl")) if SHARED.is_dir() else []
    if not files:
        pytest.skip("../shared/data is absent")
    ours = {norm(r["text"]) for r in rows}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    text = json.loads(line).get("text")
                    assert not (isinstance(text, str) and norm(text) in ours), (path.name, text)


def test_counts_match_the_notice(rows):
    m = re.search(r"^Per-language counts: (.+)$", NOTICE.read_text(encoding="utf-8"), re.M)
    assert m, "NOTICE states no per-language counts"
    stated = {lang: int(n) for lang, n in re.findall(r"(\w+)=(\d+)", m.group(1))}
    assert stated == dict(Counter(r["lang"] for r in rows))


def test_sample_keeps_long_texts_mostly_and_is_seeded():
    rows = [Review(f"s:{i}", "s", "en", "product", ("x" * (200 if i % 2 else 20)) + str(i), 5, 5)
            for i in range(400)]
    a, b = sample(rows, n=100), sample(rows, n=100)
    assert a == b and len(a) == 100
    assert sum(len(r.text) >= 150 for r in a) == 85
    assert [r.id for r in a] == sorted((r.id for r in a), key=lambda s: int(s.split(":")[1]))
