"""Where and in which precision the encoder runs: `sentiment.device`, `sentiment.precision`.

This machine has no GPU, so the CUDA paths are checked for their refusals; the lower precisions run
for real on the CPU (bf16 is the fast one on CPUs with AMX; fp16 runs there too, slowly).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sentiment.settings import SentimentSettings
from tests.sentiment.test_sentiment import _cli, _settings

TEXTS = ["the food was great", "the staff were rude", "the place was okay", "le service très bon"]


def _gpu() -> bool:
    import torch

    return torch.cuda.is_available()


no_gpu = pytest.mark.skipif(_gpu(), reason="checks the refusals where torch sees no GPU")


def test_settings_refuse_unknown_devices_and_precisions():
    assert SentimentSettings().device == "auto" and SentimentSettings().precision == "auto"
    for ok in ("cpu", "cuda", "cuda:1", "mps", "auto"):
        assert SentimentSettings(device=ok).device == ok
    for bad in ("gpu", "cuda:x", "CPU", "cuda:0;rm"):
        with pytest.raises(ValidationError, match="device"):
            SentimentSettings(device=bad)
    with pytest.raises(ValidationError, match="precision"):
        SentimentSettings(precision="int4")


def test_auto_is_the_gpu_when_torch_sees_one_and_int8_is_off():
    import torch

    from sentiment.device import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("auto", int8=True).type == "cpu"  # int8 is a CPU path
    assert resolve_device("cpu").type == "cpu"


@no_gpu
def test_a_missing_gpu_is_refused_with_the_reason(tiny_model, tiny_weights):
    from sentiment.device import resolve_device
    from sentiment.scorer import ModelError, load_scorer

    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        resolve_device("cuda:0")
    with pytest.raises(ModelError, match=r"sentiment.device = 'cuda'.*no CUDA device"):
        load_scorer(_settings(tiny_model, tiny_weights, device="cuda"))


def test_int8_combines_with_neither_a_gpu_nor_a_lower_precision(tiny_model, tiny_weights):
    from sentiment.device import resolve_device, resolve_dtype
    from sentiment.scorer import ModelError, load_scorer

    with pytest.raises(ModelError, match="does not combine with precision 'bf16'"):
        load_scorer(_settings(tiny_model, tiny_weights, int8=True, precision="bf16"))
    with pytest.raises(ValueError, match="int8 runs on the CPU only|no CUDA device"):
        resolve_device("cuda", int8=True)
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_dtype("fp8")


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_a_lower_precision_scores_close_to_fp32_under_its_own_version(tiny_model, tiny_weights, precision):
    import torch

    from sentiment.device import DTYPES
    from sentiment.scorer import load_scorer

    fp32 = load_scorer(_settings(tiny_model, tiny_weights))
    low = load_scorer(_settings(tiny_model, tiny_weights, precision=precision, device="cpu"))
    assert {p.dtype for p in low.model.parameters()} == {DTYPES[precision]}
    assert low.runtime == f"cpu, {precision}"  # what the progress line of `reviewwatch score` names
    assert {p.dtype for p in low.heads.parameters()} == {torch.float32}  # the heads stay fp32
    # the precision is part of the model version; the device is not (fp32 is fp32 anywhere)
    assert low.model_version != fp32.model_version
    assert load_scorer(_settings(tiny_model, tiny_weights, device="cpu")).model_version == fp32.model_version
    a, b = fp32.score(TEXTS), low.score(TEXTS)
    for x, y in zip(a, b, strict=True):
        for label, p in x.probabilities.items():
            assert abs(p - y.probabilities[label]) < 0.05, (precision, x, y)
        assert set(y.topic_scores) == set(x.topic_scores)
    emb32, emb_low = fp32.embed(TEXTS), low.embed(TEXTS)
    assert emb_low.dtype == torch.float32  # pooled in fp32 whatever the encoder's precision
    cos = torch.nn.functional.cosine_similarity(emb32, emb_low, dim=-1)
    assert cos.min().item() > 0.99, cos.tolist()


@no_gpu
def test_train_refuses_a_missing_gpu_before_any_work(tmp_path, tiny_model, tiny_weights):
    from tests.sentiment.conftest import TRAIN_ROWS, write_jsonl

    f = write_jsonl(tmp_path / "labelled.jsonl",
                    [{"id": f"x{i}", "text": t, "label": lab} for i, (t, lab, _) in enumerate(TRAIN_ROWS)])
    res = _cli(tmp_path, tiny_model, tiny_weights, "train", str(f), "--out", str(tmp_path / "heads"),
               "--work-dir", str(tmp_path / "work"), "--device", "cuda")
    assert res.exit_code == 2 and "--device: device 'cuda': torch sees no CUDA device" in res.output
    assert not (tmp_path / "work").exists() and not (tmp_path / "heads").exists()


def test_a_precision_without_hardware_support_is_named(monkeypatch):
    import torch

    from sentiment.device import slow_precision_warning

    cpu = torch.device("cpu")
    assert slow_precision_warning(cpu, "fp32") is None
    assert slow_precision_warning(torch.device("cuda"), "fp16") is None  # GPUs have fp16 units
    # the probes are torch's; a CPU without AMX and AVX-512 BF16 cannot be had here, so they are set
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert "emulated and slower than fp32" in slow_precision_warning(cpu, "bf16")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert slow_precision_warning(cpu, "bf16") is None
