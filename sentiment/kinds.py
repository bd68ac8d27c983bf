"""Topic heads for one kind of business, read beside the general ones.

The general per-topic heads learn from restaurant and hotel sentences at once, and one set of
heads and thresholds trades one kind of business for the other: a hotel's rooms read as
ambience, not quality (docs/model-experiments.md, sixth to eighth sessions). A kind's heads are
trained on that kind's sentences alone (`sentiment.train_topics --hotel-only`) and saved under
`<weights_dir>/kinds/<kind>/` (`topic_heads.json` + `.safetensors`, the general heads' format).
A business declared of that kind (`[[businesses]] kind = "hotel"`) is scored with them: the
topics its `presence_from_heads` lists take their presence from them, the others keep the
general path (chosen per topic on the kind's dev sentences), and every opinion's polarity comes
from them. The kind is part of the model version, so its scores never mix with the general ones.

Listing the kinds (`known_kinds`) needs no torch; loading them does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS_DIR = "kinds"
META_FILE = "topic_heads.json"
WEIGHTS_FILE = "topic_heads.safetensors"


def kinds_dir(weights_dir: Path) -> Path:
    return Path(weights_dir) / KINDS_DIR


def known_kinds(weights_dir: Path) -> list[str]:
    """The kinds whose heads lie under `weights_dir` (no torch needed)."""
    root = kinds_dir(weights_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / META_FILE).is_file() and (p / WEIGHTS_FILE).is_file())


def kind_digest(weights_dir: Path, kind: str) -> str:
    """A digest of the kind's files: what the model version adds for it."""
    h = hashlib.sha256(kind.encode())
    for name in (META_FILE, WEIGHTS_FILE):
        h.update((kinds_dir(weights_dir) / kind / name).read_bytes())
    return h.hexdigest()


def kind_version(model_version: str, weights_dir: Path, kind: str) -> str:
    """The model version of a kind's scores: the general version and the kind's heads together."""
    return hashlib.sha256((model_version + kind_digest(weights_dir, kind)).encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class KindHeads:
    name: str
    heads: Any  # sentiment.topic_heads.TopicHeads
    meta: dict
    presence: frozenset[str]  # topics whose presence these heads give
    thresholds: dict[str, float]

    def polarity_slots(self) -> dict[str, int]:
        skip = set(self.meta.get("polarity_only", ()))
        return {t: i for i, t in enumerate(self.heads.slots) if t not in skip}


def load_kind(weights_dir: Path, kind: str, hidden: int) -> KindHeads:
    """The heads of `kind` under `weights_dir`; ValueError says why they cannot serve."""
    from sentiment.topic_heads import adapter_digest, read_heads

    known = known_kinds(weights_dir)
    if kind not in known:
        raise ValueError(f"no topic heads for kind {kind!r} in {kinds_dir(weights_dir)} "
                         f"(known: {', '.join(known) or 'none'})")
    d = kinds_dir(weights_dir) / kind
    meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
    if meta.get("adapter_sha1") and meta["adapter_sha1"] != adapter_digest(Path(weights_dir)):
        raise ValueError(f"the {kind!r} topic heads in {d} were trained on another adapter than "
                         f"{weights_dir}'s: retrain them with `python -m sentiment.train_topics --hotel-only`")
    heads = read_heads(d, meta)
    if heads.queries.shape[1] != hidden:
        raise ValueError(f"the {kind!r} topic heads read {heads.queries.shape[1]}-wide states, the encoder "
                         f"gives {hidden}")
    presence = frozenset(meta.get("presence_from_heads") or ())
    return KindHeads(kind, heads, meta, presence, {k: float(v) for k, v in meta["topic_thresholds"].items()})
