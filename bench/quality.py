"""Quality of the sentiment model on the labelled files in ../shared/data that trained nothing.

Prints macro-F1 per data set and language, with its 95% interval (a cluster bootstrap: SemEval
reviews resampled whole, see sentiment/bootstrap.py), next to the published figures (SOURCES.md),
topic micro-F1 on the SemEval held-out split (split by review id; see sentiment/data.py), the
per-opinion polarity given the gold topic and the nine-topic F1 on the hand-checked test split
(bench/quality_topics.py; with `--mabsa-dir`, also on the hand-read hotel split and both
together), and ends with ONE JSON object on the last stdout line.

    .venv/bin/python bench/quality.py [--data-dir ../shared/data] [--int8 | --precision bf16] [--device cuda] [--limit N] [--mabsa-dir DIR [--business-kind hotel]]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sentiment.bootstrap import macro_f1_interval  # noqa: E402
from sentiment.data import LABELS, SEMEVAL_TOPICS, build_splits, semeval_review_id  # noqa: E402
from sentiment.metrics import macro_f1, micro_f1_multilabel, per_class_f1  # noqa: E402
from bench.quality_shares import share_section  # noqa: E402
from bench.quality_topics import hotel_sections, score_semeval, topic_section  # noqa: E402

PUBLISHED = {
    "umsab-en": {"XLM-T": 70.6, "XLM-R": 68.5, "FastText": 50.9},
    "umsab-fr": {"XLM-T": 71.2, "XLM-R": 70.5, "FastText": 54.8},
    "umsab-de": {"XLM-T": 77.3, "XLM-R": 72.8, "FastText": 59.6},
    "umsab-es": {"XLM-T": 67.9, "XLM-R": 66.0, "FastText": 50.1},
    "semeval-en": {"best 2016 polarity acc (per opinion)": 88.1, "best 2016 category F1": 73.0},
    "semeval-es": {"best 2016 polarity acc (per opinion)": 83.6, "best 2016 category F1": 70.6},
    "semeval-fr": {"best 2016 polarity acc (per opinion)": 78.8, "best 2016 category F1": 61.2},
    "semeval-ru": {"best 2016 polarity acc (per opinion)": 77.9, "best 2016 category F1": 64.8},
    "uci-en": {"AFINN accuracy (amazon/imdb/yelp)": "72.6/76.5/69.6"},
}
TARGETS = {"umsab-en": 70.6, "umsab-fr": 71.2, "umsab-de": 77.3, "umsab-es": 67.9}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--model", default="", help="sentiment.model (default: embedded)")
    ap.add_argument("--weights", default="", help="sentiment.weights_dir (default: shipped)")
    ap.add_argument("--models-dir", type=Path, default=REPO / ".train",
                    help="data dir whose models/ caches the converted model")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"], help="sentiment.precision")
    ap.add_argument("--device", default="cpu", help="sentiment.device: cpu, cuda, cuda:N")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="texts per data set (0 = all)")
    ap.add_argument("--mabsa-dir", type=Path, default=None,
                    help="a checkout or bare git dir of github.com/swaggy66/M-ABSA: also the nine topics on "
                         "its hotel test sentences read one by one, and both hand-checked splits together "
                         "(bench/quality_topics.py (c)-(e))")
    ap.add_argument("--business-kind", default=None, metavar="KIND",
                    help="with --mabsa-dir: read the hotel sentences as a business of KIND's, as the product "
                         "reads a business declared so (its topic heads, sentiment/kinds.py; e.g. hotel)")
    ap.add_argument("--shares-limit", type=int, default=400,
                    help="texts per file for the corrected shares (seeded sample; 0 = all)")
    a = ap.parse_args(argv)

    from sentiment.scorer import load_scorer
    from sentiment.settings import SentimentSettings, default_topics

    topics = default_topics()
    # the SemEval topics once more under other keys: scored by description similarity, to measure
    # how well the similarity method (used for topics SemEval does not annotate) does
    topics.update({f"sim:{k}": topics[k] for k in SEMEVAL_TOPICS})
    settings = SentimentSettings(model=a.model, weights_dir=a.weights, int8=a.int8, threads=a.threads,
                                 precision=a.precision, device=a.device, topics=topics)
    t0 = time.time()
    scorer = load_scorer(settings, languages=["en", "fr", "sv", "ru", "de", "es", "nl", "tr"], data_dir=a.models_dir)
    print(f"model {scorer.model_id} {scorer.model_version} loaded in {time.time() - t0:.1f}s", flush=True)
    splits = build_splits(a.data_dir)
    result: dict = {"model_id": scorer.model_id, "model_version": scorer.model_version, "int8": a.int8,
                    "precision": a.precision, "device": str(scorer.device),
                    "sentiment_macro_f1": {}, "sentiment_macro_f1_ci95": {}, "per_class_f1": {},
                    "topics": {}, "published": PUBLISHED}
    sim_all_t, sim_all_p, head_all_t, head_all_p = [], [], [], []
    for name, rows in splits.test.items():
        rows = [r for r in rows if r.label is not None or name.startswith("semeval")]
        if a.limit:
            rows = rows[: a.limit]
        t1 = time.time()
        res = scorer.score([r.text for r in rows])
        pred = [x.sentiment for x in res]
        gold = [r.label for r in rows]
        labels = [lab for lab in LABELS if lab in set(gold)]
        m = macro_f1(gold, pred, labels)
        result["sentiment_macro_f1"][name] = round(100 * m, 2)
        # a review's sentences are resampled together: they are not independent texts
        groups = [semeval_review_id(r.id) if name.startswith("semeval") else r.id for r in rows]
        low, high = macro_f1_interval(gold, pred, groups, labels)
        result["sentiment_macro_f1_ci95"][name] = [round(100 * low, 2), round(100 * high, 2)]
        result["per_class_f1"][name] = {k: round(100 * v, 1) for k, v in per_class_f1(gold, pred, labels).items()}
        # clear opinions called neutral (issue 27): of the texts whose true label is positive or
        # negative, the share the model labels neutral (no measured file carries stars)
        polar = [p for g, p in zip(gold, pred) if g in ("positive", "negative")]
        called_neutral = 100 * sum(p == "neutral" for p in polar) / max(1, len(polar))
        result.setdefault("polar_called_neutral", {})[name] = round(called_neutral, 1)
        extra = ""
        if len(labels) == 2:  # binary sets: also forced choice between negative and positive
            forced = ["positive" if x.probabilities["positive"] >= x.probabilities["negative"] else "negative"
                      for x in res]
            acc = sum(f == g for f, g in zip(forced, gold)) / len(gold)
            result["sentiment_macro_f1"][name + " (forced pos/neg)"] = round(100 * macro_f1(gold, forced, labels), 2)
            extra = f"  forced pos/neg macro-F1 {100 * macro_f1(gold, forced, labels):.1f} acc {100 * acc:.1f}"
        if name.startswith("semeval"):
            orig = [(r.meta.get("original_label"), p) for r, p in zip(rows, pred)]
            orig = [(g, p) for g, p in orig if g is not None]
            mo = macro_f1([g for g, _ in orig], [p for _, p in orig], list(LABELS))
            result["sentiment_macro_f1"][name + " (annotated rows only)"] = round(100 * mo, 2)
            extra = f"  annotated-only {100 * mo:.1f} (n={len(orig)})"
            tt = [set(r.topics or []) for r in rows]
            hp = [{k for k in SEMEVAL_TOPICS if k in x.topics} for x in res]
            sp = [{k for k in SEMEVAL_TOPICS if f"sim:{k}" in x.topics} for x in res]
            head_all_t += tt
            head_all_p += hp
            sim_all_t += tt
            sim_all_p += sp
            per_topic = {}
            for k in SEMEVAL_TOPICS:
                per_topic[k] = round(100 * micro_f1_multilabel([t & {k} for t in tt], [p & {k} for p in hp]), 1)
            result["topics"][name] = {
                "micro_f1": round(100 * micro_f1_multilabel(tt, hp), 2),
                "similarity_method_micro_f1": round(100 * micro_f1_multilabel(tt, sp), 2),
                "per_topic_f1": per_topic,
            }
            extra += (f"  topics micro-F1 {result['topics'][name]['micro_f1']:.1f}"
                      f" (similarity method {result['topics'][name]['similarity_method_micro_f1']:.1f}) {per_topic}")
        pub = PUBLISHED.get(name, "")
        print(f"{name:22s} n={len(rows):5d} macro-F1 {100 * m:5.1f} [95% {100 * low:.1f}-{100 * high:.1f}]"
              f"  positive/negative called neutral {called_neutral:.1f}%{extra}  published: {pub}  "
              f"[{time.time() - t1:.0f}s]", flush=True)
    result["topics"]["semeval-all"] = {"micro_f1": round(100 * micro_f1_multilabel(head_all_t, head_all_p), 2),
                                       "similarity_method_micro_f1": round(
                                           100 * micro_f1_multilabel(sim_all_t, sim_all_p), 2)}
    result["targets_met"] = {
        **{k: result["sentiment_macro_f1"].get(k, 0) >= v for k, v in TARGETS.items()},
        **{f"semeval-{lang} sentiment>=75": result["sentiment_macro_f1"].get(f"semeval-{lang}", 0) >= 75
           for lang in ("en", "fr", "es", "ru")},
        **{f"semeval-{lang} topics>=82": result["topics"].get(f"semeval-{lang}", {}).get("micro_f1", 0) >= 82
           for lang in ("en", "fr", "es", "ru")},
    }
    result.update(share_section(scorer, splits, a.shares_limit))  # bench/quality_shares.py
    # per-opinion polarity given the gold topic, and the nine topics (bench/quality_topics.py)
    scored = score_semeval(scorer, a.data_dir)
    result.update(topic_section(scorer, a.data_dir, scored))
    if a.mabsa_dir is not None:
        result.update(hotel_sections(scorer, a.mabsa_dir, a.data_dir, scored, a.business_kind))
        if a.business_kind is not None:
            result["business_kind"] = {"kind": a.business_kind, "model_version": scorer.version_for(a.business_kind)}
    for lang, v in result["polarity_given_topic"].items():
        if "target_met" in v:
            result["targets_met"][f"semeval-{lang} polarity given topic>={v['target']}"] = v["target_met"]
    for key, prefix in (("nine_topics", "topics_test"), ("nine_topics_both_test_splits", "both topic test splits")):
        for lang, v in result.get(key, {}).items():
            if isinstance(v, dict):
                for k, met in v["targets_met"].items():
                    result["targets_met"][f"{prefix}-{lang} {k}"] = met
    result["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
