"""`reviewwatch perceived --input FILE.jsonl`: bad input, and end to end with the real model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reviewwatch.cli import cli


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n",
        encoding="utf-8",
    )
    return path


def test_every_bad_line_is_named_and_nothing_is_estimated(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    config = write_config(f'data_dir = "{tmp_path / "data"}"\n')
    bad = jsonl(tmp_path / "in.jsonl", [
        {"text": "Fine.", "rating": 4},
        "not json",
        {"text": ""},
        {"text": "ok", "rating": 7},
        {"text": "ok", "rating": True},
        {"text": "ok", "topics": "service"},
        ["a list"],
        {"text": "ok", "rating": 2, "rating_scale": 1},
    ])
    result = run(config, "perceived", "--input", str(bad))
    assert result.exit_code == 2
    for number, reason in [(2, "not JSON"), (3, "missing text"), (4, "rating 7 is outside 1..5"),
                           (5, "rating must be a number"), (6, "topics must be a list"),
                           (7, "not a JSON object"), (8, "rating_scale must be above 1")]:
        assert f"in.jsonl:{number}: {reason}" in result.output
    assert "in.jsonl:1:" not in result.output and "7 bad line(s)" in result.output
    assert not (tmp_path / "data" / "models").exists()  # refused before the model is loaded

    missing = run(config, "perceived", "--input", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    empty = run(config, "perceived", "--input", str(jsonl(tmp_path / "empty.jsonl", [""])))
    assert empty.exit_code == 2 and "no texts" in empty.output
    calibration = jsonl(tmp_path / "cal.jsonl", [{"text": "no label here"}])
    good = jsonl(tmp_path / "good.jsonl", [{"text": "Fine."}])
    refused = run(config, "perceived", "--input", str(good), "--calibration", str(calibration))
    assert refused.exit_code == 2 and "cal.jsonl:1: a calibration line needs" in refused.output


@pytest.mark.slow
def test_perceived_end_to_end_with_the_real_model(
    tmp_path: Path, real_data_dir: Path, write_config: Callable[..., Path]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(real_data_dir / "models")
    config = write_config(f'data_dir = "{data}"\n')
    texts = jsonl(tmp_path / "in.jsonl", [
        {"text": "Wonderful stay, spotless room and kind staff.", "rating": 5},
        {"text": "Décevant : chambre sale et personnel désagréable.", "rating": 1},
        {"text": "It was fine, nothing special.", "rating": 6, "rating_scale": 10},
        {"text": "Das Bad war schmutzig und niemand kam.", "topics": ["cleanliness"]},
        {"text": "Great staff, friendly and fast!"},
        {"text": "We waited 35 minutes at check-in."},
    ])
    result = run(config, "perceived", "--input", str(texts), "--no-progress")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["n"], body["labelled"], body["quantified"]) == (6, 3, 3)
    assert (body["method"], body["calibration"]) == ("PCC", "held-out")  # 3 rated: too few
    assert "shipped held-out data" in body["method_description"]
    values = [body[f"{label}_share"] for label in ("negative", "neutral", "positive")]
    assert sum(v["value"] for v in values) == pytest.approx(1.0, abs=1e-5)
    for v in values:
        assert 0 <= v["low"] <= v["value"] <= v["high"] <= 1
    # at least the rated ones: one of six each way (the interval resamples them, so may not)
    assert body["positive_share"]["value"] >= 1 / 6 - 1e-6
    assert body["negative_share"]["value"] >= 1 / 6 - 1e-6

    # a calibration file too small to measure the model's errors: the share is left open
    calibration = jsonl(tmp_path / "cal.jsonl", [
        {"text": "Lovely!", "label": "positive"}, {"text": "Awful.", "rating": 1},
    ])
    result = run(config, "perceived", "--input", str(texts), "--calibration", str(calibration),
                 "--no-progress")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["calibration"], body["calibration_n"], body["reliable"]) == ("file", 2, False)
    assert "too few calibration examples" in body["note"]
    # three of six unlabelled: each share may be anything they allow
    assert body["positive_share"]["high"] == pytest.approx(4 / 6, abs=1e-6)
    assert body["neutral_share"]["low"] == pytest.approx(1 / 6, abs=1e-6)


def test_the_file_calibrates_on_its_own_rated_lines_when_there_are_enough() -> None:
    """The command's estimator without the model: 120 rated lines (40 of each rating class)
    calibrate it themselves; 60 do not (under gap.share_min_labelled, 100)."""
    import numpy as np

    from reviewwatch.commands.perceived import Line, estimate
    from storage.labels import RatingRule

    rng = np.random.default_rng(0)

    def lines(n_each: int, unrated: int) -> tuple[list[Line], np.ndarray]:
        rated = [Line(i, "t", r, None, None) for i, r in enumerate([0.0, 0.5, 1.0] * n_each)]
        rows = [np.roll([0.7, 0.2, 0.1], k) for k in [0, 1, 2] * n_each]
        rest = [Line(1000 + i, "t", None, None, None) for i in range(unrated)]
        rows += [rng.dirichlet([1, 1, 1]) for _ in range(unrated)]
        return rated + rest, np.array(rows)

    rule = RatingRule()
    own = estimate(*lines(40, 30), None, "auto", 100, rule)
    assert (own["calibration"], own["method"], own["calibration_n"]) == ("own", "EMQ-BCTS", 120)
    assert (own["labelled"], own["quantified"]) == (120, 30)
    shipped = estimate(*lines(20, 30), None, "auto", 100, rule)
    assert (shipped["calibration"], shipped["method"]) == ("held-out", "PCC")
    # with ratings switched off, rated lines are quantified like the others
    off = estimate(*lines(20, 30), None, "auto", 100, RatingRule(ratings_decide=False))
    assert (off["labelled"], off["quantified"]) == (0, 90)


def test_long_unrated_lines_leave_their_part_of_the_held_out_interval_open() -> None:
    """`reviewwatch perceived`'s estimator with the shipped calibration: unrated lines longer
    than its texts are counted, their part of the interval left open, and the JSON says how many."""
    import numpy as np

    from reviewwatch.commands.perceived import Line, estimate
    from reviewwatch.gap.shares import shipped_calibration
    from storage.labels import RatingRule

    limit = shipped_calibration().max_chars or 0
    probs = np.tile([0.1, 0.2, 0.7], (40, 1))

    def run(length: int) -> dict[str, Any]:
        lines = [Line(i, "x" * length, None, None, None) for i in range(40)]
        return estimate(lines, probs, None, "auto", 100, RatingRule())

    short, long = run(limit), run(limit + 1)
    assert (short["beyond_calibration"], long["beyond_calibration"]) == (0, 40)
    assert short["note"] is None and "40 unlabelled mention(s) longer" in str(long["note"])
    # all forty could be of any class: the interval spans the scale
    assert (long["positive_share"]["low"], long["positive_share"]["high"]) == (0.0, 1.0)
    assert long["positive_share"]["value"] == short["positive_share"]["value"]
    assert short["positive_share"]["high"] - short["positive_share"]["low"] < 0.5
