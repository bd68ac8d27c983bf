"""Weight averaging of LoRA adapters: the exact mean update, its SVD truncation, and its use in training."""

from __future__ import annotations

import json

import pytest
import torch

from sentiment.weight_average import average_lora, average_tensors

KEY_A = "base_model.model.encoder.layer.0.attention.self.query.lora_A.default.weight"
KEY_B = KEY_A.replace("lora_A", "lora_B")


def _states(k: int, r: int, d_in: int = 12, d_out: int = 10, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [{KEY_A: torch.randn(r, d_in, generator=g), KEY_B: torch.randn(d_out, r, generator=g)}
            for _ in range(k)]


def _update(state):
    return state[KEY_B] @ state[KEY_A]


def test_exact_average_is_the_mean_of_the_updates_not_of_the_factors():
    states = _states(3, 2)
    mean_update = sum(_update(s) for s in states) / 3
    exact = average_lora(states)
    assert exact[KEY_A].shape == (6, 12) and exact[KEY_B].shape == (10, 6)
    torch.testing.assert_close(_update(exact), mean_update)
    factor_mean = average_tensors(states)  # what averaging A and B separately would give
    assert (_update(factor_mean) - mean_update).abs().max() > 0.1


def test_truncated_average_is_the_best_low_rank_approximation():
    states = _states(3, 2)
    mean_update = sum(_update(s) for s in states) / 3
    full = average_lora(states, rank=6)  # rank of the mean is at most 6: truncation loses nothing
    torch.testing.assert_close(_update(full), mean_update, atol=1e-4, rtol=1e-4)
    low = average_lora(states, rank=2)
    assert low[KEY_A].shape == (2, 12) and low[KEY_B].shape == (10, 2)
    sv = torch.linalg.svdvals(mean_update)
    err = torch.linalg.matrix_norm(_update(low) - mean_update)  # Frobenius
    torch.testing.assert_close(err, sv[2:].square().sum().sqrt(), atol=1e-4, rtol=1e-4)


def test_identical_adapters_average_to_themselves():
    s = _states(1, 3)[0]
    avg = average_lora([s, s], rank=3)
    torch.testing.assert_close(_update(avg), _update(s), atol=1e-4, rtol=1e-4)


def test_unpaired_or_empty_states_are_refused():
    with pytest.raises(ValueError, match="no adapter"):
        average_lora([])
    with pytest.raises(ValueError, match="A/B pair"):
        average_lora([{KEY_B: torch.zeros(2, 2)}])


def test_training_tries_the_average_of_the_last_epochs(tiny_model, tmp_path):
    from sentiment.train import TrainConfig, run_training
    from tests.sentiment.conftest import tiny_examples

    cfg = TrainConfig(model_path=str(tiny_model), out_dir=tmp_path / "w", work_dir=tmp_path / "work",
                      epochs=4, batch_size=8, lr=1e-2, head_lr=5e-2, max_length=32, seed=13, threads=1,
                      base_model=str(tiny_model), ckpt_every=1000, average_last=3)
    ex = tiny_examples()
    run_training(cfg, ex, ex[:12], resume=False)
    assert sorted(p.name for p in (tmp_path / "work").glob("epoch*.pt")) == [
        "epoch1.pt", "epoch2.pt", "epoch3.pt", "epoch4.pt"]
    meta = json.loads((tmp_path / "w" / "heads.json").read_text())
    rec = meta["train"]["averaging"]
    assert rec["epochs"] == [2, 3, 4] and rec["rank"] == cfg.lora_r
    assert rec["kept"] == (rec["dev"]["score"] > rec["best_single_dev_score"])
    if rec["kept"]:
        assert meta["dev"] == rec["dev"]
    else:
        assert meta["dev"]["score"] == rec["best_single_dev_score"]


def test_a_soup_of_two_weights_directories_is_their_mean_update_and_mean_heads(tmp_path):
    """`sentiment.soup` on the shipped weights and a copy whose update and heads are scaled by
    3: the soup's update and heads are twice the shipped ones, in the keys the trainer loads."""
    import shutil

    from safetensors.torch import load_file, save_file

    from sentiment.scorer import SHIPPED_WEIGHTS
    from sentiment.soup import ADAPTER_FILE, HEADS_FILE, read_weights, soup

    other = tmp_path / "other"
    shutil.copytree(SHIPPED_WEIGHTS, other)
    adapter = load_file(str(other / ADAPTER_FILE))
    save_file({k: v * 3 if "lora_B" in k else v for k, v in adapter.items()}, str(other / ADAPTER_FILE))
    save_file({k: v * 3 for k, v in load_file(str(other / HEADS_FILE)).items()}, str(other / HEADS_FILE))
    best = soup([SHIPPED_WEIGHTS, other], tmp_path / "work")
    made = torch.load(best, weights_only=True, map_location="cpu")
    shipped, heads, _ = read_weights(SHIPPED_WEIGHTS)
    assert set(made["lora"]) == set(shipped) and all(".default." in k for k in shipped)
    for a_key in (k for k in shipped if "lora_A" in k):
        b_key = a_key.replace("lora_A", "lora_B")
        assert made["lora"][a_key].shape == shipped[a_key].shape  # the rank kept
        want = 2 * shipped[b_key].float() @ shipped[a_key].float()
        got = made["lora"][b_key] @ made["lora"][a_key]
        assert torch.allclose(got, want, atol=1e-4 * want.abs().max().item()), a_key
    for key, value in heads.items():
        assert torch.allclose(made["heads"][key], 2 * value.float(), atol=1e-6), key
