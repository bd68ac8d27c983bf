"""The training loop: LoRA adapters on the encoder (embedding matrix frozen) + sentiment and topic
heads, with checkpoints that make a run resumable and an evaluation on dev after each epoch."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

from sentiment.data import LABELS, Example
from sentiment.distill import teacher_logits
from sentiment.metrics import macro_f1, micro_f1_multilabel
from sentiment.train_config import QUERY_PREFIX, TrainConfig, epoch_weights_path

log = logging.getLogger("sentiment.train")


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
        self.teacher = (teacher_logits(cfg, self.train_set["ids"], self.tok.pad_token_id, self.device)
                        if cfg.distill_from else None)
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
        self.state: dict = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best": None, "history": []}

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
        out: list = [None] * len(enc)
        with torch.inference_mode():
            for idx in self.M.length_batches([len(x) for x in enc], batch_size):
                ids, mask = self.M.pad_batch([enc[i] for i in idx], self.tok.pad_token_id)
                ids, mask = ids.to(self.device), mask.to(self.device)
                p = self.M.mean_pool(self.model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
                for j, i in enumerate(idx):
                    out[i] = p[j]
        return torch.stack(out).cpu()

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
