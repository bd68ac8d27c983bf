"""Training the per-topic heads (sentiment/topic_heads.py) on the frozen shipped encoder.

    python -m sentiment.train_topics [--data-dir ../shared/data] [--work-dir .train/topics] [--out sentiment/weights]

1. Cache: the shipped encoder's (LoRA merged) last hidden states of every SemEval sentence of the
   train and dev parts (encoder in `--precision`, bf16 by default), stored fp16, in shards of 512
   sentences under `<work-dir>/cache/<precision>/` (a restart resumes at the first missing shard).
   The encoder is never trained: the sentiment head, its calibration and the adapter stay as shipped.
2. Labels: presence of the nine topics (SemEval's categories for five, `sentiment/data/topic_labels.jsonl`
   for wait_time, cleanliness, communication, booking) and the polarity of each present topic
   (SemEval's opinions about it; for the four new topics the sentence's label where its opinions
   agree, else the opinions about the closest SemEval topic); the `general` slot learns the
   polarity of opinions about the restaurant as a whole (polarity only).
3. Fit: AdamW, a checkpoint after every epoch (`<work-dir>/ckpt-<pooling>.pt`, resumed), the epoch with the
   best dev score (topic micro-F1 at 0.5 + per-opinion polarity accuracy) kept.
4. On dev only: a threshold per topic (best F1; 0.5 where dev has fewer than 8 examples), then the
   weights and `topic_heads.json` written to `--out`. Progress goes to `<work-dir>/train.log`.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from sentiment.data import Example, build_splits, review_label
from sentiment.metrics import micro_f1_multilabel
from sentiment.topic_heads import TopicHeads, adapter_digest, save_topic_heads
from sentiment.topic_labels import LABELS_FILE, read_labels
from sentiment.topic_rules import NINE_TOPICS, opinion_topics

log = logging.getLogger("sentiment.train_topics")

SLOTS = [*NINE_TOPICS, "general"]
POLARITY = {"negative": 0, "neutral": 1, "positive": 2}
# the SemEval topic whose opinions hold a new topic's polarity when the sentence's opinions disagree
CLOSEST = {"wait_time": "service", "communication": "service", "booking": "service", "cleanliness": "ambience"}
SHARD = 512
SHIPPED = Path(__file__).parent / "weights"
# the shipped heads' recipe (MODEL.md, "The per-topic heads"): what `reviewwatch train` reruns
RECIPE: dict[str, Any] = {"pooling": "attention", "no_mean": True, "pairs": 1.0, "epochs": 10}
# fewer training sentences with a topic than this, or no calibration sentence with one: no heads
MIN_TOPIC_ROWS = 20


def semeval_rows(data_dir: Path) -> tuple[list[Example], list[Example]]:
    """SemEval train and dev sentences, de-duplicated against every measured file (data.py)."""
    splits = build_splits(data_dir)
    train = [e for e in splits.train if e.source.startswith("semeval")]
    dev = [e for e in splits.dev if e.source.startswith("semeval")]
    return train, dev


def targets(rows: list[Example], new_topics: dict[str, list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(presence [N, slots] in {0, 1}, or -1 where unknown (masked: M-ABSA's `unsure` topics),
    polarity [N, slots] class index or -100 where absent)."""
    presence = torch.zeros(len(rows), len(SLOTS))
    polarity = torch.full((len(rows), len(SLOTS)), -100, dtype=torch.long)
    for i, e in enumerate(rows):
        # M-ABSA rows carry their topics' polarity already mapped (sentiment/mabsa.py)
        ops = e.meta["topic_polarity"] if "topic_polarity" in e.meta else opinion_topics(e.meta.get("opinions", []))
        present = set(e.topics or ()) | set(new_topics.get(e.id, ()))
        unsure = set(e.meta.get("unsure", ()))
        agreed = e.meta.get("original_label")  # None where the sentence's opinions disagree
        for j, slot in enumerate(SLOTS):
            if slot in present:
                presence[i, j] = 1.0
            elif slot in unsure:
                presence[i, j] = -1.0
            if slot in ops:
                polarity[i, j] = POLARITY[ops[slot]]
            elif slot in present:
                pol = agreed or ops.get(CLOSEST.get(slot, ""), None) or review_label(e)
                polarity[i, j] = POLARITY[pol]
    return presence, polarity


class StateCache:
    """Token states of an encoder with its adapter merged (the shipped one unless `weights_dir`
    names retrained weights), one shard file per 512 sentences (resumable)."""

    def __init__(self, work_dir: Path, models_dir: Path, precision: str, weights_dir: Path = SHIPPED,
                 model: str = ""):
        self.precision = precision
        # keyed by the adapter too: states of one adapter are worthless for heads of another, and a
        # retrained adapter must not pick up the shards an earlier one left under the same work dir
        digest = adapter_digest(weights_dir) or "no-adapter"
        self.dir = work_dir / "cache" / precision / digest[:12]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.models_dir = models_dir
        self.weights_dir = weights_dir
        self.model = model
        self._scorer = None

    def _encoder(self):
        if self._scorer is None:
            from sentiment.scorer import TransformersScorer
            from sentiment.settings import SentimentSettings

            s = SentimentSettings(precision=self.precision, device="cpu", model=self.model,
                                  weights_dir="" if self.weights_dir == SHIPPED else str(self.weights_dir))
            self._scorer = TransformersScorer(s, data_dir=self.models_dir)
            torch.set_num_threads(2)
        return self._scorer

    def states(self, name: str, rows: list[Example]) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for k in range(0, len(rows), SHARD):
            path = self.dir / f"{name}-{k // SHARD:04d}.pt"
            part = rows[k : k + SHARD]
            if path.exists():
                saved = torch.load(path)
                if saved["ids"] == [e.id for e in part]:
                    out += saved["states"]
                    continue
            t0 = time.time()
            states = self._encode([e.text for e in part])
            torch.save({"ids": [e.id for e in part], "states": states}, path)
            out += states
            log.info("cache %s: %d/%d sentences (%.1f s for %d)", name, min(k + SHARD, len(rows)), len(rows),
                     time.time() - t0, len(part))
        return out

    def _encode(self, texts: list[str]) -> list[torch.Tensor]:
        sc = self._encoder()
        # a text longer than one window (a user's whole review) is read up to its first window's
        # end: training rows are one state sequence each, and SemEval's sentences all fit
        first: dict[int, tuple] = {}
        for w in sc._windows(texts):
            first.setdefault(w[0], w)
        wins = [first[i] for i in range(len(texts))]
        pad = sc.tok.pad_token_id or 0
        out: list[torch.Tensor] = [torch.empty(0)] * len(texts)
        lens = [len(w[1]) for w in wins]
        with torch.inference_mode():
            for idx in sc.M.length_batches(lens, 32):
                ids, mask = sc.M.pad_batch([wins[i][1] for i in idx], pad)
                hidden = sc.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                for j, i in enumerate(idx):
                    out[i] = hidden[j, : lens[i]].to(torch.float16).clone()
        return out


def batches(states: list[torch.Tensor], size: int, seed: int | None) -> list[list[int]]:
    """Batches of like lengths (little padding); with a seed, shuffled as training's are."""
    from sentiment.modeling import length_batches

    return length_batches([s.shape[0] for s in states], size, shuffle_seed=seed)


def pad_states(states: list[torch.Tensor], idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    L = max(states[i].shape[0] for i in idx)
    x = torch.zeros(len(idx), L, states[idx[0]].shape[1])
    m = torch.zeros(len(idx), L)
    for j, i in enumerate(idx):
        n = states[i].shape[0]
        x[j, :n] = states[i].float()
        m[j, :n] = 1
    return x, m


def paired(states: list[torch.Tensor], pres: torch.Tensor, pol: torch.Tensor, idx: list[int],
           rng: torch.Generator) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """Two-sentence texts made of the batch's own sentences (their cached states one after the
    other): most SemEval sentences hold one opinion, so without these the polarity of a topic
    could simply follow the text's overall tone; in a pair the two sentences' topics keep their
    own polarities ("the food was great. The bathroom was dirty."). A topic in both sentences
    with different polarities is left out of the polarity loss."""
    other = [idx[j] for j in torch.randperm(len(idx), generator=rng).tolist()]
    seqs = [torch.cat([states[a], states[b]]) for a, b in zip(idx, other)]
    pa, pb = pres[idx], pres[other]
    # present in either: present; else unknown in either: unknown; else absent
    p = torch.where((pa > 0) | (pb > 0), torch.ones_like(pa), torch.minimum(pa, pb))
    qa, qb = pol[idx], pol[other]
    q = torch.where(qa >= 0, qa, qb)
    q = torch.where((qa >= 0) & (qb >= 0) & (qa != qb), torch.full_like(q, -100), q)
    return seqs, p, q


def predict(heads: TopicHeads, states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(presence probabilities [N, slots], polarity probabilities [N, slots, 3])."""
    heads.eval()
    pres = torch.zeros(len(states), len(heads.slots))
    pol = torch.zeros(len(states), len(heads.slots), 3)
    with torch.inference_mode():
        for idx in batches(states, 128, None):  # length-sorted: put back in order
            x, m = pad_states(states, idx)
            p, q = heads(x, m)
            pres[idx], pol[idx] = torch.sigmoid(p), torch.softmax(q, -1)
    return pres, pol


def dev_figures(presence_p: torch.Tensor, polarity_p: torch.Tensor, presence: torch.Tensor,
                polarity: torch.Tensor, thresholds: dict[str, float] | None = None) -> dict:
    topics = list(NINE_TOPICS)
    thr = torch.tensor([(thresholds or {}).get(t, 0.5) for t in topics])
    known = presence[:, : len(topics)] >= 0  # masked (unknown) topics count neither way
    pred = (presence_p[:, : len(topics)] >= thr) & known
    gold = presence[:, : len(topics)] > 0
    sets_t = [{t for j, t in enumerate(topics) if gold[i, j]} for i in range(len(gold))]
    sets_p = [{t for j, t in enumerate(topics) if pred[i, j]} for i in range(len(pred))]
    per_topic = {t: round(micro_f1_multilabel([s & {t} for s in sets_t], [s & {t} for s in sets_p]), 4)
                 for t in topics}
    has = polarity >= 0
    acc = float((polarity_p.argmax(-1)[has] == polarity[has]).float().mean()) if has.any() else 0.0
    return {"micro_f1": round(micro_f1_multilabel(sets_t, sets_p), 4), "per_topic_f1": per_topic,
            "polarity_acc": round(acc, 4), "polarity_n": int(has.sum())}


def five_head_probs(states: list[torch.Tensor], weights_dir: Path = SHIPPED) -> tuple[torch.Tensor, dict]:
    """The 5-topic head beside the adapter on the mean-pooled states: (probabilities [N, its
    topics], its meta with `trained_topics` and `topic_thresholds`)."""
    from sentiment.modeling import load_heads

    heads, meta = load_heads(weights_dir)
    with torch.inference_mode():
        return torch.sigmoid(heads(torch.stack([s.float().mean(0) for s in states]))[1]), meta


def shipped_head_dev_f1(states: list[torch.Tensor], presence: torch.Tensor,
                        weights_dir: Path = SHIPPED) -> dict[str, float]:
    """F1 per topic of the 5-topic head beside the adapter (mean-pooled states, its own
    thresholds): what the per-topic heads must beat to replace it for those topics."""
    probs, meta = five_head_probs(states, weights_dir)
    out = {}
    for k, t in enumerate(meta["trained_topics"]):
        gold = presence[:, NINE_TOPICS.index(t)] > 0
        pred = (probs[:, k] >= float(meta["topic_thresholds"][t])) & (presence[:, NINE_TOPICS.index(t)] >= 0)
        tp = int((pred & gold).sum())
        out[t] = round(2 * tp / max(1, int(pred.sum()) + int(gold.sum())), 4)
    return out


def deployed_dev_figures(heads_dir: Path, states: list[torch.Tensor], presence: torch.Tensor,
                         polarity: torch.Tensor) -> tuple[dict, torch.Tensor]:
    """Dev figures of the heads in `heads_dir` as the scorer would use them (their thresholds, and
    presence from the shipped mean-pooled head for the topics `presence_from_heads` leaves out),
    and the predicted presence [N, nine topics] (bool)."""
    import json

    from sentiment.topic_heads import read_heads

    meta = json.loads((heads_dir / "topic_heads.json").read_text(encoding="utf-8"))
    heads = read_heads(heads_dir, meta)
    pres_p, pol_p = predict(heads, states)
    thresholds = dict(meta["topic_thresholds"])
    kept = meta.get("presence_from_heads")
    if kept is not None:
        probs, five_meta = five_head_probs(states)
        for k, t in enumerate(five_meta["trained_topics"]):
            if t not in kept:
                pres_p[:, NINE_TOPICS.index(t)] = probs[:, k]
                thresholds[t] = float(five_meta["topic_thresholds"][t])
    thr = torch.tensor([thresholds.get(t, 0.5) for t in NINE_TOPICS])
    return dev_figures(pres_p, pol_p, presence, polarity, thresholds), pres_p[:, : len(NINE_TOPICS)] >= thr


def f1_difference(gold: torch.Tensor, a: torch.Tensor, b: torch.Tensor, groups: list[str],
                  resamples: int = 2000, seed: int = 13) -> tuple[float, float, float]:
    """F1(b) - F1(a) on the known (gold >= 0) entries of one topic column, and its 95 % paired
    bootstrap interval (whole groups drawn)."""
    import numpy as np

    known = (gold >= 0).numpy()
    g, pa, pb = (gold > 0).numpy() & known, a.numpy() & known, b.numpy() & known
    counts = np.stack([pa & g, pa & ~g, ~pa & g, pb & g, pb & ~g, ~pb & g], 1).astype(float)
    keys = sorted(set(groups))
    index = {k: i for i, k in enumerate(keys)}
    per_group = np.zeros((len(keys), 6))
    np.add.at(per_group, [index[x] for x in groups], counts)

    def diff(c: np.ndarray) -> np.ndarray:
        fa = 2 * c[..., 0] / np.maximum(2 * c[..., 0] + c[..., 1] + c[..., 2], 1)
        fb = 2 * c[..., 3] / np.maximum(2 * c[..., 3] + c[..., 4] + c[..., 5], 1)
        return fb - fa

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(keys), size=(resamples, len(keys)))
    sums = per_group[draws].sum(1)
    lo, hi = np.percentile(diff(sums), [2.5, 97.5])
    return float(diff(per_group.sum(0))), float(lo), float(hi)


def hotel_rows(a: argparse.Namespace) -> tuple[list[Example], list[Example]]:
    """M-ABSA's hotel (train, dev) rows with the labels the options ask for (`--hotel FILE`, else
    the committed converted file)."""
    from sentiment.mabsa import read_rows

    return read_rows(a.hotel or Path(__file__).parent / "data" / "mabsa_hotel.jsonl",
                     rooms_as_quality=a.rooms_as_quality, read_topics=_read_topics(a),
                     keep_mapped=_keep_mapped(a))


def compare(a: argparse.Namespace, dirs: list[Path]) -> dict:
    """`--compare DIR...`: each heads dir's deployed figures on the cached dev sentences, per source."""
    dev_rows = semeval_rows(a.data_dir)[1]
    hotel_dev = hotel_rows(a)[1]
    cache = StateCache(a.work_dir, a.models_dir, a.precision)
    new = read_labels(LABELS_FILE)
    out: dict[str, dict[str, dict]] = {}
    from sentiment.data import semeval_review_id

    for name, rows, st in (("semeval", dev_rows, cache.states("dev", dev_rows)),
                           ("mabsa_hotel", hotel_dev, cache.states("hotel-dev", hotel_dev))):
        pres, pol = targets(rows, new)
        groups = [semeval_review_id(e.id) if name == "semeval" else e.id for e in rows]
        torch.set_num_threads(1)
        preds = []
        for d in dirs:
            fig, pred = deployed_dev_figures(d, st, pres, pol)
            preds.append(pred)
            if len(preds) > 1:  # against the first dir: per topic F1 difference, paired bootstrap
                fig["f1_minus_first"] = {t: [round(v, 4) for v in f1_difference(pres[:, j], preds[0][:, j],
                                                                                pred[:, j], groups)]
                                         for j, t in enumerate(NINE_TOPICS) if bool((pres[:, j] > 0).any())}
            out.setdefault(str(d), {})[name] = fig
            print(f"{d} dev {name}: micro-F1 {fig['micro_f1']:.4f} polarity {fig['polarity_acc']:.4f} "
                  f"(n={fig['polarity_n']}) {fig['per_topic_f1']}", flush=True)
            if "f1_minus_first" in fig:
                print(f"    minus {dirs[0]} [95% paired bootstrap]: {fig['f1_minus_first']}", flush=True)
    return out


def make_kind(a: argparse.Namespace, candidate: Path, kind: str) -> dict:
    """`--as-kind KIND DIR`: the heads in DIR (trained with `--hotel-only`) as the heads of a kind of
    business (sentiment/kinds.py), written to `--out`: per topic with gold on the hotel dev, their
    presence where they do at least as well there as the general heads do as deployed (the
    shipped heads' own choice of per-topic or mean-pooled head), else the general path's."""
    import shutil

    hotel_dev = hotel_rows(a)[1]
    states = StateCache(a.work_dir, a.models_dir, a.precision).states("hotel-dev", hotel_dev)
    pres, pol = targets(hotel_dev, read_labels(LABELS_FILE))
    torch.set_num_threads(1)
    general, _ = deployed_dev_figures(SHIPPED, states, pres, pol)
    mine, _ = deployed_dev_figures(candidate, states, pres, pol)
    gold = {t: int((pres[:, j] > 0).sum()) for j, t in enumerate(NINE_TOPICS)}
    presence = [t for t in NINE_TOPICS
                if gold[t] and mine["per_topic_f1"][t] >= general["per_topic_f1"][t]]
    log.info("kind %s: hotel dev per topic, general %s, kind's heads %s; presence from the kind's heads for %s",
             kind, general["per_topic_f1"], mine["per_topic_f1"], presence)
    meta = json.loads((candidate / "topic_heads.json").read_text(encoding="utf-8"))
    meta.update({"kind": kind, "presence_from_heads": presence,
                 "kind_choice": {"on": "hotel dev, read topics", "gold": gold,
                                 "general_f1": general["per_topic_f1"], "kind_f1": mine["per_topic_f1"]}})
    a.out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(candidate / "topic_heads.safetensors", a.out / "topic_heads.safetensors")
    (a.out / "topic_heads.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("wrote %s", a.out)
    return meta


def worse_than_five_head(states: list[torch.Tensor], presence_p: torch.Tensor, presence: torch.Tensor,
                         thresholds: dict[str, float], rows: list[Example], n_first: int,
                         weights_dir: Path = SHIPPED) -> dict[str, dict[str, list[float]]]:
    """Per topic of the 5-topic head and per dev source (SemEval's first `n_first` rows, then the
    rest): F1 of the per-topic heads minus F1 of the mean-pooled head, with its 95 % paired
    bootstrap interval (SemEval drawn by review)."""
    from sentiment.data import semeval_review_id

    probs, meta = five_head_probs(states, weights_dir)
    out: dict[str, dict[str, list[float]]] = {}
    for k, t in enumerate(meta["trained_topics"]):
        j = NINE_TOPICS.index(t)
        mine = presence_p[:, j] >= thresholds.get(t, 0.5)
        theirs = probs[:, k] >= float(meta["topic_thresholds"][t])
        for name, part in (("semeval", slice(0, n_first)), ("extra", slice(n_first, len(rows)))):
            gold = presence[part, j]
            if not bool((gold > 0).any()):
                continue
            groups = [semeval_review_id(e.id) for e in rows[part]]
            out.setdefault(t, {})[name] = [round(v, 4) for v in f1_difference(gold, theirs[part], mine[part], groups)]
    return out


def fit_topic_thresholds(presence_p: torch.Tensor, presence: torch.Tensor, min_pos: int = 8) -> dict[str, float]:
    out = {}
    for j, t in enumerate(NINE_TOPICS):
        gold = presence[:, j] > 0
        if int(gold.sum()) < min_pos:
            out[t] = 0.5
            continue
        best, best_f = 0.5, -1.0
        for thr in [0.05 * k for k in range(1, 20)]:
            pred = (presence_p[:, j] >= thr) & (presence[:, j] >= 0)
            tp = int((pred & gold).sum())
            f = 2 * tp / max(1, int(pred.sum()) + int(gold.sum()))
            if f > best_f + 1e-9:
                best, best_f = round(thr, 2), f
        out[t] = best
    return out


def presence_loss(bce: torch.nn.BCEWithLogitsLoss, logits: torch.Tensor, target: torch.Tensor,
                  slot_mask: torch.Tensor) -> torch.Tensor:
    """Mean BCE over the slots with a presence target: not the polarity-only slot, not a topic
    whose presence is unknown (-1) for that sentence."""
    mask = slot_mask * (target >= 0).float()
    return (bce(logits, target.clamp(min=0)) * mask).sum() / (slot_mask.sum() * len(target))


def polarity_loss(ce: torch.nn.CrossEntropyLoss, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the slots that have a polarity; 0 for a batch with none (the mean of an
    empty set is NaN, and one NaN batch would ruin the heads: a user's file may hold many
    sentences without a topic)."""
    flat = target.reshape(-1)
    if not bool((flat >= 0).any()):
        return logits.sum() * 0.0
    return ce(logits.reshape(-1, 3), flat)


def _read_topics(a: argparse.Namespace) -> dict | None:
    """The nine topics read on M-ABSA's hotel train and dev sentences, with --hotel-read-topics."""
    if not getattr(a, "hotel_read_topics", False):
        return None
    from sentiment.hotel_topics_test import read_topics_for_training

    return read_topics_for_training()


def _keep_mapped(a: argparse.Namespace) -> frozenset[str]:
    """The topics whose hotel labels stay mapped under --hotel-read-topics (--read-keep-mapped)."""
    return frozenset(getattr(a, "read_keep_mapped", None) or ())


def train(a: argparse.Namespace) -> dict:
    train_rows, dev_rows = semeval_rows(a.data_dir)
    if getattr(a, "hotel_only", False):  # heads for hotels alone: the restaurants teach and choose nothing
        if not getattr(a, "hotel", None):
            raise SystemExit("--hotel-only needs --hotel")
        train_rows, dev_rows = [], []
    if a.limit:  # a smoke run
        train_rows, dev_rows = train_rows[: a.limit], dev_rows[: a.limit]
    extra = None
    if getattr(a, "hotel", None):
        extra = hotel_rows(a)
        if a.limit:
            extra = (extra[0][: a.limit], extra[1][: a.limit])
    return fit(a, train_rows, dev_rows, read_labels(LABELS_FILE), extra)


def fit(a: argparse.Namespace, train_rows: list[Example], dev_rows: list[Example],
        new: dict[str, list[str]], extra: tuple[list[Example], list[Example]] | None = None) -> dict:
    """Cache the states, train, choose thresholds on dev, write the heads to `a.out`.

    `extra`: more (train, dev) rows (M-ABSA's hotel sentences), cached under their own names so
    that the SemEval shards serve a run with and a run without them."""
    a.work_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(a.seed)
    weights_dir = Path(getattr(a, "weights_dir", None) or SHIPPED)
    cache = StateCache(a.work_dir, a.models_dir, a.precision, weights_dir, getattr(a, "model", "") or "")
    tr_states, dev_states = cache.states("train", train_rows), cache.states("dev", dev_rows)
    n_dev_first = len(dev_rows)
    if extra is not None:
        tr_states = tr_states + cache.states("hotel-train", extra[0])
        dev_states = dev_states + cache.states("hotel-dev", extra[1])
        train_rows, dev_rows = train_rows + extra[0], dev_rows + extra[1]
    if a.cache_only:
        return {}
    # the heads are small: one thread does them well, and more only spin-wait on a busy machine
    torch.set_num_threads(1)
    tr_pres, tr_pol = targets(train_rows, new)
    dev_pres, dev_pol = targets(dev_rows, new)
    log.info("train %d sentences, dev %d; positives per topic (train): %s", len(train_rows), len(dev_rows),
             {t: int((tr_pres[:, j] > 0).sum()) for j, t in enumerate(SLOTS)})
    heads = TopicHeads(tr_states[0].shape[1], SLOTS, inner=a.inner, dropout=a.dropout, pooling=a.pooling,
                       with_mean=not a.no_mean)
    with torch.no_grad():  # queries of unit scale: the attention starts peaked (random), not uniform
        heads.queries.mul_(a.query_init / 0.02)
    opt = torch.optim.AdamW(heads.parameters(), lr=a.lr, weight_decay=0.01)
    pres_mask = torch.ones(len(SLOTS))
    pres_mask[SLOTS.index("general")] = 0.0  # polarity-only slot
    # rare topics: positives weighted up to balance the presence loss, capped
    pos = (tr_pres > 0).sum(0).float().clamp(min=1)
    pos_weight = (((tr_pres >= 0).sum(0) - pos) / pos).clamp(min=1e-3, max=a.max_pos_weight)
    state: dict[str, Any] = {"epoch": 0, "best": -1.0, "best_epoch": 0, "history": []}
    tag = (a.pooling if a.pooling == "mean" else f"{a.pooling}-q{a.query_init:g}") + ("-nomean" if a.no_mean else "")
    tag += f"-pw{a.polarity_weight:g}-lr{a.lr:g}" + (f"-pairs{a.pairs:g}" if a.pairs else "")
    if extra is not None:  # a change of the hotel labels (mapping) must not resume another's checkpoint
        import hashlib

        labels = [(e.id, e.topics, e.meta.get("unsure"), e.meta.get("topic_polarity")) for e in extra[0]]
        tag += f"-hotel{hashlib.sha1(repr(labels).encode()).hexdigest()[:8]}"
    ck, best = a.work_dir / f"ckpt-{tag}.pt", a.work_dir / f"best-{tag}.pt"
    if ck.exists() and not a.fresh:
        saved = torch.load(ck)
        heads.load_state_dict(saved["heads"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        log.info("resumed after epoch %d", state["epoch"])
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)
    while state["epoch"] < a.epochs:
        heads.train()
        t0, total = time.time(), 0.0
        rng = torch.Generator().manual_seed(a.seed * 1000 + state["epoch"])
        for idx in batches(tr_states, a.batch_size, a.seed + state["epoch"]):
            x, m = pad_states(tr_states, idx)
            p, q = heads(x, m)
            loss_p = presence_loss(bce, p, tr_pres[idx], pres_mask)
            loss_q = polarity_loss(ce, q, tr_pol[idx])
            loss = loss_p + a.polarity_weight * loss_q
            if a.pairs:
                seqs, pp, pq = paired(tr_states, tr_pres, tr_pol, idx, rng)
                x2, m2 = pad_states(seqs, list(range(len(seqs))))
                p2, q2 = heads(x2, m2)
                loss = loss + a.pairs * (presence_loss(bce, p2, pp, pres_mask)
                                         + a.polarity_weight * polarity_loss(ce, q2, pq))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        state["epoch"] += 1
        fig = dev_figures(*predict(heads, dev_states), dev_pres, dev_pol)
        score = fig["micro_f1"] + fig["polarity_acc"]
        state["history"].append({"epoch": state["epoch"], "loss": round(total / len(train_rows), 4), **fig})
        if score > state["best"]:
            state["best"], state["best_epoch"] = score, state["epoch"]
            torch.save(heads.state_dict(), best)
        torch.save({"heads": heads.state_dict(), "opt": opt.state_dict(), "state": state}, ck)
        log.info("epoch %d loss %.4f dev micro-F1 %.4f polarity acc %.4f (n=%d) per topic %s [%.0f s]",
                 state["epoch"], total / len(train_rows), fig["micro_f1"], fig["polarity_acc"], fig["polarity_n"],
                 fig["per_topic_f1"], time.time() - t0)
    heads.load_state_dict(torch.load(best))
    dev_p, dev_q = predict(heads, dev_states)
    thresholds = fit_topic_thresholds(dev_p, dev_pres)
    final = dev_figures(dev_p, dev_q, dev_pres, dev_pol, thresholds)
    log.info("best epoch %d; thresholds %s; dev at them: %s", state["best_epoch"], thresholds, final)
    by_source = ({"semeval": dev_figures(dev_p[:n_dev_first], dev_q[:n_dev_first], dev_pres[:n_dev_first],
                                         dev_pol[:n_dev_first], thresholds)} if n_dev_first else {})
    if extra is not None and len(dev_rows) > n_dev_first:
        by_source["mabsa_hotel"] = dev_figures(dev_p[n_dev_first:], dev_q[n_dev_first:], dev_pres[n_dev_first:],
                                               dev_pol[n_dev_first:], thresholds)
    log.info("dev by source: %s", by_source)
    shipped = shipped_head_dev_f1(dev_states, dev_pres, weights_dir)
    log.info("the mean-pooled 5-topic head on the same dev sentences: %s", shipped)
    # per topic, the presence of whichever head does better on dev (ties: the new one)
    presence_from = [t for t in NINE_TOPICS if final["per_topic_f1"][t] >= shipped.get(t, -1.0)]
    if extra is not None:
        # with two dev sources, a topic also keeps the mean-pooled head where the per-topic heads are
        # worse than it on one source beyond noise (paired bootstrap interval below 0): the hotel
        # sentences must not buy hotel F1 with restaurant F1 (SemEval `price`, 2026-12-06)
        worse = worse_than_five_head(dev_states, dev_p, dev_pres, thresholds, dev_rows, n_dev_first, weights_dir)
        log.info("per-topic heads minus the 5-topic head per dev source [F1 difference, 95%% interval]: %s", worse)
        presence_from = [t for t in presence_from if not any(v[2] < 0 for v in worse.get(t, {}).values())]
    # a choice made on dev against the heads these replace (MODEL.md: `price` with the hotel data)
    presence_from = [t for t in presence_from if t not in (getattr(a, "five_head_topics", None) or ())]
    log.info("presence from the per-topic heads for %s; from the shipped head for the others", presence_from)
    meta = {
        "format": "reviewwatch-topic-heads/1",
        "base_model": getattr(a, "model", "") or "multilingual-e5-small",
        "reads": "last hidden state of the encoder with the adapter beside these heads merged, query: prefix",
        "trained_on_states_in": a.precision,
        "adapter_sha1": adapter_digest(weights_dir),
        "polarity_only": ["general"],
        "labels": ["negative", "neutral", "positive"],
        "topic_thresholds": thresholds,
        "dev": final,
        "dev_by_source": by_source,
        "dev_shipped_5_topic_head_f1": shipped,
        "presence_from_heads": presence_from,
        "train": {"seed": a.seed, "epochs": a.epochs, "pooling": a.pooling, "query_init": a.query_init,
                  "with_mean": not a.no_mean, "pairs": a.pairs, "best_epoch": state["best_epoch"], "lr": a.lr,
                  "batch_size": a.batch_size, "dropout": a.dropout, "polarity_weight": a.polarity_weight,
                  "max_pos_weight": a.max_pos_weight, "train_sentences": len(train_rows),
                  "dev_sentences": len(dev_rows), "history": state["history"],
                  "extra_data": ({"mabsa_hotel": {"origin": "swaggy66/M-ABSA cb3121a", "licence": "Apache-2.0",
                                                  "train_sentences": len(extra[0]), "dev_sentences": len(extra[1]),
                                                  "rooms_as_quality": bool(getattr(a, "rooms_as_quality", False)),
                                                  "topics_read": bool(getattr(a, "hotel_read_topics", False)),
                                                  "topics_kept_mapped": sorted(_keep_mapped(a))}}
                                 if extra is not None else {})},
    }
    save_topic_heads(a.out, heads, meta)
    log.info("wrote %s", a.out)
    return meta


def topic_rows(rows: list[Example]) -> list[Example]:
    """The rows that can teach the heads: those whose `topics` are known (SemEval sentences, and a
    user's labelled rows with a `topics` field; an empty list says "no topic" and teaches that)."""
    return [e for e in rows if e.topics is not None]


def retrain(weights_dir: Path, *, model: str, models_dir: Path, work_dir: Path, train_rows: list[Example],
            dev_rows: list[Example], precision: str, epochs: int = int(RECIPE["epochs"]),
            seed: int = 13, hotel: bool = False) -> dict | None:
    """Train per-topic heads for the retrained weights in `weights_dir` (the shipped recipe) and
    write them there; None, writing nothing, where too few rows name a topic.

    `reviewwatch train` calls this after the adapter: heads read the adapter's hidden states, so
    the shipped ones mean nothing on a new adapter (load_topic_heads refuses them). The polarity
    of a topic is its SemEval opinion where there is one, else the row's own label. The work
    directory is keyed by the adapter, so a rerun on the same adapter resumes and a new adapter
    starts afresh. `hotel`: add the committed M-ABSA hotel sentences (train and dev), as the
    shipped heads were made.
    """
    new = read_labels(LABELS_FILE)
    train_rows, dev_rows = topic_rows(train_rows), topic_rows(dev_rows)

    def named(e: Example) -> bool:
        return bool(set(e.topics or ()) | set(new.get(e.id, ())))

    if sum(map(named, train_rows)) < MIN_TOPIC_ROWS or not any(map(named, dev_rows)):
        log.info("per-topic heads not trained: %d training and %d calibration rows name a topic (need %d and 1)",
                 sum(map(named, train_rows)), sum(map(named, dev_rows)), MIN_TOPIC_ROWS)
        return None
    a = build_parser().parse_args([])
    a.pooling, a.no_mean, a.pairs = RECIPE["pooling"], RECIPE["no_mean"], RECIPE["pairs"]
    a.epochs, a.seed, a.precision = epochs, seed, precision
    a.work_dir = work_dir / "topics" / (adapter_digest(weights_dir) or "no-adapter")[:12]
    a.models_dir, a.out, a.weights_dir, a.model = models_dir, weights_dir, weights_dir, model
    extra = None
    if hotel:
        from sentiment.mabsa import read_rows

        extra = read_rows()
    return fit(a, train_rows, dev_rows, new, extra)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).parent.parent.parent / "shared" / "data")
    ap.add_argument("--models-dir", type=Path, default=Path(".train"),
                    help="data dir whose models/ holds the converted encoder")
    ap.add_argument("--work-dir", type=Path, default=Path(".train/topics"))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "weights")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--inner", type=int, default=128)
    ap.add_argument("--pairs", type=float, default=0.0,
                    help="weight of the loss on two-sentence texts made of each batch's sentences (0: none)")
    ap.add_argument("--no-mean", action="store_true",
                    help="a topic reads only its attention-pooled vector, not the mean-pooled one beside it")
    ap.add_argument("--query-init", type=float, default=1.0,
                    help="std of the topic queries at start (0.02: near-uniform attention, the mean)")
    ap.add_argument("--pooling", default="attention", choices=["attention", "mean"],
                    help="a learned query per topic over the tokens, or the mean-pooled state for all")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--polarity-weight", type=float, default=1.0)
    ap.add_argument("--max-pos-weight", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cache-only", action="store_true", help="fill the state cache and stop")
    ap.add_argument("--limit", type=int, default=0, help="sentences per split (a smoke run; 0 = all)")
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16"],
                    help="the encoder's precision for the cached states (bf16: what `auto` runs on CPUs with "
                         "AVX-512 BF16 or AMX, within 0.5 points of fp32 on every measured set)")
    ap.add_argument("--fresh", action="store_true", help="ignore the checkpoint (the cache is kept)")
    ap.add_argument("--five-head-topics", nargs="+", default=[], metavar="TOPIC",
                    help="topics whose presence stays with the mean-pooled 5-topic head (a choice made on dev)")
    ap.add_argument("--compare", type=Path, nargs="+", default=None, metavar="DIR",
                    help="print the heads in each DIR's dev figures (cached states, as deployed) and stop")
    ap.add_argument("--hotel", type=Path, nargs="?", const=Path(__file__).parent / "data" / "mabsa_hotel.jsonl",
                    default=None, help="train and select on M-ABSA's hotel sentences too (sentiment/mabsa.py; "
                                       "the converted file by default)")
    ap.add_argument("--rooms-as-quality", action="store_true",
                    help="with --hotel: the hotel rooms' and facilities' comfort, quality and overall "
                         "judgement teach `quality` (sentiment/mabsa.py, ROOM_ENTITIES)")
    ap.add_argument("--as-kind", nargs=2, metavar=("KIND", "DIR"),
                    help="with --hotel --hotel-read-topics: write the heads in DIR (trained with --hotel-only) "
                         "to --out as KIND's heads (sentiment/kinds.py), presence per topic chosen on the "
                         "hotel dev against the general heads, and stop")
    ap.add_argument("--hotel-only", action="store_true",
                    help="with --hotel: train and choose on the hotel sentences alone (heads for hotels; "
                         "no SemEval row)")
    ap.add_argument("--hotel-read-topics", action="store_true",
                    help="with --hotel: the nine topics read on each hotel train and dev sentence "
                         "(sentiment/data/hotel_topics_{train,dev}.jsonl) replace the mapped ones, none masked")
    ap.add_argument("--read-keep-mapped", nargs="+", default=[], metavar="TOPIC", choices=NINE_TOPICS,
                    help="with --hotel-read-topics: these topics keep their mapped hotel labels (keyword rules, "
                         "masks), so that restaurant and hotel rows teach them alike")
    return ap


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if not (a.data_dir / "semeval16-restaurants-en-train.jsonl").exists():
        print(f"no SemEval files in {a.data_dir}", flush=True)
        return 2
    a.work_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(a.work_dir / "train.log"), logging.StreamHandler()])
    if a.compare:
        compare(a, a.compare)
        return 0
    if a.as_kind:
        make_kind(a, Path(a.as_kind[1]), a.as_kind[0])
        return 0
    train(a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
