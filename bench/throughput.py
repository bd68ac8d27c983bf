"""Throughput and peak memory of scoring, against the loop a user would write.

Texts: a seeded mix from ../shared/data spanning 5 to 400 tokens (review sentences, tweets, book
reviews). Paths, each in a fresh subprocess (so peak memory is its own), all on `--device`:
  baseline  plain transformers loop: batches of 32 in file order, padded to 128, fp32, no_grad
  fp32      the scorer: length-sorted batches, dynamic padding, inference_mode, windows (no cut)
  int8      the scorer with torch dynamic int8 quantization of the encoder's Linear layers (CPU)
  bf16      the scorer with the encoder in bfloat16 (`sentiment.precision`; AMX CPUs, GPUs)
  fp16      the scorer with the encoder in float16 (GPUs; with --device cuda)
The baseline always runs the shipped weights; `--weights DIR` gives the scorer paths other trained
weights (a compact encoder from `--encoder-layers`, say), so their loss is measured against it.
The optimised path reported is the fastest whose macro-F1 (on the labelled texts of the mix) stays
within 1 point of the baseline's (fp32 if none). Ends with ONE JSON object on the last stdout line.

    .venv/bin/python bench/throughput.py [--texts 1000] [--threads 2] [--device cuda] [--paths fp32,fp16]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MFLOP_PER_TOKEN = 42.0  # multilingual-e5-small forward, about 2 x 21M non-embedding parameters
PATHS = ("fp32", "int8", "bf16", "fp16")
DEFAULT_PATHS = {"cpu": ("fp32", "int8", "bf16"), "gpu": ("fp32", "fp16", "bf16")}


def build_mix(data_dir: Path, n: int, seed: int = 7) -> list[dict]:
    """A seeded mix of labelled texts whose token counts span 5..400, from files that trained nothing
    (test files and the held-out SemEval split)."""
    from sentiment.data import build_splits
    from sentiment.modeling import load_tokenizer
    from sentiment.convert import ensure_converted

    tok = load_tokenizer(str(ensure_converted(REPO / ".train" / "models")))
    splits = build_splits(data_dir)
    pool = [r for rows in splits.test.values() for r in rows if r.label is not None]
    lens = [len(x) for x in tok(["query: " + r.text for r in pool], verbose=False)["input_ids"]]
    rng = random.Random(seed)
    # review-length texts, about 40-45 tokens on average, with a tail up to 400
    buckets = {(5, 16): 0.25, (16, 32): 0.35, (32, 64): 0.25, (64, 128): 0.1, (128, 256): 0.03, (256, 401): 0.02}
    out = []
    for (lo, hi), share in buckets.items():
        cand = [(r, L) for r, L in zip(pool, lens) if lo <= L < hi]
        rng.shuffle(cand)
        out += [{"text": r.text, "label": r.label, "tokens": L} for r, L in cand[: int(round(n * share))]]
    rng.shuffle(out)
    return out


def worker(path: str, mix_file: Path, threads: int, batch: int, device: str, weights: str = "") -> dict:
    import torch

    from sentiment.device import DTYPES, synchronize

    torch.set_num_threads(threads)
    rows = [json.loads(x) for x in mix_file.read_text().splitlines()]
    texts = [r["text"] for r in rows]
    from sentiment.scorer import LABELS, load_scorer
    from sentiment.settings import SentimentSettings

    precision = path if path in DTYPES else "fp32"  # the int8 path runs in fp32 around its GEMMs
    sc = load_scorer(SentimentSettings(batch_size=batch, threads=threads, int8=(path == "int8"),
                                       precision=precision, device=device,
                                       weights_dir="" if path == "baseline" else weights),
                     data_dir=REPO / ".train")
    sc.detector = type("NoLang", (), {"detect_many": staticmethod(lambda t: [None] * len(t))})()
    warm = texts[:32]
    if path == "baseline":
        from sentiment.modeling import mean_pool

        tok, model, heads = sc.tok, sc.model, sc.heads

        def run():
            preds = []
            with torch.no_grad():
                for a in range(0, len(texts), 32):
                    enc = tok(["query: " + t for t in texts[a : a + 32]], padding="max_length", truncation=True,
                              max_length=128, return_tensors="pt").to(sc.device)
                    h = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
                    s, _ = heads(mean_pool(h, enc["attention_mask"]).cpu())
                    preds += [LABELS[i] for i in s.argmax(-1).tolist()]
            return preds, sum(32 * 128 for _ in range(0, len(texts), 32))

        texts_saved = texts
        texts = warm
        run()
        texts = texts_saved
        synchronize(sc.device)
        t0 = time.perf_counter()
        preds, tokens_run = run()
        synchronize(sc.device)
        dt = time.perf_counter() - t0
    else:
        sc.score(warm)
        synchronize(sc.device)
        t0 = time.perf_counter()
        res = sc.score(texts)
        synchronize(sc.device)
        dt = time.perf_counter() - t0
        preds = [r.sentiment for r in res]
        tokens_run = sum(len(w[1]) for w in sc._windows(texts))
    from sentiment.metrics import macro_f1

    gold = [r["label"] for r in rows]
    real_tokens = sum(r["tokens"] for r in rows)
    return {"path": path, "texts": len(texts), "seconds": round(dt, 3), "texts_per_s": round(len(texts) / dt, 2),
            "macro_f1": round(macro_f1(gold, preds, ["negative", "neutral", "positive"]), 4),
            "tokens_real": real_tokens, "tokens_run": tokens_run,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated(sc.device) / 2**20, 1)
            if sc.device.type == "cuda" else None,
            "device": str(sc.device), "model_version": sc.model_version, "preds": preds,
            "layers": sc.model.config.num_hidden_layers}


def gemm_peak(threads: int, path: str = "fp32", device: str = "cpu") -> float:
    """Measured large-GEMM rate with torch on the device (GFLOP/s in the path's precision, or int8
    GOP/s through the same dynamic-quantized Linear the int8 path uses): that path's practical ceiling."""
    import torch

    from sentiment.device import DTYPES, resolve_device, synchronize

    torch.set_num_threads(threads)
    dev = resolve_device(device, int8=(path == "int8"))
    dtype = DTYPES.get(path, torch.float32)
    x = torch.randn(2048, 2048).to(dev, dtype)
    lin = torch.nn.Linear(2048, 2048, bias=False).to(dev, dtype)
    if path == "int8":
        lin = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear},
                                                     dtype=torch.qint8)
    with torch.inference_mode():
        lin(x)
        synchronize(dev)
        t0 = time.perf_counter()
        for _ in range(5):
            lin(x)
        synchronize(dev)
    return 5 * 2 * 2048**3 / (time.perf_counter() - t0) / 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--texts", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N (sentiment.device)")
    ap.add_argument("--paths", default="",
                    help=f"optimised paths to run, of {','.join(PATHS)} "
                         f"(default: {','.join(DEFAULT_PATHS['cpu'])}; on a GPU {','.join(DEFAULT_PATHS['gpu'])})")
    ap.add_argument("--weights", default="", help="sentiment.weights_dir of the scorer paths (default: shipped)")
    ap.add_argument("--worker", choices=["baseline", *PATHS])
    ap.add_argument("--mix")
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker, Path(a.mix), a.threads, a.batch, a.device, a.weights)))
        return
    from sentiment.device import resolve_device

    try:
        on_cpu = resolve_device(a.device).type == "cpu"
    except ValueError as exc:
        ap.error(f"--device: {exc}")
    paths = [p for p in a.paths.split(",") if p] or list(DEFAULT_PATHS["cpu" if on_cpu else "gpu"])
    if unknown := sorted(set(paths) - set(PATHS)):
        ap.error(f"--paths: unknown {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    if "int8" in paths and not on_cpu:
        ap.error("--paths: int8 runs on the CPU only")
    if a.weights and not (Path(a.weights) / "heads.json").exists():
        ap.error(f"--weights: no trained weights (heads.json) in {a.weights}")
    if "fp32" not in paths:
        paths.insert(0, "fp32")  # the fallback, and what the other paths' labels are compared with
    out_dir = REPO / ".bench"
    out_dir.mkdir(exist_ok=True)
    mix = build_mix(a.data_dir, a.texts)
    mix_file = out_dir / "throughput-mix.jsonl"
    mix_file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in mix) + "\n")
    toks = [r["tokens"] for r in mix]
    print(f"{len(mix)} texts, tokens min {min(toks)} mean {sum(toks) / len(toks):.1f} max {max(toks)}; "
          f"threads {a.threads}, device {a.device}", flush=True)
    res = {}
    for path in ("baseline", *paths):
        p = subprocess.run([sys.executable, __file__, "--worker", path, "--mix", str(mix_file),
                            "--threads", str(a.threads), "--batch", str(a.batch), "--device", a.device,
                            "--weights", a.weights],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"bench: path {path} failed:\n{p.stderr[-3000:]}")
        res[path] = json.loads(p.stdout.strip().splitlines()[-1])
        r = res[path]
        gpu = f"  peak GPU {r['peak_gpu_mb']:.0f} MB" if r["peak_gpu_mb"] is not None else ""
        print(f"{path:8s} {r['texts_per_s']:7.1f} texts/s  macro-F1 {100 * r['macro_f1']:.2f}  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB{gpu}  tokens run {r['tokens_run']}", flush=True)

    def agreement(x: str, y: str) -> float:
        return sum(p == q for p, q in zip(res[x]["preds"], res[y]["preds"])) / len(mix)

    print(f"fp32 optimised vs baseline: same label on {100 * agreement('fp32', 'baseline'):.1f}% of texts "
          f"(baseline cuts texts at 128 tokens, the scorer windows them)")
    for path in paths:
        if path != "fp32":
            print(f"{path} vs fp32 scorer: same label on {100 * agreement(path, 'fp32'):.1f}% of texts")
    base = res["baseline"]
    within = [p for p in paths if base["macro_f1"] - res[p]["macro_f1"] <= 0.01]
    chosen = max(within, key=lambda p: res[p]["texts_per_s"]) if within else "fp32"
    best = res[chosen]
    from sentiment.language import LanguageDetector

    det = LanguageDetector(["en", "fr", "sv", "ru", "de", "es"])
    t0 = time.perf_counter()
    det.detect_many([r["text"] for r in mix])
    lang_rate = len(mix) / (time.perf_counter() - t0)
    print(f"language detection (lingua, 6 languages; not in the texts/s above): {lang_rate:.0f} texts/s")
    peak = gemm_peak(a.threads, chosen, a.device)
    mflop = MFLOP_PER_TOKEN * best["layers"] / 12  # the cost is in the layers; embeddings are a lookup
    achieved = best["texts_per_s"] * (best["tokens_run"] / len(mix)) * mflop / 1e3  # GFLOP/s
    losses = ", ".join(f"{p} {100 * (base['macro_f1'] - res[p]['macro_f1']):+.2f}" for p in paths)
    print(f"chosen path: {chosen}, the fastest within 1 point (macro-F1 loss against the baseline: {losses} points)")
    print(f"achieved {achieved:.1f} GFLOP/s at {mflop:.1f} MFLOP/token ({best['layers']} layers); torch {chosen} 2048x2048 GEMM "
          f"on {a.device} {peak:.0f} GFLOP/s")
    final = {
        "texts": len(mix),
        "texts_per_s": best["texts_per_s"],
        "baseline_texts_per_s": base["texts_per_s"],
        "speedup": round(best["texts_per_s"] / base["texts_per_s"], 2),
        "macro_f1": best["macro_f1"],
        "baseline_macro_f1": base["macro_f1"],
        "macro_f1_loss": round(base["macro_f1"] - best["macro_f1"], 4),
        "peak_rss_mb": best["peak_rss_mb"],
        "flop_utilisation": round(achieved / peak, 3),
        "path": chosen,
        "layers": best["layers"],
        "weights": a.weights or "shipped",
        "device": a.device,
        **{f"{p}_texts_per_s": res[p]["texts_per_s"] for p in paths},
        **{f"{p}_macro_f1": res[p]["macro_f1"] for p in paths},
        **{f"{p}_peak_rss_mb": res[p]["peak_rss_mb"] for p in paths},
        **({f"{p}_peak_gpu_mb": res[p]["peak_gpu_mb"] for p in ("baseline", *paths)} if not on_cpu else {}),
        "baseline_peak_rss_mb": base["peak_rss_mb"],
        "mean_tokens": round(sum(toks) / len(toks), 1),
        "gemm_gflops": round(peak, 1),
        "achieved_gflops": round(achieved, 1),
        "threads": a.threads,
        "language_detection_texts_per_s": round(lang_rate, 1),
    }
    print(json.dumps(final))


if __name__ == "__main__":
    main()
