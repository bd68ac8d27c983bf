"""The encoder prepared for scoring, kept on disk so that loading it needs neither transformers nor peft.

The first load of an encoder and its trained weights goes through transformers and peft (config,
tokenizer, `AutoModel`, LoRA merged, layers cut: the reference path in sentiment/scorer.py). When
the encoder is a plain BERT (sentiment/bert.py computes it exactly), what that produced is written
under `<data_dir>/models/prepared/<key>/`:

    manifest.json        what the scorer reads from the config (and the text its model version
                         hashes, so the version is the same on both paths), the tokenizer's ids
    encoder.safetensors  the merged fp32 tensors that differ from the model folder's own file
                         (the word embeddings, 96 MB of the embedded model, are read from there)
    tokenizer.json       the tokenizer as transformers runs it (transformers 5 rebuilds the
                         XLM-R pipeline: it splits on whitespace before the model's Metaspace)

Later loads read those with safetensors and `tokenizers` alone: a few hundred milliseconds instead
of seconds of imports. The key hashes everything the result depends on: the model folder's config
and files (size and modification time of the large ones), the trained weights' bytes, and the
versions of transformers, peft and tokenizers; anything else changes nothing in the tensors. A
cache that cannot be written (a read-only data dir) only costs the next load its speed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger("sentiment.prepared")

FORMAT = "reviewwatch-prepared/1"
KEEP = 3  # prepared encoders kept per cache folder (the most recently used)
_MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "CONVERTED.json")
_WEIGHT_FILES = ("heads.json", "heads.safetensors", "adapter_config.json", "adapter_model.safetensors")
_LIBRARIES = ("transformers", "peft", "tokenizers", "safetensors")


def cache_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "models" / "prepared"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def cache_key(model_dir: Path, weights_dir: Path | None) -> str | None:
    """What the prepared encoder depends on, hashed; None when the model folder cannot be keyed."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file() or not (model_dir / "model.safetensors").is_file():
        return None  # a hub id, or weights in another format: the reference path only
    h = hashlib.sha256(FORMAT.encode())
    h.update(str(model_dir.resolve()).encode())
    for name in _MODEL_FILES:
        p = model_dir / name
        if not p.exists():
            continue
        st = p.stat()
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
        if st.st_size < 1 << 20:  # small files by content (a config rewritten in the same ns)
            h.update(p.read_bytes())
    if weights_dir is not None:
        for name in _WEIGHT_FILES:
            p = Path(weights_dir) / name
            if p.exists():
                h.update(name.encode())
                h.update(p.read_bytes())  # a few MB at most
    for dist in _LIBRARIES:
        h.update(f"{dist}={_version(dist)}".encode())
    return h.hexdigest()[:24]


class PreparedConfig:
    """The part of a transformers config the scorer reads, without transformers."""

    def __init__(self, dump: str):
        self.dump = dump
        self._d = json.loads(dump)
        self.architectures: list[str] = self._d.get("architectures") or []
        self.model_type: str = self._d.get("model_type", "")
        self.hidden_size: int = self._d["hidden_size"]
        self.max_position_embeddings: int = self._d.get("max_position_embeddings", 512)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.dump)


class PreparedTokenizer:
    """The calls the scorer makes of a transformers fast tokenizer, on `tokenizers` alone."""

    def __init__(self, tokenizer_json: str, special: Mapping[str, Any]):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_str(tokenizer_json)
        self.cls_token_id: int | None = special.get("cls_token_id")
        self.sep_token_id: int | None = special.get("sep_token_id")
        self.bos_token_id: int | None = special.get("bos_token_id")
        self.eos_token_id: int | None = special.get("eos_token_id")
        self.pad_token_id: int | None = special.get("pad_token_id")
        self.model_max_length: int = int(special.get("model_max_length") or 0)

    def __call__(self, texts: str | Sequence[str], add_special_tokens: bool = True,
                 verbose: bool = True) -> dict[str, Any]:
        """{"input_ids": ids} for one text, a list of ids lists for a list, as transformers answers."""
        del verbose  # transformers' flag for its length warning; nothing is cut here
        if isinstance(texts, str):
            return {"input_ids": self._tok.encode(texts, add_special_tokens=add_special_tokens).ids}
        encs = self._tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encs]}


@dataclass
class Prepared:
    config: PreparedConfig
    tokenizer: PreparedTokenizer
    model: Any  # sentiment.bert.BertEncoder, fp32, eval mode


_SPECIAL = ("cls_token_id", "sep_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "model_max_length")


def load_config(root: Path, key: str | None) -> PreparedConfig | None:
    """The config kept with a prepared encoder (what its model version hashes), or None."""
    if key is None:
        return None
    try:
        manifest = json.loads((Path(root) / key / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            return None
        return PreparedConfig(manifest["config"])
    except (OSError, ValueError, KeyError):
        return None


def load(root: Path, key: str | None, model_dir: Path) -> Prepared | None:
    """The prepared encoder for `key`, or None when there is none (or it cannot be read)."""
    if key is None:
        return None
    folder = Path(root) / key
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            return None
        from safetensors import safe_open
        from safetensors.torch import load_file

        from sentiment.bert import BertEncoder, BertShape

        from sentiment.bert import uninitialised

        config = PreparedConfig(manifest["config"])
        with uninitialised():
            model = BertEncoder(BertShape.from_config(manifest["shape"]))
        tensors = load_file(str(folder / "encoder.safetensors"))
        with safe_open(str(Path(model_dir) / "model.safetensors"), framework="pt") as f:
            for name in manifest["from_model_file"]:
                tensors[name] = f.get_tensor(manifest["from_model_file"][name])
        model.load_state_dict(tensors, strict=True, assign=True)
        model.fuse_qkv().eval()
        tok = PreparedTokenizer((folder / "tokenizer.json").read_text(encoding="utf-8"), manifest["tokenizer"])
        os.utime(folder / "manifest.json")  # recently used: kept by `_prune`
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("prepared encoder in %s unusable (%s); loading through transformers", folder, exc)
        return None
    return Prepared(config, tok, model)


def save(root: Path, key: str | None, model_dir: Path, config: Any, tokenizer: Any, model: Any) -> bool:
    """Keep what the reference path built, when sentiment.bert computes it; True when written."""
    from sentiment.bert import BertEncoder, BertShape, supports

    cfg = dict(model.config.to_dict()) if hasattr(model, "config") else {}
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if key is None or backend is None or not supports(cfg) or type(model).__name__ != "BertModel":
        return False
    try:
        shape = BertShape.from_config(cfg)
        state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
        probe = BertEncoder(shape)
        if set(state) != set(probe.state_dict()):
            return False  # a pooler or another part this module does not have
    except (KeyError, TypeError, ValueError):
        return False
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    # tensors the model folder holds unchanged are read from there at load, not copied
    from_file: dict[str, str] = {}
    with safe_open(str(Path(model_dir) / "model.safetensors"), framework="pt") as f:
        stored = set(f.keys())
        for name, t in state.items():
            for cand in (name, f"bert.{name}"):
                if cand in stored:
                    u = f.get_tensor(cand)
                    if u.shape == t.shape and u.dtype == t.dtype and torch.equal(u, t):
                        from_file[name] = cand
                    break
    special = {k: getattr(tokenizer, k, None) for k in _SPECIAL}
    manifest = {
        "format": FORMAT, "key": key,
        # the exact text the model version hashes (sentiment/scorer.py)
        "config": json.dumps(config.to_dict(), sort_keys=True, default=str),
        "shape": {k: getattr(shape, k) for k in BertShape.__dataclass_fields__},
        "tokenizer": special,
        "from_model_file": from_file,
    }
    root = Path(root)
    folder = root / key
    tmp = root / f".{key}.{os.getpid()}.tmp"
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save_file({k: v.contiguous() for k, v in state.items() if k not in from_file},
                  str(tmp / "encoder.safetensors"))
        (tmp / "tokenizer.json").write_text(backend.to_str(), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)  # atomic: a reader sees the whole folder or none
    except OSError as exc:
        log.info("could not keep the prepared encoder in %s: %s", root, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    _prune(root, keep=KEEP)
    return True


def _prune(root: Path, keep: int) -> None:
    entries = [d for d in root.iterdir() if d.is_dir() and (d / "manifest.json").exists()]
    entries.sort(key=lambda d: (d / "manifest.json").stat().st_mtime_ns, reverse=True)
    for d in entries[keep:]:
        shutil.rmtree(d, ignore_errors=True)


def prototypes_file(folder: Path, identity: Sequence[str], texts: Mapping[str, Sequence[str]]) -> Path:
    h = hashlib.sha256(json.dumps([list(identity), texts], sort_keys=True, ensure_ascii=False).encode())
    return Path(folder) / f"prototypes-{h.hexdigest()[:16]}.safetensors"


def load_prototypes(path: Path, keys: Sequence[str]) -> dict[str, Any] | None:
    """Kept topic embeddings, when there are some for exactly these topics."""
    from safetensors.torch import load_file

    try:
        kept = load_file(str(path))
    except (OSError, ValueError, RuntimeError):
        return None
    return {k: kept[k] for k in keys} if set(kept) == set(keys) else None


def save_prototypes(path: Path, protos: Mapping[str, Any]) -> None:
    from safetensors.torch import save_file

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file({k: v.contiguous() for k, v in protos.items()}, str(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        log.info("could not keep topic embeddings in %s: %s", path.parent, exc)
        tmp.unlink(missing_ok=True)
