"""Choose the int8 variant of a trained encoder on the dev split; record it in its `heads.json`.

Which FFN down-projections must stay fp32, and whether activations may use all 8 bits, depends on
the merged weights (encoder + adapter), so it is chosen for each set of weights, like the
temperature, on dev data only:

1. sensitivity: with every FFN down-projection in fp32, quantise one layer's as well and measure the
   mean cosine of the embeddings to fp32 on a probe of dev texts; the lower, the more that layer needs
   fp32;
2. candidates: full 8-bit activations with the k most sensitive layers in fp32 (k = 0..max_float),
   with all of them in fp32, and torch's default (7-bit, all in fp32);
3. among those with at most `max_float` fp32 layers (each costs under 3 % of the Linear work), the
   one whose largest loss of dev sentiment macro-F1 against fp32 is smallest (ties: fewer fp32
   layers); if even that loses more than `tolerance` points, the same over every candidate, and the
   choice is flagged `within_tolerance: false`.

    python -m sentiment.int8_select --weights sentiment/weights --data-dir ../shared/data --write
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment.data import LABELS, SEMEVAL_TOPICS, Example
from sentiment.int8 import is_ffn_down_projection, layer_index, quantize_encoder

log = logging.getLogger("sentiment.int8_select")

SECTION = "int8"


@dataclass(frozen=True)
class Variant:
    float_ffn_layers: tuple[int, ...]
    full_range: bool


def ffn_layers(model: Any) -> list[int]:
    """Indices of the encoder layers that have an FFN down-projection."""
    found = {layer_index(name) for name, _ in model.named_modules() if is_ffn_down_projection(name)}
    return sorted(n for n in found if n is not None)


def dev_metrics(scorer: Any, dev: list[Example]) -> dict[str, float]:
    """Macro-F1 ×100 per source family (`umsab`, `semeval`, ...), topic micro-F1 ×100, texts/s."""
    from sentiment.metrics import macro_f1, micro_f1_multilabel

    t0 = time.perf_counter()
    res = scorer.score([e.text for e in dev])
    out: dict[str, float] = {"texts_per_s": round(len(dev) / (time.perf_counter() - t0), 1)}
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for e, r in zip(dev, res):
        if e.label in LABELS:
            gold, pred = groups.setdefault(e.source.split("-")[0], ([], []))
            gold.append(e.label)
            pred.append(r.sentiment)
    for key, (gold, pred) in sorted(groups.items()):
        out[key] = round(100 * macro_f1(gold, pred, list(LABELS)), 2)
    tagged = [(set(e.topics), {k for k in SEMEVAL_TOPICS if k in r.topics})
              for e, r in zip(dev, res) if e.topics is not None]
    if tagged:
        out["topics"] = round(100 * micro_f1_multilabel([t for t, _ in tagged], [p for _, p in tagged]), 2)
    return out


def sentiment_keys(metrics: dict[str, float]) -> list[str]:
    return [k for k in metrics if k not in ("texts_per_s", "topics")]


def _mean_cosine(torch: Any, a: Any, b: Any) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=-1).mean())


def select(scorer: Any, dev: list[Example], *, tolerance: float = 1.0, probe: int = 800,
           max_float: int = 4) -> dict:
    """The int8 section for this scorer's weights (the scorer must be the fp32 one; restored after)."""
    torch = scorer.torch
    base = scorer.model
    layers = ffn_layers(base)
    if not layers:
        raise ValueError("this encoder has no FFN down-projections (layer.N.output.dense) to choose among")
    try:
        fp32 = dev_metrics(scorer, dev)
        log.info("fp32 on dev: %s", fp32)
        probe_texts = [e.text for e in dev[:: max(1, len(dev) // probe)]][:probe]
        ref = scorer.embed(probe_texts)
        sensitivity: dict[int, float] = {}
        for n in layers:
            scorer.model = quantize_encoder(base, [x for x in layers if x != n], full_range=True)
            sensitivity[n] = round(_mean_cosine(torch, scorer.embed(probe_texts), ref), 5)
            log.info("layer %d's FFN down-projection quantised too: cosine to fp32 %.4f", n, sensitivity[n])
        order = sorted(layers, key=lambda n: sensitivity[n])
        variants = [Variant(tuple(sorted(order[:k])), True) for k in range(min(max_float, len(layers)) + 1)]
        variants += [Variant(tuple(layers), True), Variant(tuple(layers), False)]
        candidates: list[dict[str, Any]] = []
        for v in dict.fromkeys(variants):
            scorer.model = quantize_encoder(base, v.float_ffn_layers, full_range=v.full_range)
            m = dev_metrics(scorer, dev)
            ok = all(m[k] >= fp32[k] - tolerance for k in sentiment_keys(fp32))
            candidates.append({"float_ffn_layers": list(v.float_ffn_layers), "full_range": v.full_range,
                               "within_tolerance": ok, **m})
            log.info("int8 %s-bit, fp32 FFN-down layers %s: %s%s", 8 if v.full_range else 7,
                     list(v.float_ffn_layers), m, "" if ok else " (outside tolerance)")
    finally:
        scorer.model = base

    def worst_change(c: dict) -> float:  # the largest loss against fp32 over the sentiment figures
        return min(c[k] - fp32[k] for k in sentiment_keys(fp32))

    def rank(c: dict) -> tuple[float, int]:
        return worst_change(c), -len(c["float_ffn_layers"])

    # each fp32 FFN down-projection costs under 3 % of the Linear work: up to max_float of them are
    # cheap, so among those the closest to fp32 wins, not the one that merely scrapes within tolerance
    best = max((c for c in candidates if len(c["float_ffn_layers"]) <= max_float), key=rank)
    if worst_change(best) < -tolerance:
        best = max(candidates, key=rank)
    return {
        "float_ffn_layers": best["float_ffn_layers"], "full_range": best["full_range"],
        "within_tolerance": best["within_tolerance"], "tolerance_points": tolerance,
        "worst_change_points": round(worst_change(best), 2),
        "chosen_on": f"dev ({len(dev)} texts)", "fp32_dev": fp32,
        "layer_sensitivity_cosine": {str(k): v for k, v in sensitivity.items()}, "candidates": candidates,
    }


def write_section(weights_dir: Path, section: dict) -> None:
    """Put the section into heads.json (atomically: a crash leaves the old file)."""
    path = Path(weights_dir) / "heads.json"
    meta = json.loads(path.read_text())
    meta[SECTION] = section
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def fp32_scorer(weights_dir: Path, model: str = "", data_dir: Path | str = "data",
                converted: Path | None = None) -> Any:
    from sentiment.scorer import TransformersScorer
    from sentiment.settings import SentimentSettings

    # on the CPU even where a GPU is: int8 runs there, and its speed is compared with fp32's;
    # fp32 named, not the default "auto", which is bf16 on CPUs with AMX and would feed bf16
    # activations to the int8 layers being chosen
    settings = SentimentSettings(model=model, weights_dir=str(weights_dir), device="cpu",
                                 precision="fp32")
    return TransformersScorer(settings, data_dir=data_dir, converted=converted)


def select_and_write(weights_dir: Path, dev: list[Example], *, model: str = "", data_dir: Path | str = "data",
                     converted: Path | None = None, tolerance: float = 1.0) -> dict:
    """Load the fp32 scorer for these weights, choose on dev, record the choice beside the heads."""
    section = select(fp32_scorer(weights_dir, model, data_dir, converted), dev, tolerance=tolerance)
    write_section(weights_dir, section)
    log.info("int8 choice for %s: 8-bit activations %s, fp32 FFN-down layers %s (within %.1f points: %s)",
             weights_dir, section["full_range"], section["float_ffn_layers"], tolerance,
             section["within_tolerance"])
    return section


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, required=True, help="the trained adapter + heads folder")
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"), help="the team's labelled data")
    ap.add_argument("--model", default="", help="sentiment.model the weights were trained on (default: embedded)")
    ap.add_argument("--models-dir", type=Path, default=Path(".train"),
                    help="data dir whose models/ caches the converted embedded model")
    ap.add_argument("--tolerance", type=float, default=1.0, help="macro-F1 points int8 may lose on dev")
    ap.add_argument("--write", action="store_true", help="record the choice in the weights' heads.json")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from sentiment.data import build_splits

    dev = build_splits(a.data_dir).dev
    if a.write:
        section = select_and_write(a.weights, dev, model=a.model, data_dir=a.models_dir, tolerance=a.tolerance)
    else:
        section = select(fp32_scorer(a.weights, a.model, a.models_dir), dev, tolerance=a.tolerance)
    print(json.dumps(section))
    return section


if __name__ == "__main__":
    main()
