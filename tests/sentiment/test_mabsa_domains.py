"""M-ABSA's course, food, phone and lecture-comment sentences as adapter training rows
(sentiment/mabsa_domains.py): parsing the three label spellings, the label rule, the language
choice, what is dropped, and the shipped file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sentiment.data import Example, Splits
from sentiment.mabsa import MABSA_LANGS
from sentiment.mabsa_domains import (
    DOMAINS,
    FILE,
    added_training_rows,
    balance_polarity,
    build,
    chosen,
    polarities,
    read_rows,
    sentence_label,
)


def test_polarities_read_every_spelling_and_terms_with_quotes_and_brackets():
    assert polarities("[['l'appareil', 'Camera#General', 'negative'], ['NULL', 'Logistics#Speed', 'positive']]") == [
        "negative", "positive"]
    assert polarities("[['[M*l^4]', 'Mathematical_Related_Concept', 'NEG'], ['NULL', 'Other', 'NEU ']]") == [
        "negative", "neutral"]
    assert polarities("[['x', 'Instructor', 'Pos']]") == ["positive"]
    assert polarities("[]") == [] and polarities("") == []
    with pytest.raises(ValueError, match="unreadable"):
        polarities("[['broken")


def test_a_sentence_is_labelled_only_where_its_opinions_agree():
    assert sentence_label(["positive", "positive"]) == "positive"
    assert sentence_label(["neutral"]) == "neutral"
    assert sentence_label(["positive", "negative"]) is None  # mixed: left out, not neutral
    assert sentence_label(["conflict"]) is None
    assert sentence_label([]) is None


def _fake_mabsa(root: Path, lines: dict[str, list[str]]) -> Path:
    for domain in DOMAINS:
        for lang in MABSA_LANGS:
            d = root / "data" / domain / lang
            d.mkdir(parents=True)
            for split in ("train", "dev", "test"):
                (d / f"{split}.txt").write_text("\n".join(lines.get(split, [])) + "\n", encoding="utf-8")
    return root


def test_build_keeps_k_languages_per_sentence_train_only_and_drops_held_out_texts(tmp_path):
    train = [f"Sentence number {i} is great .####[['NULL', 'Other', 'POS']]" for i in range(40)]
    train += ["Good but slow .####[['NULL', 'a', 'positive'], ['NULL', 'b', 'negative']]",  # mixed
              "No label here .####[]",
              "Also in test .####[['NULL', 'Other', 'negative']]"]
    source = _fake_mabsa(tmp_path / "mabsa", {"train": train, "dev": ["Dev only .####[]"],
                                              "test": ["Also in test .####[]"]})
    out = tmp_path / "rows.jsonl"
    counts = build(source, out, k=2)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sum(counts.values()) == len(rows)
    per_sentence = Counter((r["domain"], r["id"].rsplit("-", 1)[1]) for r in rows)
    assert set(per_sentence.values()) == {2}  # each kept sentence in exactly k languages
    assert len(per_sentence) == 40 * len(DOMAINS)  # the mixed, unlabelled and test sentences are out
    assert {r["label"] for r in rows} == {"positive"}
    assert all("-train-" in r["id"] for r in rows)
    again = tmp_path / "again.jsonl"
    build(source, again, k=2)
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")  # reruns take the same rows
    for r in rows:
        index = int(r["id"].rsplit("-", 1)[1])
        assert chosen(r["domain"], index, r["lang"], 2)
    with pytest.raises(ValueError, match="1..8"):
        build(source, out, k=0)


def test_added_rows_leave_out_texts_of_the_splits_and_repeats(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"id": f"mabsa-food-en-train-{i}", "lang": "en", "domain": "food", "text": t, "label": "positive"}
            for i, t in enumerate(["Tasty .", "Measured text .", "Trained text .", "tasty  ."])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    splits = Splits(train=[Example(id="t", text="TRAINED TEXT .", label="positive")], dev=[],
                    test={"x": [Example(id="m", text="Measured text .", label="negative")]})
    kept = added_training_rows(splits, path)
    assert [e.text for e in kept] == ["Tasty ."]
    assert kept[0].topics is None and kept[0].source == "mabsa-food-en"


def _row(domain: str, i: int, label: str) -> Example:
    return Example(id=f"mabsa-{domain}-en-train-{i}", text=f"{domain} {i}", label=label, lang="en",
                   topics=None, source=f"mabsa-{domain}-en")


def test_balanced_rows_keep_every_negative_and_neutral_and_as_many_positives_per_domain():
    rows = ([_row("food", i, "positive") for i in range(10)] + [_row("food", 10, "negative"),
            _row("food", 11, "neutral")] + [_row("phone", i, "positive") for i in range(3)]
            + [_row("phone", 3 + i, "negative") for i in range(5)])
    kept = balance_polarity(rows)
    by = Counter((e.source, e.label) for e in kept)
    assert by == {("mabsa-food-en", "positive"): 2, ("mabsa-food-en", "negative"): 1,
                  ("mabsa-food-en", "neutral"): 1, ("mabsa-phone-en", "positive"): 3,
                  ("mabsa-phone-en", "negative"): 5}
    assert [e.id for e in kept] == [e.id for e in rows if e in kept]  # the file's order kept
    assert balance_polarity(list(reversed(rows))) == list(reversed(kept))  # the same rows again


def test_balanced_shipped_rows_are_at_most_half_positive_in_each_domain():
    splits = Splits(train=[], dev=[], test={})
    kept = added_training_rows(splits, FILE, balanced=True)
    for domain in DOMAINS:
        labels = Counter(e.label for e in kept if e.source.split("-")[1] == domain)
        assert labels["positive"] == labels["negative"] + labels["neutral"] > 0


def test_the_shipped_file_holds_the_four_domains_in_the_eight_languages():
    rows = read_rows(FILE)
    assert {e.source.split("-")[1] for e in rows} == set(DOMAINS)
    assert {e.lang for e in rows} == set(MABSA_LANGS)
    assert {e.label for e in rows} == {"negative", "neutral", "positive"}
    assert all(e.topics is None and e.text for e in rows)
    per_sentence = Counter(e.id.replace(f"-{e.lang}-", "-") for e in rows)
    assert max(per_sentence.values()) == 1  # one language per source sentence
