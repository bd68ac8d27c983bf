"""M-ABSA's hotel sentences as topic-head training rows (sentiment/mabsa.py) and the masked
presence targets they need (sentiment/train_topics.py)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sentiment.data import Example, Splits
from sentiment.mabsa import FILE, MABSA_LANGS, added_training_rows, labels, parse_line, read_rows, sentence_rows, to_example
from sentiment.topic_rules import NINE_TOPICS


def test_parse_line_reads_terms_with_quotes_and_empty_lists():
    text, ops = parse_line("Bon rapport ####[['l'hébergement', 'hotel prices', 'positive'], "
                           "['NULL', 'service general', 'negative']]")
    assert text == "Bon rapport"
    assert ops == [{"term": "l'hébergement", "category": "hotel prices", "polarity": "positive"},
                   {"term": "NULL", "category": "service general", "polarity": "negative"}]
    assert parse_line("Splendid Friendly staff and very clean rooms!####[]") == (
        "Splendid Friendly staff and very clean rooms!", [])
    with pytest.raises(ValueError):
        parse_line("text####[['broken")


def test_categories_map_to_topics_and_unsure_ones_are_masked():
    ops = [{"term": "room", "category": "rooms cleanliness", "polarity": "negative"},
           {"term": "staff", "category": "service general", "polarity": "positive"},
           {"term": "room", "category": "rooms quality", "polarity": "positive"},
           {"term": "hotel", "category": "hotel general", "polarity": "positive"}]
    topics, unsure, polarity = labels("Dirty room, nice staff, we booked it online.", "en", ops)
    assert topics == ["service", "cleanliness", "booking"]  # booking from the keyword rules
    assert {"quality", "ambience", "wait_time", "communication"} <= set(unsure)
    assert polarity == {"cleanliness": "negative", "service": "positive", "general": "positive"}
    # price: its polarity is taught, its presence masked in training; measured like the others
    price = [{"term": "rate", "category": "hotel prices", "polarity": "negative"}]
    assert labels("Too expensive.", "en", price) == ([], ["ambience", "communication", "price", "wait_time"],
                                                    {"price": "negative"})
    assert labels("Too expensive.", "en", price, training=False)[0] == ["price"]
    # no rules in German: booking is unknown there, not absent
    assert "booking" in labels("Wir haben online gebucht.", "de", ops)[1]
    # a sentence without labels is unlabelled, not "no topic"
    assert to_example({"id": "x", "lang": "en", "part": "train", "text": "Clean rooms!", "opinions": []}) is None


def test_rooms_as_quality_teaches_the_rooms_comfort_and_judgement_as_quality():
    ops = [{"term": "bed", "category": "rooms comfort", "polarity": "negative"},
           {"term": "pool", "category": "facilities general", "polarity": "positive"},
           {"term": "hotel", "category": "hotel general", "polarity": "positive"}]
    # by default those categories name no topic: quality is taught as absent
    assert "quality" not in labels("Hard bed, great pool.", "en", ops)[0] + labels("Hard bed, great pool.", "en", ops)[1]
    topics, unsure, polarity = labels("Hard bed, great pool.", "en", ops, rooms_as_quality=True)
    assert topics == ["quality"] and polarity["quality"] == "neutral"  # the two opinions disagree
    assert polarity["general"] == "positive"  # the hotel as a whole stays the general slot
    decor = [{"term": "room", "category": "rooms design_features", "polarity": "positive"}]
    assert "quality" in labels("Stylish room.", "en", decor, rooms_as_quality=True)[1]  # unsure, not taught
    assert "quality" not in labels("Stylish room.", "en", decor)[1]


def test_topics_read_by_hand_replace_the_mapped_ones_and_must_match_the_sentence(tmp_path):
    from sentiment.mabsa import text_digest

    ops = [{"term": "room", "category": "rooms comfort", "polarity": "negative"},
           {"term": "staff", "category": "service general", "polarity": "negative"}]
    rows = [{"id": f"mabsa-hotel-{lang}-train-7", "lang": lang, "part": "train", "text": text, "opinions": ops}
            for lang, text in (("en", "Noisy room, rude staff."), ("fr", "Chambre bruyante, personnel grossier."))]
    path = tmp_path / "hotel.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    mapped = read_rows(path)[0][0]
    assert mapped.topics == ["service"] and "ambience" in mapped.meta["unsure"]
    read = {("train", 7): (text_digest("Noisy room, rude staff."), {"ambience", "service"})}
    en, fr = read_rows(path, read_topics=read)[0]
    for e in (en, fr):  # every language of the line takes the English reading
        assert e.topics == ["service", "ambience"] and e.meta["unsure"] == []
        assert e.meta["topic_polarity"] == {"service": "negative"}
    # a topic kept mapped keeps the mapped label (here masked) whatever the reading says
    kept = read_rows(path, read_topics=read, keep_mapped=frozenset({"ambience"}))[0][0]
    assert kept.topics == ["service"] and kept.meta["unsure"] == ["ambience"]
    assert kept.meta["topic_polarity"] == {"service": "negative"}
    with pytest.raises(ValueError, match="another M-ABSA file"):
        read_rows(path, read_topics={("train", 7): (text_digest("Another sentence."), {"service"})})


def test_converted_file_is_labelled_train_and_dev_of_the_product_languages():
    rows = [json.loads(line) for line in FILE.read_text(encoding="utf-8").splitlines()]
    assert {r["part"] for r in rows} == {"train", "dev"}  # never the benchmark's test split
    assert set(Counter(r["lang"] for r in rows)) == set(MABSA_LANGS)
    assert all(r["opinions"] for r in rows) and len({r["id"] for r in rows}) == len(rows)
    train, dev = read_rows()
    assert len(train) > 5 * len(dev) > 0
    seen = Counter(t for e in train for t in e.topics or ())
    assert all(seen[t] >= 100 for t in ("service", "quality", "cleanliness", "location")), seen
    assert sum("price" in e.meta["topic_polarity"] for e in train) >= 100  # polarity only
    assert all(set(e.topics or ()) <= set(NINE_TOPICS) for e in train + dev)


def test_unknown_presence_is_left_out_of_the_loss_and_of_pairs():
    import torch

    from sentiment.train_topics import paired, presence_loss

    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    logits = torch.zeros(2, 3, requires_grad=True)
    mask = torch.ones(3)
    known = presence_loss(bce, logits, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), mask)
    masked = presence_loss(bce, logits, torch.tensor([[1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]]), mask)
    assert float(masked.detach()) == pytest.approx(float(known.detach()) / 6)  # one known slot of six
    masked.backward()
    assert logits.grad is not None and float(logits.grad[1].abs().sum()) == 0.0

    states = [torch.zeros(2, 4), torch.zeros(3, 4)]
    pres = torch.tensor([[1.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])
    pol = torch.full((2, 3), -100)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):  # whatever the pairing: present wins, then unknown, then absent
        _, p, _ = paired(states, pres, pol, [0, 1], g)
        for row in p:
            if row[0] == 1.0 and row[1] != 1.0:
                assert row[1] == -1.0


def test_hotel_sentences_for_the_adapter_take_k_languages_of_each_training_sentence():
    rows = sentence_rows(3)
    again = sentence_rows(3)
    assert [e.id for e in rows] == [e.id for e in again]  # the same rows on every run
    by_index = Counter(e.id.rsplit("-", 1)[1] for e in rows)
    assert max(by_index.values()) == 3 and min(by_index.values()) >= 1
    assert {e.lang for e in rows} == set(MABSA_LANGS)
    assert all("-train-" in e.id for e in rows)  # dev sentences stay for choosing
    assert all(e.topics is None for e in rows)  # no presence taught to the 5-topic head
    train, _ = read_rows()
    label = {e.id: e.label for e in train}
    assert all(e.label == label[e.id] for e in rows)
    assert len(sentence_rows(0)) == 0 and len(sentence_rows(8)) == len(train)
    with pytest.raises(ValueError, match="0..8"):
        sentence_rows(9)


def test_hotel_rows_already_in_the_splits_are_left_out():
    rows = sentence_rows(1)
    measured, trained = rows[0], rows[1]
    splits = Splits(train=[Example(id="t", text=trained.text.upper() + "  ", label="positive")], dev=[],
                    test={"some-test": [Example(id="m", text=measured.text, label="negative")]})
    kept = added_training_rows(splits, 1)
    assert len(kept) == len(rows) - 2
    assert measured.id not in {e.id for e in kept} and trained.id not in {e.id for e in kept}
