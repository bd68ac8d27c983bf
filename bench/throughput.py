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

`--end-to-end` measures the whole command instead: `reviewwatch score --input IN --output OUT` run as
a subprocess on 5 000 held-out review texts (`build_review_mix`), model load, language detection,
tokenisation and JSON in and out included, once per `--precisions` setting (default: the default,
"auto"), beside the plain loop above on the same texts in the same run, `--repeat` times (the
median is reported). Also: the command on one text and on an empty file (nothing to score). The
caches the command keeps under its data dir (the converted model, the prepared encoder) are made by
a warm-up run first: the figures are those of every run after the first.

    .venv/bin/python bench/throughput.py --end-to-end [--texts 5000] [--repeat 3] [--precisions auto,fp32]
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


def build_review_mix(data_dir: Path, n: int, seed: int = 11) -> list[dict]:
    """`n` review texts from held-out files, in the throughput mix's length distribution.

    Sources: the held-out SemEval-2016 restaurant reviews in en, es, fr, ru (`semeval_part` "test";
    each whole review, and every run of consecutive sentences of one review), `uci-sentences-en`
    (sentences of Amazon, Yelp and IMDb reviews: each, and runs of 2 to 4 consecutive sentences of
    one site joined, to reach review length) and `amazon-books-fr` (whole reviews). None of them
    trained or chose anything; no tweets and no UMSAB test file. The SemEval nl and tr reviews are
    left out: the command's default languages do not include them. Each text is drawn once at most.
    """
    from sentiment.convert import ensure_converted
    from sentiment.data import read_jsonl, semeval_part, semeval_review_id
    from sentiment.modeling import load_tokenizer

    cands: list[tuple[str, str | None, str]] = []  # text, label when it has one, source
    for lang in ("en", "es", "fr", "ru"):
        reviews: dict[str, list] = {}
        for ex in read_jsonl(data_dir / f"semeval16-restaurants-{lang}-train.jsonl"):
            if semeval_part(ex.id) == "test":
                reviews.setdefault(semeval_review_id(ex.id), []).append(ex)
        for sents in reviews.values():
            for a in range(len(sents)):
                for b in range(a + 1, len(sents) + 1):
                    label = sents[a].label if b == a + 1 else None
                    cands.append((" ".join(x.text for x in sents[a:b]), label, f"semeval-{lang}"))
    uci = read_jsonl(data_dir / "uci-sentences-en.jsonl")
    for i, ex in enumerate(uci):
        cands.append((ex.text, ex.label, "uci-en"))
        for k in (2, 3, 4):
            run = uci[i : i + k]
            if len(run) == k and len({x.id.rsplit("-", 1)[0] for x in run}) == 1:
                cands.append((" ".join(x.text for x in run), None, "uci-en"))
    cands += [(ex.text, ex.label, "amazon-books-fr") for ex in read_jsonl(data_dir / "amazon-books-fr.jsonl")]
    tok = load_tokenizer(str(ensure_converted(REPO / ".train" / "models")))
    lens = [len(x) for x in tok(["query: " + c[0] for c in cands], verbose=False)["input_ids"]]
    rng = random.Random(seed)
    # the same shares of lengths as `build_mix`: about 40-45 tokens on average, a tail up to 400
    buckets = {(5, 16): 0.25, (16, 32): 0.35, (32, 64): 0.25, (64, 128): 0.1, (128, 256): 0.03, (256, 401): 0.02}
    out = []
    for (lo, hi), share in buckets.items():
        pool = [(c, L) for c, L in zip(cands, lens) if lo <= L < hi]
        rng.shuffle(pool)
        want = int(round(n * share))
        if len(pool) < want:
            sys.exit(f"bench: only {len(pool)} held-out review texts of {lo}-{hi - 1} tokens, {want} wanted")
        out += [{"text": c[0], "label": c[1], "source": c[2], "tokens": L} for c, L in pool[:want]]
    rng.shuffle(out)
    return out[:n]


def worker(path: str, mix_file: Path, threads: int, batch: int, device: str, weights: str = "") -> dict:
    import torch

    from sentiment.device import DTYPES, synchronize

    torch.set_num_threads(threads)
    rows = [json.loads(x) for x in mix_file.read_text(encoding="utf-8").split("\n") if x]
    texts = [r["text"] for r in rows]
    from sentiment.scorer import LABELS, TransformersScorer
    from sentiment.settings import SentimentSettings

    precision = path if path in DTYPES else "fp32"  # the int8 path runs in fp32 around its GEMMs
    # the baseline is what a user would write with transformers: its tokenizer and BertModel, not
    # the prepared encoder the scorer loads (sentiment/prepared.py)
    sc = TransformersScorer(SentimentSettings(batch_size=batch, threads=threads, int8=(path == "int8"),
                                              precision=precision, device=device,
                                              weights_dir="" if path == "baseline" else weights),
                            data_dir=REPO / ".train", prepared=path != "baseline")
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

    labelled = [i for i, r in enumerate(rows) if r.get("label")]  # the review mix has unlabelled runs
    gold = [rows[i]["label"] for i in labelled]
    real_tokens = sum(r["tokens"] for r in rows)
    return {"path": path, "texts": len(texts), "seconds": round(dt, 3), "texts_per_s": round(len(texts) / dt, 2),
            "macro_f1": round(macro_f1(gold, [preds[i] for i in labelled], ["negative", "neutral", "positive"]), 4),
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


def _command(cfg: Path, args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """The real command line, as a user runs it; its wall time."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "reviewwatch", "--config", str(cfg), *args],
                       capture_output=True, text=True, env=env, cwd=REPO)
    return time.perf_counter() - t0, p


def _median(xs: list[float]) -> float:
    ys = sorted(xs)
    return ys[len(ys) // 2] if len(ys) % 2 else (ys[len(ys) // 2 - 1] + ys[len(ys) // 2]) / 2


def end_to_end(a: argparse.Namespace) -> None:
    """`reviewwatch score --input/--output` on review texts, beside the plain loop (module docstring)."""
    precisions = [p for p in a.precisions.split(",") if p]
    if bad := sorted(set(precisions) - {"auto", "fp32", "bf16", "fp16", "int8"}):
        sys.exit(f"bench: --precisions: unknown {', '.join(bad)}")
    out_dir = REPO / ".bench" / "e2e"
    out_dir.mkdir(parents=True, exist_ok=True)
    mix = build_review_mix(a.data_dir, a.texts)
    mix_file = out_dir / "review-mix.jsonl"
    mix_file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in mix) + "\n")
    # the plain loop's rate on the first texts of the (shuffled) mix: it pads every batch to 128
    # tokens, so its rate hardly depends on which texts; all 5 000 would take it minutes a run
    base_file = out_dir / "review-mix-baseline.jsonl"
    n_base = min(len(mix), a.baseline_texts)
    base_file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in mix[:n_base]) + "\n")
    inp = out_dir / "input.jsonl"
    inp.write_text("".join(json.dumps({"id": i, "text": r["text"]}, ensure_ascii=False) + "\n"
                           for i, r in enumerate(mix)), encoding="utf-8")
    one = out_dir / "one.jsonl"
    one.write_text(json.dumps({"id": 0, "text": "The waiter was rude and we waited an hour."}) + "\n")
    empty = out_dir / "empty.jsonl"
    empty.write_text("")
    # the command's defaults (languages, batch size, threads), a data dir of its own
    data = out_dir / "data"
    cfg = out_dir / "reviewwatch.toml"
    cfg.write_text(f'data_dir = "{data}"\n', encoding="utf-8")
    from sentiment.convert import ensure_converted

    ensure_converted(data / "models")  # the one-time conversion of a fresh install, not measured
    toks = [r["tokens"] for r in mix]
    sources: dict[str, int] = {}
    for r in mix:
        sources[r["source"]] = sources.get(r["source"], 0) + 1
    print(f"{len(mix)} held-out review texts ({', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}); "
          f"tokens min {min(toks)} mean {sum(toks) / len(toks):.1f} max {max(toks)}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    def env_for(precision: str, checkout: Path = REPO) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWWATCH_")}
        env["PYTHONPATH"] = str(checkout)
        if precision == "int8":
            env.update(REVIEWWATCH_SENTIMENT__INT8="true", REVIEWWATCH_SENTIMENT__PRECISION="fp32")
        elif precision != "auto":
            env["REVIEWWATCH_SENTIMENT__PRECISION"] = precision
        return env

    for precision in precisions:  # warm-up: conversion check, prepared encoder, topic embeddings
        dt, p = _command(cfg, ["score", "--input", str(one), "--output", str(out_dir / "warm.jsonl"),
                               "--no-progress"], env_for(precision))
        if p.returncode != 0:
            sys.exit(f"bench: warm-up of precision {precision} failed:\n{p.stderr[-3000:]}")
        print(f"warm-up {precision}: {dt:.1f} s", flush=True)
    runs: list[dict] = []
    for rep in range(a.repeat):
        run: dict = {"load_average": round(os.getloadavg()[0], 2)}
        p = subprocess.run([sys.executable, __file__, "--worker", "baseline", "--mix", str(base_file),
                            "--threads", str(a.threads), "--batch", str(a.batch), "--device", a.device],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"bench: baseline failed:\n{p.stderr[-3000:]}")
        base = json.loads(p.stdout.strip().splitlines()[-1])
        run["baseline_texts_per_s"] = base["texts_per_s"]
        run["baseline_texts"] = base["texts"]
        for precision in precisions:
            out = out_dir / f"out-{precision}.jsonl"
            dt, p = _command(cfg, ["score", "--input", str(inp), "--output", str(out), "--no-progress"],
                             env_for(precision))
            lines = [x for x in out.read_text(encoding="utf-8").split("\n") if x] if out.exists() else []
            if p.returncode != 0 or len(lines) != len(mix) or any('"error"' in x[:40] for x in lines):
                sys.exit(f"bench: the command failed for {precision} (exit {p.returncode}, "
                         f"{len(lines)} lines):\n{p.stderr[-3000:]}")
            run[f"{precision}_texts_per_s"] = round(len(mix) / dt, 2)
            run[f"{precision}_seconds"] = round(dt, 2)
        if a.compare_with:  # another checkout's command (the code before a change), its defaults
            out = out_dir / "out-compare.jsonl"
            dt, p = _command(cfg, ["score", "--input", str(inp), "--output", str(out), "--no-progress"],
                             env_for("auto", a.compare_with))
            if p.returncode != 0:
                sys.exit(f"bench: the command of {a.compare_with} failed:\n{p.stderr[-3000:]}")
            run["compare_texts_per_s"] = round(len(mix) / dt, 2)
        dt1, p1 = _command(cfg, ["score", "--input", str(one), "--output", str(out_dir / "one-out.jsonl"),
                                 "--no-progress"], env_for(precisions[0]))
        dt0, p0 = _command(cfg, ["score", "--input", str(empty), "--output", str(out_dir / "empty-out.jsonl"),
                                 "--no-progress"], env_for(precisions[0]))
        if p1.returncode or p0.returncode:
            sys.exit(f"bench: one text / empty input failed:\n{(p1.stderr + p0.stderr)[-3000:]}")
        run["single_text_s"], run["empty_input_s"] = round(dt1, 2), round(dt0, 2)
        p = subprocess.run([sys.executable, __file__, "--load-worker", precisions[0], "--data", str(data)],
                           capture_output=True, text=True, env=env_for(precisions[0]))
        if p.returncode != 0:
            sys.exit(f"bench: load worker failed:\n{p.stderr[-3000:]}")
        run.update(json.loads(p.stdout.strip().splitlines()[-1]))
        run["load_average_after"] = round(os.getloadavg()[0], 2)
        runs.append(run)
        print(f"run {rep + 1}: plain loop {base['texts_per_s']:.1f} texts/s (model only, {base['texts']} texts); command "
              + ", ".join(f"{q} {run[f'{q}_texts_per_s']:.1f} texts/s" for q in precisions)
              + (f", {a.compare_with}'s {run['compare_texts_per_s']:.1f}" if a.compare_with else "")
              + f"; one text {dt1:.2f} s, empty input {dt0:.2f} s, load {run['load_s']:.2f} s "
              f"({run['precision']}); load average {run['load_average']:.2f} -> {run['load_average_after']:.2f}",
              flush=True)
    first = precisions[0]
    med = {k: round(_median([r[k] for r in runs]), 2) for k in runs[0] if isinstance(runs[0][k], (int, float))}
    speedups = [r[f"{first}_texts_per_s"] / r["baseline_texts_per_s"] for r in runs]
    final = {
        "mode": "end-to-end",
        "texts": len(mix),
        "texts_per_s": med[f"{first}_texts_per_s"],
        "baseline_texts_per_s": med["baseline_texts_per_s"],
        "speedup": round(_median(speedups), 2),
        "precision": runs[-1]["precision"],
        "setting": first,
        "load_s": med["load_s"],
        "single_text_s": med["single_text_s"],
        "empty_input_s": med["empty_input_s"],
        **{f"{q}_texts_per_s": med[f"{q}_texts_per_s"] for q in precisions[1:]},
        **({"compare_with": str(a.compare_with), "compare_texts_per_s": med["compare_texts_per_s"]}
           if a.compare_with else {}),
        "mean_tokens": round(sum(toks) / len(toks), 1),
        "repeat": a.repeat,
        "threads": a.threads,
        "load_average": [r["load_average"] for r in runs],
        "runs": runs,
    }
    print(f"median of {a.repeat}: the command {final['texts_per_s']:.1f} texts/s ({first} -> {final['precision']}), "
          f"the plain loop {final['baseline_texts_per_s']:.1f} (model only): {final['speedup']:.2f}x")
    print(json.dumps(final))


def load_worker(precision: str, data: Path) -> dict:
    """Load time of the command's scorer, as `reviewwatch score` loads it (settings from the environment)."""
    t0 = time.perf_counter()
    from reviewwatch.config import Settings

    settings = Settings(data_dir=data)
    from sentiment.scorer import load_scorer

    sc = load_scorer(settings.sentiment, languages=settings.languages, data_dir=settings.data_dir)
    dt = time.perf_counter() - t0
    return {"load_s": round(dt, 3), "precision": getattr(sc, "precision", precision),
            "model_version": sc.model_version}


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
    ap.add_argument("--end-to-end", action="store_true",
                    help="measure `reviewwatch score --input/--output` on held-out review texts (5000 by default)")
    ap.add_argument("--repeat", type=int, default=3, help="--end-to-end: measurements; the median is reported")
    ap.add_argument("--baseline-texts", type=int, default=1000,
                    help="--end-to-end: texts of the mix the plain loop runs (its rate is what is compared)")
    ap.add_argument("--precisions", default="auto",
                    help="--end-to-end: sentiment.precision settings to run the command with "
                         "(auto, fp32, bf16, fp16, int8); the first is the one reported")
    ap.add_argument("--compare-with", type=Path,
                    help="--end-to-end: also run the command of another checkout (its defaults), e.g. the main branch")
    ap.add_argument("--worker", choices=["baseline", *PATHS])
    ap.add_argument("--load-worker")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--mix")
    a = ap.parse_args(argv)
    if a.load_worker:
        print(json.dumps(load_worker(a.load_worker, a.data)))
        return
    if a.end_to_end:
        if "--texts" not in (argv if argv is not None else sys.argv[1:]):
            a.texts = 5000
        end_to_end(a)
        return
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
