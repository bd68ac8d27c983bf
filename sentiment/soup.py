"""A weight soup of two finished runs: their adapters' mean update and their heads' mean, as the
best checkpoint of a new work directory, which `sentiment.train --finalize-only` then calibrates
on dev and writes as weights (temperature, topic thresholds, the int8 choice).

    python -m sentiment.soup --weights sentiment/weights .train/run14/out --work-dir .train/soup14
    python -m sentiment.train --work-dir .train/soup14 --out .train/soup14/out --finalize-only \
        --no-resume [the training-data flags of either run, for the record]

Both runs must share the base encoder and the adapter's shape (LoRA rank and targets): the mean
of two LoRA updates is exact at twice the rank and truncated back to the rank by SVD
(`sentiment.weight_average.average_lora`), as the last epochs' average is. The heads are linear
layers over the same pooled embedding; their mean is what model soups average too. Whether a
soup is better is for the selection rule on dev to say, not this module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from sentiment.modeling import HEADS_FILE, META_FILE
from sentiment.topic_heads import ADAPTER_FILE

ADAPTER_NAME = "default"  # peft's name of the one adapter, in state dicts but not in saved files


def state_key(file_key: str) -> str:
    """A saved adapter's key as the live model's state dict names it (`...lora_A.default.weight`)."""
    head, dot, tail = file_key.rpartition(".")
    return f"{head}.{ADAPTER_NAME}{dot}{tail}"


def read_weights(weights_dir: Path) -> tuple[dict, dict, dict]:
    """(adapter state in the trainer's keys, heads state, heads.json) of a weights directory."""
    from safetensors.torch import load_file

    adapter = {state_key(k): v for k, v in load_file(str(weights_dir / ADAPTER_FILE)).items()}
    heads = load_file(str(weights_dir / HEADS_FILE))
    meta = json.loads((weights_dir / META_FILE).read_text(encoding="utf-8"))
    return adapter, heads, meta


def soup(dirs: list[Path], work_dir: Path) -> Path:
    from sentiment.weight_average import average_lora, average_tensors

    read = [read_weights(d) for d in dirs]
    ranks = {m["train"]["lora_r"] for _, _, m in read}
    bases = {m["base_model"] for _, _, m in read}
    if len(ranks) != 1 or len(bases) != 1:
        raise SystemExit(f"the runs differ in LoRA rank {sorted(ranks)} or base model {sorted(bases)}")
    if len({frozenset(a) for a, _, _ in read}) != 1 or len({frozenset(h) for _, h, _ in read}) != 1:
        raise SystemExit("the runs' adapters or heads have different layers")
    payload = {"lora": average_lora([a for a, _, _ in read], rank=ranks.pop()),
               "heads": average_tensors([h for _, h, _ in read]),
               "soup_of": [str(d) for d in dirs]}
    work_dir.mkdir(parents=True, exist_ok=True)
    best = work_dir / "best.pt"
    torch.save(payload, best)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, nargs="+", required=True, help="weights directories (two or more)")
    ap.add_argument("--work-dir", type=Path, required=True)
    a = ap.parse_args(argv)
    if len(a.weights) < 2:
        ap.error("--weights: give two or more weights directories")
    print(f"wrote {soup(a.weights, a.work_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
