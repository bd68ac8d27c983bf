"""Scoring texts: a small Protocol, one frozen result per text, and the transformers implementation.

    scorer = load_scorer(settings.sentiment, languages=settings.languages, data_dir=settings.data_dir)
    [result] = scorer.score(["Le serveur était charmant."])

Two kinds of model work behind the same interface:
- an encoder (the embedded multilingual-e5-small by default, or any `AutoModel`) with the trained
  heads and LoRA adapter from `weights_dir` (default: `sentiment/weights`, shipped), and the
  per-topic heads where the weights have them (`topic_heads.json`, sentiment/topic_heads.py): the
  topics they know and the opinion about each, read from the same encoder pass;
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


@runtime_checkable
class KindAwareScorer(Scorer, Protocol):
    """A scorer with topic heads for kinds of business (sentiment/kinds.py)."""

    def version_for(self, business_kind: str | None) -> str:
        ...

    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None,
              business_kind: str | None = None) -> list[SentimentScore]:
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
                 data_dir: Path | str | None = None, converted: Path | None = None, prepared: bool = False):
        import torch

        from sentiment import modeling as M
        from sentiment.language import detector_for

        self.settings = s = settings or SentimentSettings()
        self.torch, self.M = torch, M
        local_only = not s.allow_download
        if s.model:
            path, self.embedded = s.model, False
        else:
            from sentiment.convert import ensure_converted

            # `converted`: the embedded model already converted elsewhere (training's models dir)
            path, self.embedded = str(converted or ensure_converted(Path(data_dir or "data") / "models")), True
        self.path = path
        wdir = Path(s.weights_dir) if s.weights_dir else SHIPPED_WEIGHTS
        # `prepared` (what `load_scorer` asks): the encoder as the last load of these files
        # prepared it (sentiment/prepared.py), kept in the data dir the application names: no
        # transformers import, no LoRA merge. Not for training's scorers, whose weights change
        # from one call to the next.
        ready, cache_key = None, None
        self._prepared_dir: Path | None = None  # where the prepared encoder is kept, if it is
        if prepared and converted is None and data_dir is not None:
            from sentiment import prepared as P

            cache_key = P.cache_key(Path(path), wdir)
            ready = P.load(P.cache_dir(data_dir), cache_key, Path(path))
            if ready is not None:
                self._prepared_dir = P.cache_dir(data_dir) / str(cache_key)
        config: Any
        if ready is not None:
            config, self.tok = ready.config, ready.tokenizer
        else:
            from transformers import AutoConfig

            try:
                config = AutoConfig.from_pretrained(path, local_files_only=local_only)
            except OSError as exc:
                raise ModelError(f"cannot load model {path!r}: {exc}") from exc
            self.tok = M.load_tokenizer(path, local_only)
        self.kind = "classifier" if any(a.endswith("ForSequenceClassification")
                                        for a in (config.architectures or [])) else "encoder"
        self.detector = detector_for(tuple(languages))
        self.meta: dict = {}
        self.heads: Any = None  # the trained heads (a torch module) when the model has them
        self.topic_heads: Any = None  # the per-topic heads (presence + polarity), where shipped
        self.topic_meta: dict = {}
        self.kind_heads: dict[str, Any] = {}  # business kind -> sentiment.kinds.KindHeads
        self._kind_versions: dict[str, str] = {}
        self.prefix = ""
        if self.kind == "classifier":
            from transformers import AutoModelForSequenceClassification

            self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=local_only)
            self.label_map = _label_map(config.id2label)
            self.model_id = s.model
        else:
            self.model = ready.model if ready is not None else M.load_encoder(path, local_only)
            if (wdir / M.META_FILE).exists():
                heads, meta = M.load_heads(wdir)
                base = meta.get("base_model", EMBEDDED_ID)
                mine = EMBEDDED_ID if self.embedded else s.model
                if base != mine or heads.sentiment.in_features != config.hidden_size:
                    raise ModelError(
                        f"the weights in {wdir} were trained on {base!r}, not {mine!r}: "
                        "train heads for this encoder with `reviewwatch train` and set sentiment.weights_dir")
                if ready is not None:
                    pass  # layers cut and adapter merged when it was prepared
                elif layers := meta.get("encoder_layers"):
                    try:
                        M.keep_first_layers(self.model, int(layers))
                    except ValueError as exc:
                        raise ModelError(f"the weights in {wdir}: {exc}") from None
                if ready is None and (wdir / "adapter_config.json").exists():
                    from peft import PeftModel

                    with warnings.catch_warnings():
                        # peft asks transformers a deprecated question (is_gradient_checkpointing);
                        # the warning would land in every cycle's log, and the answer is unused here.
                        warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
                        adapted = PeftModel.from_pretrained(self.model, str(wdir))
                    self.model = adapted.merge_and_unload()
                self.heads, self.meta = heads, meta
                self.prefix = meta.get("query_prefix", "")
                self._load_topic_heads(wdir, config.hidden_size)
            else:
                raise ModelError(f"no trained heads in {wdir} (heads.json): run `reviewwatch train`")
            self.model_id = (EMBEDDED_ID if self.embedded else s.model) + "+heads"
            if ready is None and cache_key is not None:
                from sentiment import prepared as P

                if data_dir is not None and P.save(P.cache_dir(data_dir), cache_key, Path(path), config,
                                                   self.tok, self.model):
                    self._prepared_dir = P.cache_dir(data_dir) / cache_key
        self.model.eval()
        from sentiment.device import resolve_dtype, slow_precision_warning

        self.device, precision, int8 = _runtime(s, self.kind, self.meta)
        dtype = resolve_dtype(precision, int8=int8)
        self.precision = "int8" if int8 else precision  # what "auto" became, for logs and benchmarks
        if int8:
            from sentiment.int8 import quantize_encoder, variant_for

            float_layers, full_range = variant_for(self.meta)
            self.model = quantize_encoder(self.model, float_layers, full_range=full_range, inplace=True)
        else:
            self.model.to(device=self.device, dtype=dtype)
            if why := slow_precision_warning(self.device, precision):
                log.warning("sentiment.precision = %r: %s", precision, why)
        self.runtime = f"{self.device}, {self.precision}"  # for progress lines and logs
        # CPU: shards of texts run side by side, one torch thread each (`_run`); a GPU takes one stream
        self.workers = 1
        if self.device.type == "cpu":
            self.workers = s.threads or _default_threads(torch)
            torch.set_num_threads(1)
        elif s.threads:
            torch.set_num_threads(s.threads)
        self.model_version = model_version_of(config, wdir if self.heads is not None else None, self.meta,
                                              precision, int8)
        if self.kind_heads:
            from sentiment.kinds import kind_version

            self._kind_versions = {k: kind_version(self.model_version, wdir, k) for k in self.kind_heads}
        limits = [s.max_length, getattr(config, "max_position_embeddings", 512) or 512]
        if config.model_type in ("xlm-roberta", "roberta", "camembert"):
            limits.append(config.max_position_embeddings - 2)
        if 0 < (self.tok.model_max_length or 0) < 100_000:
            limits.append(self.tok.model_max_length)
        self.max_length = min(limits)
        self.temperature = float(self.meta.get("temperature", 1.0))
        self._prototypes = None

    def _load_topic_heads(self, wdir: Path, hidden: int) -> None:
        from sentiment.topic_heads import load_topic_heads

        loaded = load_topic_heads(wdir)
        if loaded is None:
            return
        heads, meta = loaded
        if heads.queries.shape[1] != hidden:
            raise ModelError(f"the topic heads in {wdir} read {heads.queries.shape[1]}-wide states, "
                             f"the encoder gives {hidden}")
        self.topic_heads, self.topic_meta = heads, meta
        from sentiment.kinds import known_kinds, load_kind

        for kind in known_kinds(wdir):
            try:
                self.kind_heads[kind] = load_kind(wdir, kind, hidden)
            except ValueError as exc:
                raise ModelError(str(exc)) from None

    # -- kinds of business --
    @property
    def business_kinds(self) -> list[str]:
        """The kinds of business with topic heads of their own (sentiment/kinds.py)."""
        return sorted(self.kind_heads)

    def _kind(self, business_kind: str | None) -> Any:
        if business_kind is None:
            return None
        if business_kind not in self.kind_heads:
            raise ModelError(f"no topic heads for kind {business_kind!r} in these weights "
                             f"(known: {', '.join(self.business_kinds) or 'none'})")
        return self.kind_heads[business_kind]

    def version_for(self, business_kind: str | None) -> str:
        """The model version of scores of a business of this kind (None: the general heads)."""
        self._kind(business_kind)
        return self.model_version if business_kind is None else self._kind_versions[business_kind]

    # -- topics --
    @property
    def topic_keys(self) -> list[str]:
        return list(self.settings.topics)

    def _polarity_slots(self) -> dict[str, int]:
        """Configured topics the per-topic heads give an opinion about: topic -> slot."""
        if self.topic_heads is None:
            return {}
        skip = set(self.topic_meta.get("polarity_only", ()))
        return {t: i for i, t in enumerate(self.topic_heads.slots) if t in self.settings.topics and t not in skip}

    def _slot_topics(self) -> dict[str, int]:
        """Configured topics whose presence the per-topic heads score: topic -> slot. Where dev
        preferred the mean-pooled head for a topic (`presence_from_heads` in topic_heads.json
        lists the others), that head keeps scoring its presence."""
        kept = self.topic_meta.get("presence_from_heads")
        return {t: i for t, i in self._polarity_slots().items() if kept is None or t in kept}

    def _head_topics(self) -> dict[str, int]:
        """Configured topics the mean-pooled topic head scores (those the per-topic heads do not)."""
        trained = self.meta.get("trained_topics", [])
        slots = self._slot_topics()
        return {t: i for i, t in enumerate(trained) if t in self.settings.topics and t not in slots}

    def _similarity_prototypes(self):
        if self._prototypes is None:
            self._prototypes = self._kept_prototypes("load")
        if self._prototypes is None:
            head = {**self._head_topics(), **self._slot_topics()}
            protos = {}
            for key, td in self.settings.topics.items():
                if key in head:
                    continue
                texts = list(td.descriptions) + list(td.examples)
                if texts:
                    emb = self.embed(texts)
                    protos[key] = self.torch.nn.functional.normalize(emb, dim=-1)
            self._prototypes = protos
            self._kept_prototypes("save")
        return self._prototypes

    def _kept_prototypes(self, action: str):
        """The similarity topics' embeddings kept beside the prepared encoder: embedding the
        descriptions and examples is most of the time a single text takes once the model is
        loaded. Keyed by the model version, the runtime and the texts, so a change re-embeds."""
        if self._prepared_dir is None:
            return None
        from sentiment import prepared as P

        head = {**self._head_topics(), **self._slot_topics()}
        texts = {k: list(td.descriptions) + list(td.examples) for k, td in self.settings.topics.items()
                 if k not in head}
        path = P.prototypes_file(self._prepared_dir, [self.model_version, self.runtime, self.prefix], texts)
        if action == "load":
            return P.load_prototypes(path, [k for k, v in texts.items() if v])
        P.save_prototypes(path, self._prototypes or {})
        return None

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

    def _run(self, texts: Sequence[str], progress=None, business_kind: str | None = None):
        """Per text: (pooled embedding, classifier probabilities or None, per-topic outputs or None).

        The per-topic outputs ([texts, slots, 4]: presence probability, then the polarity's three
        probabilities) come from the per-topic heads on the same hidden states, where loaded; with a
        `business_kind`, that kind's heads' slots follow the general ones'.

        On the CPU the texts are split into `self.workers` shards of like lengths, each run by its
        own thread with one torch thread: on two cores this did 2.3-2.5x the texts per CPU-second
        of one stream on two intra-op threads (whose OpenMP threads wait on each other at every
        operation, and spin while waiting; docs/operations.md, "Speed"). Each shard's result is
        exactly what one stream gives for its texts: a text's windows stay in one shard.
        """
        n_shards = min(self.workers, len(texts) // self.settings.batch_size)
        if n_shards < 2:
            return self._run_stream(texts, progress, business_kind)
        from concurrent.futures import ThreadPoolExecutor
        from threading import Lock

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        shards = [order[k::n_shards] for k in range(n_shards)]  # alike in lengths, so in work
        lock = Lock()

        def report(n: int) -> None:
            with lock:
                progress(n)

        with ThreadPoolExecutor(n_shards, thread_name_prefix="scorer") as pool:
            parts = list(pool.map(lambda ids: self._run_stream([texts[i] for i in ids],
                                                               report if progress is not None else None,
                                                               business_kind),
                                  shards))
        torch = self.torch
        pooled = torch.empty(len(texts), parts[0][0].shape[1])
        probs = torch.empty(len(texts), parts[0][1].shape[1]) if parts[0][1] is not None else None
        per_topic = torch.empty(len(texts), *parts[0][2].shape[1:]) if parts[0][2] is not None else None
        for ids, (p, c, t) in zip(shards, parts):
            pooled[ids] = p
            if probs is not None:
                probs[ids] = c
            if per_topic is not None:
                per_topic[ids] = t
        return pooled, probs, per_topic

    def _run_stream(self, texts: Sequence[str], progress=None, business_kind: str | None = None):
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
        kind = self._kind(business_kind)
        slots = len(self.topic_heads.slots) if self.topic_heads is not None else 0
        if kind is not None:
            slots += len(kind.heads.slots)
        # per topic: presence is the most certain window's (a topic named in one window of a long
        # text is named in the text); polarity averages the windows weighted by tokens x presence
        presence = torch.zeros(n, slots)
        polarity_sum = torch.zeros(n, slots, 3)
        polarity_weight = torch.zeros(n, slots)
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
                    states = out.last_hidden_state.float()
                    pooled = self.M.mean_pool(states, mask)
                    probs = None
                    if slots:
                        p_logit, q_logit = self.topic_heads(states.cpu(), mask.cpu())
                        if kind is not None:  # the kind's slots after the general ones
                            kp, kq = kind.heads(states.cpu(), mask.cpu())
                            p_logit, q_logit = torch.cat([p_logit, kp], 1), torch.cat([q_logit, kq], 1)
                        pres, pol = torch.sigmoid(p_logit), torch.softmax(q_logit, -1)
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
                if slots:  # once per batch, not per text
                    rows = torch.tensor([wins[wi][0] for wi in idx])
                    wpres = torch.tensor([float(wins[wi][2]) for wi in idx])[:, None] * pres
                    presence.scatter_reduce_(0, rows[:, None].expand_as(pres), pres, "amax")
                    polarity_sum.index_add_(0, rows, wpres[..., None] * pol)
                    polarity_weight.index_add_(0, rows, wpres)
                if progress is not None and len(done_texts) - last_reported >= 1:
                    progress(len(done_texts) - last_reported)
                    last_reported = len(done_texts)
        pooled = pooled_sum / weight.unsqueeze(1)
        probs = prob_sum / weight.unsqueeze(1) if prob_sum is not None else None
        per_topic = None
        if slots:
            polarity = polarity_sum / polarity_weight.clamp(min=1e-12).unsqueeze(-1)
            per_topic = torch.cat([presence.unsqueeze(-1), polarity], dim=-1)
        return pooled, probs, per_topic

    def embed(self, texts: Sequence[str]):
        """Mean-pooled (unnormalised) embeddings, windows combined; a torch tensor [n, hidden]."""
        return self._run(texts)[0]

    # -- scoring --
    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None,
              business_kind: str | None = None) -> list[SentimentScore]:
        """Scores of `texts`; `business_kind` (one of `business_kinds`) reads their topics with that
        kind's heads (sentiment/kinds.py): store them under `version_for(business_kind)`."""
        texts = list(texts)
        if not texts:
            return []
        pooled, cls_probs, per_topic = self._run(texts, progress, business_kind)
        return self._scores(texts, pooled, cls_probs, per_topic, business_kind=business_kind)

    def _scores(self, texts: list[str], pooled, cls_probs, per_topic,
                business_kind: str | None = None) -> list[SentimentScore]:
        torch = self.torch
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
        kind = self._kind(business_kind)
        topic_scores = self._topic_scores(pooled, topic_logits, per_topic, kind)
        slots = self._polarity_slots()
        if kind is not None:  # every opinion from the kind's heads, whose slots follow the general ones
            offset = len(self.topic_heads.slots)
            slots = {t: offset + i for t, i in kind.polarity_slots().items() if t in self.settings.topics}
        langs = self.detector.detect_many(texts)
        out = []
        for i in range(len(texts)):
            p = {lab: round(float(probs3[i, k]), 6) for k, lab in enumerate(LABELS)}
            ts = {k: round(float(v[i]), 6) for k, v in topic_scores.items()}
            chosen = tuple(k for k in self.settings.topics if ts.get(k, 0.0) >= self._threshold(k, kind))
            overall = max(p, key=p.__getitem__)
            opinions: dict[str, str] = {}
            if per_topic is not None:
                # the per-topic polarity where the heads know the topic; a topic they do not know
                # (scored by similarity) gets the text's overall label, as the store would count it
                opinions = {k: LABELS[int(per_topic[i, slots[k], 1:].argmax())] if k in slots else overall
                            for k in chosen}
            out.append(SentimentScore(
                language=langs[i], sentiment=overall, probabilities=p,
                stars=round(float(stars[i]), 3), topics=chosen, topic_scores=ts, topic_sentiment=opinions,
            ))
        return out

    def score_with_polarities(self, texts: Sequence[str], business_kind: str | None = None
                              ) -> tuple[list[SentimentScore], list[dict[str, dict[str, float]]]]:
        """`score`, and per text the polarity probabilities the per-topic heads give every slot,
        present or not (what the benchmark reads to measure polarity given the gold topic; empty
        dicts for a model without them), from one encoder pass."""
        texts = list(texts)
        if not texts:
            return [], []
        pooled, cls_probs, per_topic = self._run(texts, business_kind=business_kind)
        scores = self._scores(texts, pooled, cls_probs, per_topic, business_kind=business_kind)
        if self.topic_heads is None or per_topic is None:
            return scores, [{} for _ in texts]
        kind = self._kind(business_kind)
        slots, offset = (self.topic_heads.slots, 0) if kind is None else (kind.heads.slots, len(self.topic_heads.slots))
        return scores, [
            {slot: {lab: float(per_topic[i, offset + j, 1 + k]) for k, lab in enumerate(LABELS)}
             for j, slot in enumerate(slots)}
            for i in range(len(texts))]

    def _threshold(self, key: str, kind: Any = None) -> float:
        td: TopicDefinition = self.settings.topics[key]
        if td.threshold is not None:
            return td.threshold
        if kind is not None and key in kind.presence and key in kind.polarity_slots():
            return kind.thresholds.get(key, 0.5)
        if key in self._slot_topics():
            return float(self.topic_meta.get("topic_thresholds", {}).get(key, 0.5))
        if key in self._head_topics():
            return float(self.meta.get("topic_thresholds", {}).get(key, 0.5))
        return 0.5

    def _topic_scores(self, pooled, topic_logits, per_topic=None, kind: Any = None) -> dict:
        torch = self.torch
        out = {}
        if per_topic is not None:
            for key, j in self._slot_topics().items():
                out[key] = per_topic[:, j, 0]
        head = self._head_topics() if topic_logits is not None else {}
        for key, j in head.items():
            out[key] = torch.sigmoid(topic_logits[:, j])
        if per_topic is not None and kind is not None:
            # the kind's heads give the presence of the topics they were chosen for (over the
            # general per-topic heads and the mean-pooled head alike)
            first = len(self.topic_heads.slots)
            for key, j in kind.polarity_slots().items():
                if key in kind.presence and key in self.settings.topics:
                    out[key] = per_topic[:, first + j, 0]
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


_DEFAULT_THREADS: list[int] = []


def _default_threads(torch: Any) -> int:
    """torch's own choice of threads (the physical cores), as it was before a scorer set it to 1."""
    if not _DEFAULT_THREADS:
        _DEFAULT_THREADS.append(torch.get_num_threads())
    return _DEFAULT_THREADS[0]


def _runtime(s: SentimentSettings, kind: str, meta: Mapping[str, Any]):
    """(torch device, floating-point precision, int8) that these settings run here."""
    from sentiment.device import resolve_device, resolve_dtype, resolve_precision

    try:
        device = resolve_device(s.device, int8=s.int8)
        # "auto": the hardware's fastest measured path; int8 only for weights whose int8
        # variant was chosen on dev (heads.json), not for an arbitrary classifier
        precision, int8 = resolve_precision(s.precision, int8=s.int8, device=device,
                                            int8_measured=kind == "encoder" and "int8" in meta)
        resolve_dtype(precision, int8=int8)  # refuses int8 with a lower precision
    except ValueError as exc:
        raise ModelError(f"sentiment.device = {s.device!r}, precision = {s.precision!r}: {exc}") from None
    return device, precision, int8


def model_version_of(config: Any, weights_dir: Path | None, meta: Mapping[str, Any], precision: str,
                     int8: bool) -> str:
    """The model version: a digest of the config, the trained weights' files, the int8 variant and
    the resolved precision (never "auto": scores of different precisions never mix). The device is
    not in it: fp32 on a GPU is the same model."""
    from sentiment.device import version_tag as precision_tag

    h = hashlib.sha256()
    # the config without `_name_or_path`: where the files lie is no part of the model (a data dir
    # reached by another path, or moved, would otherwise re-score every mention)
    identity = {k: v for k, v in config.to_dict().items() if k != "_name_or_path"}
    h.update(json.dumps(identity, sort_keys=True, default=str).encode())
    if weights_dir is not None:
        # the per-topic heads are part of the model where present (files absent: nothing added,
        # so weights without them keep their version)
        for f in ("heads.json", "heads.safetensors", "adapter_model.safetensors", "topic_heads.json",
                  "topic_heads.safetensors"):
            _file_digest(h, weights_dir / f)
    if int8:
        from sentiment.int8 import variant_for, version_tag

        float_layers, full_range = variant_for(meta)
        h.update(version_tag(float_layers, full_range=full_range))
    h.update(precision_tag(precision))
    return h.hexdigest()[:12]


def model_identity(settings: SentimentSettings | None = None, *,
                   data_dir: Path | str = "data", business_kind: str | None = None) -> tuple[str, str] | None:
    """(model id, model version) the scorer of these settings would have, without loading it:
    from the prepared encoder's manifest (sentiment/prepared.py). None when there is none yet (the
    first load makes it) or the settings cannot load: then load the scorer, which says why.

    What `reviewwatch score` asks first, so that nothing to score loads no model. With
    `business_kind`, the version of that kind's scores (None where the weights have no such kind)."""
    from sentiment import prepared as P
    from sentiment.convert import CONVERTED_NAME

    s = settings or SentimentSettings()
    path = Path(s.model) if s.model else Path(data_dir) / "models" / CONVERTED_NAME
    if not s.model and not (path / "CONVERTED.json").exists():
        return None
    wdir = Path(s.weights_dir) if s.weights_dir else SHIPPED_WEIGHTS
    config = P.load_config(P.cache_dir(data_dir), P.cache_key(path, wdir))
    if config is None or not (wdir / "heads.json").exists():
        return None
    try:
        meta = json.loads((wdir / "heads.json").read_text(encoding="utf-8"))
        _device, precision, int8 = _runtime(s, "encoder", meta)
    except (ValueError, ModelError):
        return None
    model_id = (s.model if s.model else EMBEDDED_ID) + "+heads"
    version = model_version_of(config, wdir, meta, precision, int8)
    if business_kind is not None:
        from sentiment.kinds import kind_version, known_kinds

        if business_kind not in known_kinds(wdir):
            return None
        version = kind_version(version, wdir, business_kind)
    return model_id, version


def load_scorer(settings: SentimentSettings | None = None, *, languages: Sequence[str] = (),
                data_dir: Path | str | None = None) -> Scorer:
    """The application's scorer: with `data_dir`, the prepared encoder is kept and used there."""
    return TransformersScorer(settings, languages=languages, data_dir=data_dir, prepared=True)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
