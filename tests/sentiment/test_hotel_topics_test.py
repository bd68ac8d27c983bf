"""The hand-read hotel topics test split: built from reading labels, checked against the M-ABSA file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiment.hotel_topics_test import FILE, MisalignedError, build, gold_by_line, read, sentence_digest
from sentiment.topic_rules import NINE_TOPICS


def _mabsa(root: Path, lines: list[str]) -> Path:
    d = root / "data" / "hotel" / "en"
    d.mkdir(parents=True)
    (d / "test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _labels(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


LINES = ["The room was dirty .####[['room', 'rooms cleanliness', 'negative']]",
         "Nobody answered my emails .####[]",
         "Great stay !####[['NULL', 'hotel general', 'positive']]"]


def test_built_file_keeps_the_topics_in_taxonomy_order_and_a_digest_per_line(tmp_path):
    src = _mabsa(tmp_path / "m", LINES)
    a = _labels(tmp_path / "a.jsonl", [{"n": 0, "topics": ["cleanliness", "quality"]}])
    b = _labels(tmp_path / "b.jsonl", [{"n": 1, "topics": ["communication"], "note": "x"}, {"n": 2, "topics": []}])
    out = tmp_path / "test.jsonl"
    assert build(src, [a, b], out) == 3
    assert read(out)[0] == (sentence_digest(LINES[0]), {"quality", "cleanliness"})
    assert json.loads(out.read_text().splitlines()[0])["topics"] == ["quality", "cleanliness"]
    assert gold_by_line(src, out) == {0: {"quality", "cleanliness"}, 1: {"communication"}, 2: set()}


def test_missing_repeated_or_unknown_labels_are_refused(tmp_path):
    src = _mabsa(tmp_path / "m", LINES)
    two = _labels(tmp_path / "two.jsonl", [{"n": 0, "topics": []}, {"n": 1, "topics": []}])
    with pytest.raises(ValueError, match="missing: \\[2\\]"):
        build(src, [two], tmp_path / "o.jsonl")
    with pytest.raises(ValueError, match="labelled twice"):
        build(src, [two, two], tmp_path / "o.jsonl")
    odd = _labels(tmp_path / "odd.jsonl", [{"n": 0, "topics": ["parking"]}])
    with pytest.raises(ValueError, match="not a topic"):
        build(src, [odd], tmp_path / "o.jsonl")


def test_labels_made_on_another_file_are_refused(tmp_path):
    src = _mabsa(tmp_path / "m", LINES)
    labels = _labels(tmp_path / "l.jsonl", [{"n": n, "topics": []} for n in range(3)])
    out = tmp_path / "test.jsonl"
    build(src, [labels], out)
    other = _mabsa(tmp_path / "other", [LINES[0], "Nobody answered my e-mails .####[]", LINES[2]])
    with pytest.raises(MisalignedError, match="line 1"):
        gold_by_line(other, out)
    shorter = _mabsa(tmp_path / "short", LINES[:2])
    with pytest.raises(MisalignedError, match="labels 3 lines"):
        gold_by_line(shorter, out)


def test_shipped_split_labels_every_line_with_known_topics():
    rows = read(FILE)
    assert sorted(rows) == list(range(584))
    assert all(topics <= set(NINE_TOPICS) and len(digest) == 12 for digest, topics in rows.values())
    # every topic of the taxonomy has at least one sentence (the rare ones are reported with their counts)
    assert set().union(*(topics for _, topics in rows.values())) == set(NINE_TOPICS)
