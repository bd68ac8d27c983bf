"""The gap's corrected shares: which mentions count by their label, which calibration corrects the
rest, and the estimate for a set of observations (the estimator itself is `quantify.py`).

Calibration: the business's own labelled mentions (rated, or corrected by an analyst) when there
are at least `gap.share_min_labelled` with `quantify.MIN_PER_CLASS` of each class, since the
model's errors are then measured in the business's own domain and languages; else the shipped
held-out data (`calibration/heldout.json`), with the wider interval of errors across domains,
and open for the mentions longer than its texts (`quantify.py`).
Method: `gap.share_method` (`auto`: EMQ-BCTS with the business's own labels or a calibration file,
PCC with held-out data).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from reviewwatch.gap import quantify as q
from reviewwatch.gap.perceived import Observation

AUTO = "auto"
COUNTS = "counts"  # no correction: the model's labels counted, Wilson intervals
# With each calibration source, the method that erred least where it was measured (docs/gap.md).
AUTO_METHOD = {q.OWN: q.BCTS_METHOD, q.FILE: q.BCTS_METHOD, q.HELD_OUT: "PCC"}
# Labels a person gave: an analyst's correction, or the reviewer's rating (perceived.py applies
# `gap.rating_labels`). A topic's own polarity ("topic") and the model's label are the model's.
PERSON_SOURCES = ("correction", "rating")


def known_label(observation: Observation) -> str | None:
    """The label a person gave the mention; None when only the model read it (it is then
    quantified)."""
    return observation.label if observation.label_source in PERSON_SOURCES else None


def probabilities(observation: Observation) -> tuple[float, float, float]:
    """The model's probabilities; its label as certain for an opinion about a topic (the topic's
    polarity comes without probabilities) or where a score lacks them."""
    p = (observation.p_negative, observation.p_neutral, observation.p_positive)
    if observation.label_source == "topic" or p[0] is None or p[1] is None or p[2] is None:
        return (
            float(observation.label == "negative"),
            float(observation.label == "neutral"),
            float(observation.label == "positive"),
        )
    return p[0], p[1], p[2]


def own_calibration(observations: Sequence[Observation]) -> q.Calibration:
    """The labelled mentions the model also scored: their labels against its probabilities."""
    rows = [
        (q.LABELS.index(label), probabilities(o))
        for o in observations
        if (label := known_label(o)) is not None and o.p_negative is not None
    ]
    return q.Calibration(
        probabilities=np.array([p for _, p in rows], dtype=float).reshape(len(rows), 3),
        labels=np.array([k for k, _ in rows], dtype=np.int64),
        domains=np.zeros(len(rows), dtype=np.int64),
        domain_names=("own",),
        source=q.OWN,
    )


def enough(calibration: q.Calibration, min_labelled: int) -> bool:
    return calibration.size >= min_labelled and bool(
        (calibration.class_counts() >= q.MIN_PER_CLASS).all()
    )


@lru_cache(maxsize=1)
def shipped_calibration() -> q.Calibration:
    """The held-out calibration shipped in the package."""
    text = resources.files("reviewwatch.gap.calibration").joinpath("heldout.json").read_text(
        encoding="utf-8"
    )
    return calibration_from_document(json.loads(text), q.HELD_OUT)


def calibration_from_document(document: dict[str, Any], source: str) -> q.Calibration:
    """A calibration from the shipped file's layout: per domain, `labels` and `probabilities`."""
    names = tuple(sorted(document["domains"]))
    labels, probs, domains = [], [], []
    for index, name in enumerate(names):
        domain = document["domains"][name]
        labels += domain["labels"]
        probs += domain["probabilities"]
        domains += [index] * len(domain["labels"])
    return q.Calibration(
        probabilities=np.array(probs, dtype=float).reshape(len(labels), 3),
        labels=np.array(labels, dtype=np.int64),
        domains=np.array(domains, dtype=np.int64),
        domain_names=names,
        source=source,
        model_version=document.get("model_version"),
        max_chars=document.get("max_chars"),
    )


def choose(own: q.Calibration, min_labelled: int) -> q.Calibration:
    """The business's own labels when there are enough, else the shipped held-out data."""
    return own if enough(own, min_labelled) else shipped_calibration()


def method_for(setting: str, calibration: q.Calibration) -> str:
    return AUTO_METHOD[calibration.source] if setting == AUTO else setting


def corrector(
    observations: Sequence[Observation], method: str = AUTO, min_labelled: int = 100
) -> q.Corrector:
    """The corrector of a business's report: fitted once, used for every figure of it."""
    calibration = choose(own_calibration(observations), min_labelled)
    if calibration is shipped_calibration():
        return shipped_corrector(method_for(method, calibration))
    return q.fit(calibration, method_for(method, calibration))


@lru_cache(maxsize=len(q.METHODS))
def shipped_corrector(method: str) -> q.Corrector:
    """The shipped held-out data's corrector, fitted once per process: the same for every
    business without enough labels of its own (its 1 000 replicates cost a small business's
    report most of its time, in every snapshot and cold API report). Read-only, as it is shared."""
    fitted = q.fit(shipped_calibration(), method)
    for array in (fitted.rates, fitted.replicate_rates):
        array.setflags(write=False)
    return fitted


def shares_of(
    observations: Sequence[Observation], weights: Sequence[float], corrector: q.Corrector
) -> q.Shares | None:
    """The corrected shares of a set of observations (None when there are none)."""
    if not observations:
        return None
    known = [known_label(o) for o in observations]
    return q.estimate(
        corrector,
        [None if k is None else q.LABELS.index(k) for k in known],
        np.array([probabilities(o) for o in observations], dtype=float),
        weights,
        lengths=[len(o.text) for o in observations],
    )
