"""Would a new sentiment head on the same encoder read whole rated reviews better? A probe on
development data only (docs/model-experiments.md, 2026-12-07).

The shipped head is one Linear layer on the mean-pooled last hidden state. This refits it (from
the shipped weights, pulled towards them by an L2 term) on the pooled states of the shipped
training data (`build_splits(...).train`), with or without M-ABSA's hotel sentences (train part;
a sentence's label: its opinions' polarity when they agree, else neutral) and with the rated
reviews (`sentiment/data/rated_reviews_dev.jsonl`) of one source, weighted 1 or 3; the
temperature is refitted on the dev split and the M-ABSA dev sentences. Then it reads the OTHER
source's rated reviews: mean-probability (PCC) error of the positive and negative shares, all of
them and those over 229 characters, against the shipped head's. Pooled states are cached under
.bench-cache/ (fp32, about 6 minutes on two cores the first time).

    .venv/bin/python bench/rated_head_probe.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.share_probabilities import CACHE, load_default_scorer  # noqa: E402
from sentiment import mabsa, rated_reviews  # noqa: E402
from sentiment.data import build_splits  # noqa: E402

LABEL = {"negative": 0, "neutral": 1, "positive": 2}
Rows = list[tuple[str, int, str]]


def datasets(data_dir: Path) -> dict[str, Rows]:
    splits = build_splits(data_dir)
    out: dict[str, Rows] = {
        "train": [(e.text, LABEL[str(e.label)], e.source) for e in splits.train],
        "dev": [(e.text, LABEL[str(e.label)], e.source) for e in splits.dev],
    }
    for part, examples in zip(("train", "dev"), mabsa.read_rows(), strict=True):
        out[f"hotel_{part}"] = [(e.text, LABEL[str(e.label)], "hotel") for e in examples]
    out["rated"] = [(r.text, LABEL[rated_reviews.label(r)], r.source) for r in rated_reviews.read()]
    return out


def pooled(scorer: Any, name: str, rows: Rows) -> np.ndarray:
    digest = hashlib.sha1("\x1e".join(t for t, _, _ in rows).encode()).hexdigest()[:16]
    path = CACHE / f"pooled-{name}-{scorer.model_version}-{digest}.npy"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, scorer.embed([t for t, _, _ in rows]).numpy().astype(np.float32))
        print(f"  pooled {name}: {len(rows)} texts", file=sys.stderr, flush=True)
    return np.load(path)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def refit(parts: list[tuple[np.ndarray, np.ndarray, float]], w0: np.ndarray, b0: np.ndarray,
          l2: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    import torch

    x = torch.tensor(np.vstack([p[0] for p in parts]))
    y = torch.tensor(np.concatenate([p[1] for p in parts]))
    weight = torch.tensor(np.concatenate([np.full(len(p[1]), p[2]) for p in parts]), dtype=torch.float32)
    anchor = torch.tensor(w0)
    head = torch.nn.Linear(x.shape[1], 3)
    with torch.no_grad():
        head.weight.copy_(anchor)
        head.bias.copy_(torch.tensor(b0))
    opt = torch.optim.LBFGS(head.parameters(), lr=0.5, max_iter=300, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = (torch.nn.functional.cross_entropy(head(x), y, reduction="none") * weight).sum() / weight.sum()
        loss = loss + l2 * ((head.weight - anchor) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head.weight.detach().numpy(), head.bias.detach().numpy()


def temperature(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    z = x @ w.T + b
    grid = np.arange(0.5, 4.01, 0.05)
    nll = [-np.log(softmax(z / t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from safetensors.torch import load_file

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    a = ap.parse_args(argv)
    scorer = load_default_scorer()
    data = datasets(a.data_dir)
    x = {k: pooled(scorer, k, rows) for k, rows in data.items()}
    y = {k: np.array([r[1] for r in rows]) for k, rows in data.items()}
    sd = load_file(str(REPO / "sentiment" / "weights" / "heads.safetensors"))
    w0, b0 = sd["sentiment.weight"].numpy(), sd["sentiment.bias"].numpy()
    t0 = float(json.loads((REPO / "sentiment" / "weights" / "heads.json").read_text())["temperature"])
    source = np.array([r[2] for r in data["rated"]])
    length = np.array([len(r[0]) for r in data["rated"]])
    dev_x, dev_y = np.vstack([x["dev"], x["hotel_dev"]]), np.concatenate([y["dev"], y["hotel_dev"]])
    out: dict[str, Any] = {}
    for left in sorted(set(source)):
        mine, other = source == left, source != left
        for hotel in (False, True):
            for weight in (1.0, 3.0):
                parts = [(x["train"], y["train"], 1.0), (x["rated"][other], y["rated"][other], weight)]
                if hotel:
                    parts.append((x["hotel_train"], y["hotel_train"], 1.0))
                w, b = refit(parts, w0, b0)
                t = temperature(dev_x, dev_y, w, b)
                for longer in (0, 229):
                    rows = mine & (length > longer)
                    truth = np.bincount(y["rated"][rows], minlength=3) / rows.sum()
                    errors = {}
                    for name, (ww, bb, tt) in {"shipped": (w0, b0, t0), "refit": (w, b, t)}.items():
                        pcc = softmax((x["rated"][rows] @ ww.T + bb) / tt).mean(axis=0)
                        errors[name] = [round(100 * abs(float(pcc[k] - truth[k])), 1) for k in (2, 0)]
                    key = f"{left} left out, {'+hotel ' if hotel else ''}rated x{weight:g}, over {longer} chars"
                    out[key] = {"temperature": t, **errors}
                    print(f"{key:62s} positive/negative error: shipped {errors['shipped']} -> refit {errors['refit']}")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
