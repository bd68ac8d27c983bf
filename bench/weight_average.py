"""Weight averaging of a finished training run's last epochs, measured on the dev split only.

For each K, the average of the last K epochs' adapters and heads three ways: the exact mean of the
LoRA updates (rank K·r), its SVD truncation to rank r (what `--average-last K` ships), and the naive
mean of the A and B factors. `--with-weights DIR` also averages the run's last epoch with another
run's trained weights (the shipped ones, say, from a run with another seed: a "model soup"). Dev only
(selection data): the test files choose nothing. Ends with ONE JSON object on the last stdout line.

    .venv/bin/python bench/weight_average.py --work-dir .train/run4 [--data-dir ../shared/data] [--k 2 3 4]
    .venv/bin/python bench/weight_average.py --work-dir .train/run10 --k --with-weights sentiment/weights
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work-dir", type=Path, required=True, help="a training run's folder (epochN.pt files)")
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--models-dir", type=Path, default=REPO / ".train" / "models")
    ap.add_argument("--k", type=int, nargs="*", default=[2, 3, 4])
    ap.add_argument("--with-weights", type=Path, default=None,
                    help="a trained weights folder (adapter + heads) to average with the run's last epoch")
    ap.add_argument("--variants", nargs="+", default=["svd", "factor_mean", "exact"],
                    choices=["svd", "factor_mean", "exact"])
    ap.add_argument("--each-epoch", action="store_true",
                    help="also re-measure every single epoch (the training log has these figures)")
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lora-alpha", type=int, default=32)
    a = ap.parse_args(argv)

    from sentiment import modeling as M
    from sentiment.convert import ensure_converted
    from sentiment.data import build_splits
    from sentiment.train_config import TrainConfig, load_epoch_weights
    from sentiment.trainer import Trainer
    from sentiment.weight_average import average_lora, average_tensors

    epochs = sorted(int(p.stem[5:]) for p in a.work_dir.glob("epoch*.pt"))
    if not epochs:
        sys.exit(f"no epochN.pt files in {a.work_dir}: train with this version of sentiment.train first")
    model_path = str(ensure_converted(a.models_dir))
    splits = build_splits(a.data_dir)
    cfg = TrainConfig(model_path=model_path, out_dir=a.work_dir / "unused", work_dir=a.work_dir,
                      lora_r=a.lora_r, lora_alpha=a.lora_alpha)
    tr = Trainer(cfg, splits.train[:1], splits.dev)  # the trainer needs a train set; it trains nothing here
    cks = {e: load_epoch_weights(a.work_dir, e) for e in epochs}
    if a.with_weights:
        # peft names the adapter's keys in the model; load through it rather than renaming by hand
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(tr.model, load_file(str(a.with_weights / "adapter_model.safetensors")))
        other = {"lora": {k: v.clone() for k, v in tr.model.state_dict().items() if "lora_" in k},
                 "heads": load_file(str(a.with_weights / M.HEADS_FILE))}

    def dev_of(model, lora, heads) -> dict:
        loaded = model.load_state_dict(lora, strict=False)
        assert not loaded.unexpected_keys, loaded.unexpected_keys[:3]
        tr.model = model
        tr.heads.load_state_dict(heads)
        t0 = time.time()
        res = tr.evaluate(tr.dev_set, tr.dev_examples)[0]
        res["seconds"] = round(time.time() - t0, 1)
        return res

    base_model = tr.model
    results: dict[str, dict] = {}
    for e in epochs if a.each_epoch else []:
        results[f"epoch{e}"] = dev_of(base_model, cks[e]["lora"], cks[e]["heads"])
        print(f"epoch {e}: {json.dumps(results[f'epoch{e}'])}", flush=True)
    groups = {f"last{k}": [cks[e] for e in epochs[-k:]] for k in a.k if k <= len(epochs)}
    if a.with_weights:
        results["with_weights"] = dev_of(base_model, other["lora"], other["heads"])
        print(f"with_weights: {json.dumps(results['with_weights'])}", flush=True)
        groups["with_weights"] = [cks[epochs[-1]], other]
    for prefix, last in groups.items():
        k = len(last)
        heads = average_tensors([c["heads"] for c in last])
        loras = [c["lora"] for c in last]
        variants = {
            "svd": (f"{prefix}_svd_r{a.lora_r}", lambda: (base_model, average_lora(loras, rank=a.lora_r))),
            "factor_mean": (f"{prefix}_factor_mean", lambda: (base_model, average_tensors(loras))),
            "exact": (f"{prefix}_exact_r{k * a.lora_r}", lambda: (
                M.apply_lora(M.load_encoder(model_path), k * a.lora_r, k * a.lora_alpha), average_lora(loras))),
        }
        for name, build in (variants[v] for v in a.variants):
            results[name] = dev_of(*build(), heads)
            print(f"{name}: {json.dumps(results[name])}", flush=True)
    print(json.dumps({"work_dir": str(a.work_dir), "epochs": epochs, "dev": results}))
    return results


if __name__ == "__main__":
    main()
