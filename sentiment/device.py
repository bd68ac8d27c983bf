"""Where, and in which floating-point precision, the encoder runs (`sentiment.device`, `.precision`).

bf16 pays on CPUs with AMX (oneDNN runs bf16 GEMMs several times faster than fp32 there; the
fastest CPU path measured) and on GPUs, fp16 on GPUs. With AVX-512 BF16 but no AMX it is about 1.7x
fp32, behind int8 (sentiment/MODEL.md, "Speed and memory"). int8 (`sentiment/int8.py`) is a CPU
path of its own, in fp32 around the int8 GEMMs, so it combines with neither a GPU nor a lower
precision.
"""

from __future__ import annotations

import torch

# torch's own probes (private, hence looked up with a fallback): hardware bf16 on this CPU
_BF16_PROBES = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")

DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def torch_build() -> str:
    """What this torch was built for, for error messages."""
    return f"torch {torch.__version__}, " + (f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only")


def resolve_device(name: str, *, int8: bool = False) -> torch.device:
    """The torch device for a setting; ValueError with the reason when it cannot be used here.

    "auto" is the first CUDA device when torch sees one and int8 is off, else the CPU.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() and not int8 else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}: {exc}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: torch sees no CUDA device ({torch_build()})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: torch sees {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r}: the MPS backend is not available ({torch_build()})")
    if int8 and device.type != "cpu":
        raise ValueError(f"int8 runs on the CPU only (torch dynamic quantization), not on {name!r}")
    return device


def resolve_dtype(precision: str, *, int8: bool = False) -> torch.dtype:
    if precision not in DTYPES:
        raise ValueError(f"unknown precision {precision!r}: choose one of {', '.join(DTYPES)}")
    if int8 and precision != "fp32":
        raise ValueError(f"int8 keeps fp32 around its int8 GEMMs; it does not combine with precision {precision!r}")
    return DTYPES[precision]


def slow_precision_warning(device: torch.device, precision: str) -> str | None:
    """Why a precision will run slower than fp32 here, if it will: no hardware for it on this CPU."""
    if device.type != "cpu" or precision == "fp32":
        return None
    probes = [getattr(torch.cpu, name, None) for name in _BF16_PROBES]
    if precision == "bf16" and all(p is not None for p in probes) and not any(p() for p in probes if p is not None):
        return "this CPU has neither AMX nor AVX-512 BF16: bf16 is emulated and slower than fp32"
    if precision == "fp16" and not getattr(torch.cpu, "_is_amx_fp16_supported", lambda: False)():
        return "without AMX-FP16 a CPU runs fp16 at about fp32's speed; bf16 is the CPU's fast precision"
    return None


def version_tag(precision: str) -> bytes:
    """What goes into the model version for a lower precision (fp32 adds nothing: versions stay)."""
    return b"" if precision == "fp32" else f"precision-{precision}".encode()


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer reads the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
