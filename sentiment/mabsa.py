"""M-ABSA's hotel sentences as training rows for the per-topic heads.

    python -m sentiment.mabsa --source /path/to/M-ABSA   # rewrites sentiment/data/mabsa_hotel.jsonl

Origin: M-ABSA (Wu et al. 2025, arXiv 2502.11824), github.com/swaggy66/M-ABSA at commit
cb3121a, licence Apache-2.0 (its Hugging Face card); the hotel domain is the OATS hotel reviews
(English) machine-translated into 20 languages. Lines are `sentence####[['term', 'entity
attribute', 'polarity'], ...]`.

Only the train and dev files of the product's languages are converted (`mabsa_hotel.jsonl`,
text included, with the raw opinions: the mapping below is applied when read, so a change of
mapping needs no rebuild). `test.txt` is a public benchmark's test split: it is read only by
`bench/quality_topics.py --mabsa-dir` to measure, never converted, trained on or used to choose.

Labels, per sentence:
- `[]` (about a quarter of sentences, many plainly about a topic): unlabelled, not "no topic";
  such rows are left out of the converted file.
- a category that names a topic: that topic is present, with the opinions' polarity (`price`:
  polarity only, its presence masked, see POLARITY_ONLY_TOPICS);
- a category in UNSURE: its topic is neither present nor absent (masked), since the taxonomy's
  description fits it only in part (room quality vs "quality");
- ambience: masked on every hotel sentence (no category of M-ABSA is it; room decor, comfort and
  noise are spread over design_features, comfort and general);
- other categories (hotel general, rooms general, ...): no mapped topic;
- booking: the keyword rules of topic_rules.py (languages they cover, after topic_labels.EXCLUDE),
  masked in de and sv; wait_time and communication: masked (their rules are too loose on hotel
  sentences, see RULE_TOPICS).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from sentiment.data import Example, Splits, norm_text
from sentiment.topic_labels import proposed
from sentiment.topic_rules import LANGS as RULE_LANGS
from sentiment.topic_rules import NINE_TOPICS

HERE = Path(__file__).parent
FILE = HERE / "data" / "mabsa_hotel.jsonl"
COMMIT = "cb3121a"
ORIGIN = "https://github.com/swaggy66/M-ABSA (commit cb3121a), Apache-2.0; hotel domain from OATS"
# the product's languages that M-ABSA translates into
MABSA_LANGS = ("en", "fr", "es", "ru", "de", "nl", "tr", "sv")
# topics M-ABSA has no category for: `booking` from the keyword rules (their matches on hotel
# sentences read well: "we booked", "réservé", "забронировали"); `wait_time` and `communication`
# masked, as their rules mostly hit other things here ("five minute walk", "can't wait", "my phone
# was stolen") and reading every match was not done
RULE_TOPICS = ("booking",)
# `ambience` too: M-ABSA has no category for it (decor, noise and atmosphere fall under
# design_features, comfort or hotel general), so a hotel sentence says nothing of its absence;
# taught as absent, it cost SemEval dev's ambience F1 8 points (0.795 -> 0.719)
MASKED_TOPICS = ("wait_time", "communication", "ambience")
# topics whose polarity the hotel opinions teach but whose presence they do not: with `* prices`
# as price presence, SemEval dev's price F1 fell 5 points (0.875 -> 0.825, paired bootstrap
# [-8.2, -2.2]); chosen on dev (sentiment/MODEL.md, "The per-topic heads")
POLARITY_ONLY_TOPICS = ("price",)

_ASPECT_TOPIC = {"cleanliness": "cleanliness", "prices": "price"}
_ENTITY_TOPIC = {"service": "service", "location": "location", "food_drinks": "quality"}
# categories whose topic the taxonomy's description covers only in part: masked, not taught
# ("quality of the product or the food": a room's quality is not clearly it)
UNSURE = {"quality": "quality"}


# `rooms_as_quality` (train_topics --rooms-as-quality): what a hotel sells is the stay, so the
# room's and the facilities' comfort, quality and overall judgement are the product's quality, as
# the hand-read hotel test split labels them (sentiment/eval/HOTEL-TOPICS.md). Without it those
# categories teach quality as absent, and the heads read "the room was lovely" as ambience.
# design_features (decor, but also size and layout) leaves quality unsure; `hotel general` is the
# hotel as a whole (the `general` slot), not its quality.
ROOM_ENTITIES = ("rooms", "hotel", "room_amenities", "facilities")
ROOM_QUALITY_ASPECTS = ("comfort", "quality", "general")


def category_topic(category: str, rooms_as_quality: bool = False) -> tuple[str | None, str | None]:
    """(topic it names, topic it makes unsure) for an M-ABSA hotel category ("rooms cleanliness")."""
    entity, _, aspect = category.partition(" ")
    if aspect in _ASPECT_TOPIC:
        return _ASPECT_TOPIC[aspect], None
    if entity in _ENTITY_TOPIC:
        return _ENTITY_TOPIC[entity], None
    if rooms_as_quality and entity in ROOM_ENTITIES and category != "hotel general":
        if aspect in ROOM_QUALITY_ASPECTS:
            return "quality", None
        if aspect == "design_features":
            return None, "quality"
    return None, UNSURE.get(aspect)


_TRIPLE = re.compile(r"\[([^\[\]]*?),\s*'([a-z_]+ [a-z_]+)'\s*,\s*'(positive|negative|neutral|conflict)'\s*\]")


def parse_line(line: str) -> tuple[str, list[dict]]:
    text, _, labels = line.rstrip("\n").rpartition("####")
    # not literal_eval: translated terms hold unescaped quotes ('l'hébergement')
    ops = [{"term": t.strip().strip("'\""), "category": c, "polarity": p} for t, c, p in _TRIPLE.findall(labels)]
    if not ops and labels.strip() not in ("", "[]"):
        raise ValueError(f"unreadable labels: {labels[:80]!r}")
    return text.strip(), ops


def read_split(source: Path, lang: str, split: str, domain: str = "hotel") -> list[str]:
    """Lines of data/<domain>/<lang>/<split>.txt from a checkout of M-ABSA or a bare git dir of it."""
    path = Path(source) / "data" / domain / lang / f"{split}.txt"
    if path.exists():
        raw = path.read_text(encoding="utf-8")
    else:  # a bare mirror: read the file at its commit
        raw = subprocess.run(["git", "-C", str(source), "show", f"HEAD:data/{domain}/{lang}/{split}.txt"],
                             check=True, capture_output=True, text=True).stdout
    return [ln for ln in raw.splitlines() if ln.strip()]


def rows_of(source: Path, lang: str, split: str) -> list[dict]:
    out = []
    for n, line in enumerate(read_split(source, lang, split)):
        text, ops = parse_line(line)
        if text:
            out.append({"id": f"mabsa-hotel-{lang}-{split}-{n}", "lang": lang, "part": split, "text": text,
                        "opinions": ops})
    return out


def build(source: Path, out: Path = FILE) -> int:
    """Convert train and dev (sentences also in the same language's test file are dropped)."""
    rows = []
    for lang in MABSA_LANGS:
        test = {norm_text(parse_line(ln)[0]) for ln in read_split(source, lang, "test")}
        for split in ("train", "dev"):
            # `[]` rows are unlabelled, not "no topic": they would teach nothing, so they are not kept
            rows += [r for r in rows_of(source, lang, split) if r["opinions"] and norm_text(r["text"]) not in test]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)


def labels(text: str, lang: str, opinions: list[dict], training: bool = True, rooms_as_quality: bool = False
           ) -> tuple[list[str], list[str], dict[str, str]]:
    """(topics present, topics masked, topic -> polarity) of a labelled hotel sentence; the
    polarity of `hotel general` opinions goes to the `general` slot (polarity only). `training`
    False (measuring): POLARITY_ONLY_TOPICS count as present like any other."""
    present: dict[str, set[str]] = {}
    unsure: set[str] = set()
    general: set[str] = set()
    for o in opinions:
        topic, doubt = category_topic(o["category"], rooms_as_quality)
        pol = o["polarity"] if o["polarity"] in ("negative", "neutral", "positive") else "neutral"
        if o["category"] == "hotel general":  # the hotel as a whole: the `general` slot's polarity
            general.add(pol)
        if topic:
            present.setdefault(topic, set()).add(pol)
        elif doubt:
            unsure.add(doubt)
    unsure |= set(MASKED_TOPICS)
    if lang in RULE_LANGS:
        for t in proposed(text, lang):
            if t in RULE_TOPICS:
                present.setdefault(t, set())
    else:  # no rules for de, sv
        unsure |= set(RULE_TOPICS)
    polarity = {t: (next(iter(p)) if len(p) == 1 else "neutral") for t, p in present.items() if p}
    if training:
        unsure |= set(POLARITY_ONLY_TOPICS)
        present = {t: p for t, p in present.items() if t not in POLARITY_ONLY_TOPICS}
    if general:
        polarity["general"] = next(iter(general)) if len(general) == 1 else "neutral"
    topics = [t for t in NINE_TOPICS if t in present]
    return topics, sorted(unsure - set(topics)), polarity


def to_example(r: dict, rooms_as_quality: bool = False, read_topics: set[str] | None = None,
               keep_mapped: frozenset[str] = frozenset()) -> Example | None:
    """A labelled row as an Example (None for `[]` rows); the label is the sentence's polarity
    where its opinions agree, else neutral (what SemEval's rows get). `read_topics`: the nine
    topics read on the sentence (sentiment/hotel_topics_test.py), which replace the mapped ones,
    none of them unknown, except the topics in `keep_mapped`, which keep their mapped labels
    (present, absent or masked); the opinions' polarity is kept for the topics present."""
    if not r["opinions"]:
        return None
    topics, unsure, polarity = labels(r["text"], r["lang"], r["opinions"], rooms_as_quality=rooms_as_quality)
    if read_topics is not None:
        topics = [t for t in NINE_TOPICS if (t in topics if t in keep_mapped else t in read_topics)]
        unsure = [t for t in unsure if t in keep_mapped]
        polarity = {t: p for t, p in polarity.items() if t in topics or t == "general"}
    pols = {o["polarity"] for o in r["opinions"]} & {"negative", "neutral", "positive"}
    agreed = next(iter(pols)) if len(pols) == 1 else None
    return Example(id=r["id"], text=r["text"], label=agreed or "neutral", lang=r["lang"], topics=topics,
                   source=f"mabsa-hotel-{r['lang']}",
                   meta={"original_label": agreed, "topic_polarity": polarity, "unsure": unsure})


def read_rows(path: Path = FILE, rooms_as_quality: bool = False,
              read_topics: Mapping[tuple[str, int], tuple[str, set[str]]] | None = None,
              keep_mapped: frozenset[str] = frozenset(),
              ) -> tuple[list[Example], list[Example]]:
    """(train, dev) labelled hotel Examples, in file order (`rooms_as_quality`: see ROOM_ENTITIES).

    `read_topics`: (split, line) -> (digest of the English sentence, topics read), as
    `hotel_topics_test.read_topics_for_training` gives them; every row of a line it holds takes
    those topics (but the topics in `keep_mapped`, see `to_example`). A digest that does not
    match the English row's text is refused: the reading was made on another file."""
    train: list[Example] = []
    dev: list[Example] = []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    if read_topics is not None:
        _check_read(rows, read_topics)
    for r in rows:
        read = read_topics.get((r["part"], line_of(r["id"]))) if read_topics is not None else None
        e = to_example(r, rooms_as_quality, None if read is None else read[1], keep_mapped)
        if e is not None:
            (train if r["part"] == "train" else dev).append(e)
    return train, dev


def text_digest(text: str) -> str:
    """The first 12 hex digits of the SHA-1 of a sentence: what a file of topics read on an M-ABSA
    file keeps instead of its text, to be checked against the file read later."""
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:12]


def line_of(row_id: str) -> int:
    """The line of its M-ABSA file a row comes from (`mabsa-hotel-<lang>-<split>-<line>`)."""
    return int(row_id.rpartition("-")[2])


def _check_read(rows: list[dict], read_topics: Mapping[tuple[str, int], tuple[str, set[str]]]) -> None:
    for r in rows:
        if r["lang"] != "en":
            continue
        key = (r["part"], line_of(r["id"]))
        if key in read_topics:
            if text_digest(r["text"]) != read_topics[key][0]:
                raise ValueError(f"the topics read for {r['part']} line {key[1]} are of another sentence "
                                 f"than {r['id']}'s: made on another M-ABSA file")


def languages_of(key: str, k: int) -> list[str]:
    """The k of MABSA_LANGS a source sentence (`key`: its line index, with its domain outside the
    hotel file) is kept in: a hash order, so reruns keep the same rows."""
    return sorted(MABSA_LANGS, key=lambda lg: hashlib.sha1(f"{key}:{lg}".encode()).hexdigest())[:k]


def sentence_rows(langs_per_sentence: int, path: Path = FILE) -> list[Example]:
    """Hotel *training* sentences as sentence-level sentiment rows for the adapter's training:
    each source sentence (one index across the translations) in `langs_per_sentence` of its
    languages, chosen by a hash of the index so that reruns take the same rows. All eight copies
    would mostly repeat one English sentence; a few keep the languages without the repetition.
    Topics are left unannotated (None): the 5-topic head learns presence from SemEval only, as
    the hotel categories fit it only in part (see the constants above)."""
    if not 0 <= langs_per_sentence <= len(MABSA_LANGS):
        raise ValueError(f"langs_per_sentence must be 0..{len(MABSA_LANGS)}, got {langs_per_sentence}")
    train, _ = read_rows(path)
    out = []
    for e in train:
        if e.lang in languages_of(e.id.rsplit("-", 1)[1], langs_per_sentence):
            out.append(Example(id=e.id, text=e.text, label=e.label, lang=e.lang, topics=None,
                               source=e.source, meta={"original_label": e.meta["original_label"]}))
    return out


def added_training_rows(splits: Splits, langs_per_sentence: int, path: Path = FILE) -> list[Example]:
    """`sentence_rows` less any text already in the splits (trained, selecting or measured), so
    nothing measured comes back through the hotel rows and nothing is trained on twice."""
    taken = splits.texts()
    return [e for e in sentence_rows(langs_per_sentence, path) if norm_text(e.text) not in taken]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="a checkout (or bare git dir) of M-ABSA")
    ap.add_argument("--out", type=Path, default=FILE)
    a = ap.parse_args(argv)
    print(f"{build(a.source, a.out)} sentences -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
