"""Labels for the nine topics on the SemEval restaurant sentences: the training labels and the
hand-checked test split.

    python -m sentiment.topic_labels [--data-dir ../shared/data] [--show TOPIC --lang en --part train]

- `sentiment/data/topic_labels.jsonl` (train and dev parts, six languages; id + the four new topics):
  the keyword rules of `sentiment/topic_rules.py`, minus the phrases in `EXCLUDE` (found reading
  the matches and samples of the non-matches: "can't wait", "wait staff", ...), then per-sentence
  corrections from `sentiment/data/topic_label_fixes.json` where one exists (none so far: the
  rules were corrected instead).
- `sentiment/eval/topics_test.jsonl` (the SemEval "test" part, en fr es ru; id + all nine topics):
  SemEval's own categories for the five it annotates; the four new ones from the rules, with
  every sentence read and corrected in `sentiment/eval/topics_test_fixes.json`. It trains nothing.

The texts stay in the team's folder; these files hold ids and topics only. No torch here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from sentiment.data import semeval_part
from sentiment.topic_rules import LANGS, NEW_TOPICS, NINE_TOPICS, category_topic, rule_matches

HERE = Path(__file__).parent
LABELS_FILE = HERE / "data" / "topic_labels.jsonl"
FIXES_FILE = HERE / "data" / "topic_label_fixes.json"
TEST_FILE = HERE / "eval" / "topics_test.jsonl"
TEST_FIXES_FILE = HERE / "eval" / "topics_test_fixes.json"
TEST_LANGS = ("en", "fr", "es", "ru", "nl", "tr")

# Phrases the rules match that are not about the topic (found reading the matches)
EXCLUDE = {
    "en": r"can'?t wait|cannot wait|couldn'?t wait|wait ?-?staff|waitstaff|quick (?:lunch|bite|meal|snack|dinner|stop)"
          r"|in a long time|(?:stay|stays|open|remember\w*) forever|fast food|happy hour|so[- ]called|call(?:ed)? it"
          r"|called the (?:restaurant|place) (?:too|a|the)|book(?:ed)? (?:a |the )?(?:party|event)|dirty martini"
          r"|clean (?:flavou?rs?|taste|tasting|plate)|respond(?:ed)? to (?:the|this) review|calling the (?:place|restaurant)"
          r"|down the toilet",
    "fr": r"je n'?attend(?:ais)? pas|sans attendre de|à quoi s'attendre|s'attendre à|on s'attend|attendre à"
          r"|tout de suite (?:dans|l'ambiance)|appel(?:le|lent|é|ée|er) (?:ça|cela|le|la)|escale rapide|en a appelé"
          r"|mieux renseign",
    "es": r"lo que (?:se )?esperaba|esperaba (?:más|algo)|no esperes|espero (?:volver|repetir)|(?:por|de) la tarde"
          r"|se llama|llamad[oa]s?|cab[ií]a esperar|lo esperado|que esperamos|esperas todo|esperar[ií]a"
          r"|reserva \d{4}|gran reserva|brut reserva|nos reservamos|comunicad[oa] con"
          r"|(?:intentar|puedo|he intentado|me he) explica\w*|explicada|explicar el porqu|calling the (?:place|restaurant)",
    "ru": r"как ни странно|не ожидал|ожидал(?:и|а)? (?:большего|лучшего|большее)|за (?:такие|эти) деньги|час пик"
          r"|в первый час|называ|(?:первую|свою) очередь|чисто \w+ски\w*|чисто по[- ]русски|отвечают (?:этому|своему|качеству)"
          r"|ответ на вопрос \W",
    "nl": r"niet te wachten|snel weer|snelle hap|snelle lunch|vuile dieven|(?:de|vol|met) boeken",
    "tr": r"saat (?:gibi|de)|beklenti\w*|yava[şs] yava[şs]|yan[ıi] s[ıi]ra",
}
_EXCLUDE = {lang: re.compile(p, re.IGNORECASE) for lang, p in EXCLUDE.items()}


def proposed(text: str, lang: str) -> set[str]:
    """The new topics the rules propose for `text`, after the excluded phrases."""
    if lang in _EXCLUDE:
        text = _EXCLUDE[lang].sub(" ", text)
    return set(rule_matches(text, lang))


def _read(data_dir: Path, lang: str) -> list[dict]:
    with open(data_dir / f"semeval16-restaurants-{lang}-train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _fixed(topics: set[str], fix: dict | None) -> set[str]:
    if fix:
        topics = (topics - set(fix.get("remove", ()))) | set(fix.get("add", ()))
    return topics


def semeval_topics(row: dict) -> set[str]:
    return {t for o in row.get("opinions", []) if (t := category_topic(o.get("category", "")))}


def build(data_dir: Path) -> tuple[int, int]:
    fixes = json.loads(FIXES_FILE.read_text(encoding="utf-8")) if FIXES_FILE.exists() else {}
    test_fixes = json.loads(TEST_FIXES_FILE.read_text(encoding="utf-8")) if TEST_FIXES_FILE.exists() else {}
    train_rows, test_rows = [], []
    for lang in LANGS:
        for row in _read(data_dir, lang):
            part = semeval_part(row["id"])
            new = proposed(row["text"], lang)
            if part == "test":
                if lang in TEST_LANGS:
                    topics = semeval_topics(row) | _fixed(new, test_fixes.get(row["id"]))
                    test_rows.append({"id": row["id"], "lang": lang,
                                      "topics": [t for t in NINE_TOPICS if t in topics]})
                continue
            topics = _fixed(new, fixes.get(row["id"]))
            train_rows.append({"id": row["id"], "lang": lang, "part": part,
                               "topics": [t for t in NEW_TOPICS if t in topics]})
    for path, rows in ((LABELS_FILE, train_rows), (TEST_FILE, test_rows)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(train_rows), len(test_rows)


def read_labels(path: Path = LABELS_FILE) -> dict[str, list[str]]:
    """id -> topics of a labels file (either of the two)."""
    with open(path, encoding="utf-8") as fh:
        return {r["id"]: r["topics"] for r in map(json.loads, fh) if r}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--show", default="", help="print the sentences the rules give this topic (for reading)")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--part", default="train", choices=["train", "dev", "test"])
    a = ap.parse_args(argv)
    if not (a.data_dir / "semeval16-restaurants-en-train.jsonl").exists():
        print(f"no SemEval files in {a.data_dir}", file=sys.stderr)
        return 2
    if a.show:
        for row in _read(a.data_dir, a.lang):
            if semeval_part(row["id"]) == a.part and a.show in proposed(row["text"], a.lang):
                print(row["id"], row["text"])
        return 0
    n_train, n_test = build(a.data_dir)
    print(f"{n_train} train/dev sentences -> {LABELS_FILE}; {n_test} test sentences -> {TEST_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
