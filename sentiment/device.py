"""Where, and in which precision, the encoder runs (`sentiment.device`, `.precision`, `.int8`).

bf16 pays on CPUs with AMX (oneDNN runs bf16 GEMMs several times faster than fp32 there; the
fastest CPU path measured) and on GPUs, fp16 on GPUs. With AVX-512 BF16 but no AMX it is 1.7x fp32
on AMD's Zen 4, behind int8, and no faster than fp32 on an Intel Xeon (sentiment/MODEL.md, "Speed
and memory"). int8 (`sentiment/int8.py`) is a CPU path of its own, in fp32 around the int8 GEMMs,
so it combines with neither a GPU nor a lower precision. `precision = "auto"` (the default)
chooses among them from the hardware found at load: `choose_precision`.
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


def cpu_features() -> dict[str, bool]:
    """What torch's CPU probe found: the instruction sets the choice of precision reads."""
    get = getattr(torch.cpu, "get_capabilities", None)
    caps: dict = get() if get is not None else {}
    if not caps:  # an older torch: its private probes, one per feature
        probes = {"amx_bf16": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported",
                  "avx512_vnni": "_is_vnni_supported"}
        caps = {k: bool(getattr(torch.cpu, f, lambda: False)()) for k, f in probes.items()}
    return {k: bool(caps.get(k, False)) for k in ("amx_bf16", "avx512_bf16", "avx512_vnni")}


def choose_precision(device: torch.device, *, int8_measured: bool,
                     cpu: dict[str, bool] | None = None) -> str:
    """What `precision = "auto"` runs: "bf16", "int8" or "fp32", the fastest path that was
    measured to keep the model's quality on hardware like this (sentiment/MODEL.md, "Speed and
    memory"; docs/operations.md, "Speed").

    - A GPU with bf16 in hardware: bf16 (its tensor cores; within 0.5 points of fp32's macro-F1
      on all 13 measured sets). Without it (pre-Ampere NVIDIA), and on MPS: fp32, as nothing else
      was measured there.
    - A CPU with AMX-BF16: bf16. Measured on an AMX Xeon: 6.8x/7.4x the plain loop, int8 4.6x/4.7x.
    - A CPU with AVX-512 VNNI and no AMX: int8, if the weights carry the int8 variant chosen on dev
      for them (`heads.json`, section `int8`; the shipped weights do). Measured: AMD Zen 4 int8
      5.6x against bf16 4.9x; Zen 5 int8 7.4x/7.3x against bf16 8.2x/7.0x (a tie); an Intel Xeon
      with AVX-512 BF16 and VNNI but AMX hidden by its hypervisor: int8 about twice fp32, bf16 no
      faster than fp32 (AVX-512 BF16 on Intel does as many operations a cycle as fp32 FMA). int8
      was within 1 point of fp32 on 11 of 13 measured sets (SemEval fr -1.2, nl -1.1); where
      that matters, set `precision = "bf16"` or `"fp32"`.
    - Otherwise fp32: AVX2-only CPUs (int8 1.3x there, not worth its quality cost), CPUs without
      hardware bf16 (emulated bf16 is slower than fp32).
    """
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    if device.type != "cpu":
        return "fp32"
    f = cpu if cpu is not None else cpu_features()
    if f.get("amx_bf16"):
        return "bf16"
    if f.get("avx512_vnni") and int8_measured:
        return "int8"
    return "fp32"


def resolve_precision(precision: str, *, int8: bool, device: torch.device,
                      int8_measured: bool) -> tuple[str, bool]:
    """(floating-point precision, int8) to run: an explicit setting as given, "auto" chosen here.

    `int8 = true` is explicit too: with "auto" it runs int8 (fp32 around its GEMMs).
    """
    if precision != "auto":
        return precision, int8
    if int8:
        return "fp32", True
    chosen = choose_precision(device, int8_measured=int8_measured)
    return ("fp32", True) if chosen == "int8" else (chosen, False)


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
