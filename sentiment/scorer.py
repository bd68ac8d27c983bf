"""Scoring texts: a small Protocol, one frozen result per text, and the transformers implementation.

    scorer = load_scorer(settings.sentiment, languages=settings.languages, data_dir=settings.data_dir)
    [result] = scorer.score(["Le serveur était charmant."])

Two kinds of model work behind the same interface:
- an encoder (the embedded multilingual-e5-small by default, or any `AutoModel`) with the trained
  heads and LoRA adapter from `weights_dir` (default: `sentiment/weights`, shipped);
- a sequence-classification sentiment model named by `sentiment.model`, its labels mapped from
  `id2label`; topics are then scored by similarity on its last hidden layer.
Long texts are split into windows of at most `max_length` tokens; window results are combined
weighted by their token counts (nothing is cut off).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sentiment.settings import SentimentSettings, TopicDefinition

log = logging.getLogger("sentiment.scorer")

LABELS = ("negative", "neutral", "positive")
STAR_OF = {"negative": 1.0, "neutral": 3.0, "positive": 5.0}
SHIPPED_WEIGHTS = Path(__file__).parent / "weights"
EMBEDDED_ID = "multilingual-e5-small"
SIMILARITY_SCALE = 40.0  # logistic slope on (cosine - offset) for similarity-scored topics
DEFAULT_SIMILARITY_OFFSET = 0.85


class ModelError(RuntimeError):
    """The configured model or weights cannot be used."""


@dataclass(frozen=True)
class SentimentScore:
    language: str | None
    sentiment: str
    probabilities: Mapping[str, float]
    stars: float
    topics: tuple[str, ...] = ()
    topic_scores: Mapping[str, float] = field(default_factory=dict)
    # The opinion about each topic in `topics` (negative/neutral/positive), when the model gives
    # one; empty from a model without per-topic polarity (the store then counts the mention's
    # overall label for the topic).
    topic_sentiment: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "sentiment": self.sentiment,
            "probabilities": dict(self.probabilities),
            "stars": self.stars,
            "topics": list(self.topics),
            "topic_scores": dict(self.topic_scores),
            "topic_sentiment": dict(self.topic_sentiment),
        }


@runtime_checkable
class Scorer(Protocol):
    model_id: str
    model_version: str

    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[SentimentScore]:
        """One result per text, in order. `progress(n)` is called with the texts done so far."""
        ...


def _file_digest(h, path: Path) -> None:
    if path.exists():
        h.update(path.name.encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)


def _label_map(id2label: Mapping[int, str]) -> list[tuple[str, float]]:
    """Map a classifier's labels to (sentiment, stars)."""
    names = [str(id2label[i]).lower() for i in range(len(id2label))]
    out = []
    for i, n in enumerate(names):
        digits = [c for c in n if c.isdigit()]
        if n.startswith("neg") or "negative" in n:
            out.append(("negative", 1.0))
        elif n.startswith("neu") or "neutral" in n:
            out.append(("neutral", 3.0))
        elif n.startswith("pos") or "positive" in n:
            out.append(("positive", 5.0))
        elif digits and ("star" in n or len(names) == 5) and not n.startswith("label_"):
            k = float(digits[0])
            out.append(("negative" if k <= 2 else "neutral" if k == 3 else "positive", k))
        else:
            out = []
            break
    if out:
        return out
    if len(names) == 3:
        return [("negative", 1.0), ("neutral", 3.0), ("positive", 5.0)]
    if len(names) == 2:
        return [("negative", 1.0), ("positive", 5.0)]
    if len(names) == 5:
        return [("negative", 1.0), ("negative", 2.0), ("neutral", 3.0), ("positive", 4.0), ("positive", 5.0)]
    raise ModelError(f"cannot map the labels {names} to negative/neutral/positive")


class TransformersScorer:
    """Scores with a transformers model on the configured device and precision (sentiment/device.py).

    Only the encoder moves: the heads, pooled sums and topic prototypes stay fp32 on the CPU.
    """

    def __init__(self, settings: SentimentSettings | None = None, *, languages: Sequence[str] = (),
                 data_dir: Path | str = "data", converted: Path | None = None):
        import torch
        from transformers import AutoConfig

        from sentiment import modeling as M
        from sentiment.language import detector_for

        self.settings = s = settings or SentimentSettings()
        self.torch, self.M = torch, M
        if s.threads:
            torch.set_num_threads(s.threads)
        local_only = not s.allow_download
        if s.model:
            path, self.embedded = s.model, False
        else:
            from sentiment.convert import ensure_converted

            # `converted`: the embedded model already converted elsewhere (training's models dir)
            path, self.embedded = str(converted or ensure_converted(Path(data_dir) / "models")), True
        self.path = path
        try:
            config = AutoConfig.from_pretrained(path, local_files_only=local_only)
        except OSError as exc:
            raise ModelError(f"cannot load model {path!r}: {exc}") from exc
        self.kind = "classifier" if any(a.endswith("ForSequenceClassification")
                                        for a in (config.architectures or [])) else "encoder"
        self.tok = M.load_tokenizer(path, local_only)
        self.detector = detector_for(tuple(languages))
        h = hashlib.sha256()
        h.update(json.dumps(config.to_dict(), sort_keys=True, default=str).encode())
        self.meta: dict = {}
        self.heads: Any = None  # the trained heads (a torch module) when the model has them
        self.prefix = ""
        if self.kind == "classifier":
            from transformers import AutoModelForSequenceClassification

            self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=local_only)
            self.label_map = _label_map(config.id2label)
            self.model_id = s.model
        else:
            self.model = M.load_encoder(path, local_only)
            wdir = Path(s.weights_dir) if s.weights_dir else SHIPPED_WEIGHTS
            if (wdir / M.META_FILE).exists():
                heads, meta = M.load_heads(wdir)
                base = meta.get("base_model", EMBEDDED_ID)
                mine = EMBEDDED_ID if self.embedded else s.model
                if base != mine or heads.sentiment.in_features != config.hidden_size:
                    raise ModelError(
                        f"the weights in {wdir} were trained on {base!r}, not {mine!r}: "
                        "train heads for this encoder with `reviewwatch train` and set sentiment.weights_dir")
                if layers := meta.get("encoder_layers"):
                    try:
                        M.keep_first_layers(self.model, int(layers))
                    except ValueError as exc:
                        raise ModelError(f"the weights in {wdir}: {exc}") from None
                if (wdir / "adapter_config.json").exists():
                    from peft import PeftModel

                    with warnings.catch_warnings():
                        # peft asks transformers a deprecated question (is_gradient_checkpointing);
                        # the warning would land in every cycle's log, and the answer is unused here.
                        warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
                        adapted = PeftModel.from_pretrained(self.model, str(wdir))
                    self.model = adapted.merge_and_unload()
                self.heads, self.meta = heads, meta
                self.prefix = meta.get("query_prefix", "")
                for f in ("heads.json", M.HEADS_FILE, "adapter_model.safetensors"):
                    _file_digest(h, wdir / f)
            else:
                raise ModelError(f"no trained heads in {wdir} (heads.json): run `reviewwatch train`")
            self.model_id = (EMBEDDED_ID if self.embedded else s.model) + "+heads"
        self.model.eval()
        from sentiment.device import resolve_device, resolve_dtype, slow_precision_warning
        from sentiment.device import version_tag as precision_tag

        try:
            self.device = resolve_device(s.device, int8=s.int8)
            dtype = resolve_dtype(s.precision, int8=s.int8)
        except ValueError as exc:
            raise ModelError(f"sentiment.device = {s.device!r}, precision = {s.precision!r}: {exc}") from None
        if s.int8:
            from sentiment.int8 import quantize_encoder, variant_for, version_tag

            float_layers, full_range = variant_for(self.meta)
            self.model = quantize_encoder(self.model, float_layers, full_range=full_range)
            h.update(version_tag(float_layers, full_range=full_range))
        else:
            self.model.to(device=self.device, dtype=dtype)
            if why := slow_precision_warning(self.device, s.precision):
                log.warning("sentiment.precision = %r: %s", s.precision, why)
        h.update(precision_tag(s.precision))  # the device is not: fp32 on a GPU is the same model
        self.runtime = f"{self.device}, {'int8' if s.int8 else s.precision}"  # for progress lines and logs
        self.model_version = h.hexdigest()[:12]
        limits = [s.max_length, getattr(config, "max_position_embeddings", 512) or 512]
        if config.model_type in ("xlm-roberta", "roberta", "camembert"):
            limits.append(config.max_position_embeddings - 2)
        if 0 < (self.tok.model_max_length or 0) < 100_000:
            limits.append(self.tok.model_max_length)
        self.max_length = min(limits)
        self.temperature = float(self.meta.get("temperature", 1.0))
        self._prototypes = None

    # -- topics --
    @property
    def topic_keys(self) -> list[str]:
        return list(self.settings.topics)

    def _head_topics(self) -> dict[str, int]:
        trained = self.meta.get("trained_topics", [])
        return {t: i for i, t in enumerate(trained) if t in self.settings.topics}

    def _similarity_prototypes(self):
        if self._prototypes is None:
            head = self._head_topics()
            protos = {}
            for key, td in self.settings.topics.items():
                if key in head:
                    continue
                texts = list(td.descriptions) + list(td.examples)
                if texts:
                    emb = self.embed(texts)
                    protos[key] = self.torch.nn.functional.normalize(emb, dim=-1)
            self._prototypes = protos
        return self._prototypes

    # -- encoding --
    def _windows(self, texts: Sequence[str]):
        ids = self.tok([self.prefix + t for t in texts], add_special_tokens=False, verbose=False)["input_ids"]
        cls = self.tok.cls_token_id if self.tok.cls_token_id is not None else self.tok.bos_token_id
        sep = self.tok.sep_token_id if self.tok.sep_token_id is not None else self.tok.eos_token_id
        W = self.max_length - 2
        out = []
        for i, seq in enumerate(ids):
            chunks = [seq[a : a + W] for a in range(0, len(seq), W)] or [[]]
            for c in chunks:
                full = ([cls] if cls is not None else []) + list(c) + ([sep] if sep is not None else [])
                out.append((i, full, max(1, len(c))))
        return out

    def _run(self, texts: Sequence[str], progress=None):
        """Per text: (pooled embedding, classifier probabilities or None)."""
        torch = self.torch
        wins = self._windows(texts)
        lens = [len(w[1]) for w in wins]
        bs = self.settings.batch_size
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        hidden = None
        n = len(texts)
        pooled_sum: Any = None
        prob_sum: Any = None
        weight = torch.zeros(n)
        done_texts = set()
        last_reported = 0
        with torch.inference_mode():
            for idx in self.M.length_batches(lens, bs, max_tokens=bs * 128 if bs * 128 >= self.max_length else None):
                ids, mask = self.M.pad_batch([wins[i][1] for i in idx], pad)
                ids, mask = ids.to(self.device), mask.to(self.device)
                # pooling sums up to max_length vectors: in fp32 whatever the encoder's precision
                if self.kind == "classifier":
                    out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
                    pooled = self.M.mean_pool(out.hidden_states[-1].float(), mask)
                    probs = torch.softmax(out.logits.float(), -1).cpu()
                else:
                    out = self.model(input_ids=ids, attention_mask=mask)
                    pooled = self.M.mean_pool(out.last_hidden_state.float(), mask)
                    probs = None
                pooled = pooled.cpu()
                if pooled_sum is None:
                    hidden = pooled.shape[1]
                    pooled_sum = torch.zeros(n, hidden)
                    if probs is not None:
                        prob_sum = torch.zeros(n, probs.shape[1])
                for j, wi in enumerate(idx):
                    ti, _, w = wins[wi]
                    pooled_sum[ti] += w * pooled[j]
                    if probs is not None:
                        prob_sum[ti] += w * probs[j]
                    weight[ti] += w
                    done_texts.add(ti)
                if progress is not None and len(done_texts) - last_reported >= 1:
                    progress(len(done_texts) - last_reported)
                    last_reported = len(done_texts)
        pooled = pooled_sum / weight.unsqueeze(1)
        probs = prob_sum / weight.unsqueeze(1) if prob_sum is not None else None
        return pooled, probs

    def embed(self, texts: Sequence[str]):
        """Mean-pooled (unnormalised) embeddings, windows combined; a torch tensor [n, hidden]."""
        return self._run(texts)[0]

    # -- scoring --
    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[SentimentScore]:
        torch = self.torch
        texts = list(texts)
        if not texts:
            return []
        pooled, cls_probs = self._run(texts, progress)
        if self.kind == "classifier":
            probs3 = torch.zeros(len(texts), 3)
            stars = torch.zeros(len(texts))
            for k, (lab, st) in enumerate(self.label_map):
                probs3[:, LABELS.index(lab)] += cls_probs[:, k]
                stars += st * cls_probs[:, k]
            topic_logits = None
        else:
            with torch.inference_mode():
                s_logits, topic_logits = self.heads(pooled)
            probs3 = torch.softmax(s_logits / self.temperature, -1)
            stars = sum(STAR_OF[lab] * probs3[:, k] for k, lab in enumerate(LABELS))
        topic_scores = self._topic_scores(pooled, topic_logits)
        langs = self.detector.detect_many(texts)
        out = []
        for i in range(len(texts)):
            p = {lab: round(float(probs3[i, k]), 6) for k, lab in enumerate(LABELS)}
            ts = {k: round(float(v[i]), 6) for k, v in topic_scores.items()}
            chosen = tuple(k for k in self.settings.topics if ts.get(k, 0.0) >= self._threshold(k))
            out.append(SentimentScore(
                language=langs[i], sentiment=max(p, key=p.__getitem__), probabilities=p,
                stars=round(float(stars[i]), 3), topics=chosen, topic_scores=ts,
            ))
        return out

    def _threshold(self, key: str) -> float:
        td: TopicDefinition = self.settings.topics[key]
        if td.threshold is not None:
            return td.threshold
        if key in self._head_topics():
            return float(self.meta.get("topic_thresholds", {}).get(key, 0.5))
        return 0.5

    def _topic_scores(self, pooled, topic_logits) -> dict:
        torch = self.torch
        out = {}
        head = self._head_topics() if topic_logits is not None else {}
        for key, j in head.items():
            out[key] = torch.sigmoid(topic_logits[:, j])
        protos = self._similarity_prototypes() if self.kind == "encoder" else self._classifier_prototypes()
        if protos:
            offset = self.settings.similarity_threshold or float(
                self.meta.get("similarity_offset", DEFAULT_SIMILARITY_OFFSET))
            x = torch.nn.functional.normalize(pooled, dim=-1)
            for key, P in protos.items():
                if key in out:
                    continue
                cos = (x @ P.T).max(dim=1).values
                out[key] = torch.sigmoid((cos - offset) * SIMILARITY_SCALE)
        return {k: out[k] for k in self.settings.topics if k in out}

    def _classifier_prototypes(self):
        if self._prototypes is None:
            protos = {}
            for key, td in self.settings.topics.items():
                texts = list(td.descriptions) + list(td.examples)
                if texts:
                    protos[key] = self.torch.nn.functional.normalize(self.embed(texts), dim=-1)
            self._prototypes = protos
        return self._prototypes


def load_scorer(settings: SentimentSettings | None = None, *, languages: Sequence[str] = (),
                data_dir: Path | str = "data") -> Scorer:
    return TransformersScorer(settings, languages=languages, data_dir=data_dir)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
