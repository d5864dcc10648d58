"""python -m seaSky.evaluate on folder data sets, with and without horizon ground truth."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch

from conftest import TINY, make_cfg, write_scene
from seaSky.breakdown import error_breakdown
from seaSky.callbacks import PerImageScores
from seaSky.render.dataset import write_dataset
from seaSky.train import train


def _evaluate(checkpoint: Path, root: Path, run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seaSky.evaluate", f"ckpt_path={checkpoint}", "data=folder",
         f"data.root={root}", f"hydra.run.dir={run_dir}", "n_worst=3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_evaluate_a_folder_without_horizon_truth(tmp_path: Path, tiny_checkpoint: Path) -> None:
    root = tmp_path / "frames"
    for i in range(20):
        write_scene(root / "images", root / "masks", f"f{i:02d}", size=(48, 60), seed=i)
    done = _evaluate(tiny_checkpoint, root, tmp_path / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert {"test/dice", "test/acc", "test/iou", "test/loss"} <= set(results)
    assert 0.0 <= results["test/dice"] <= 1.0 and 0.0 < results["test/acc"] <= 1.0
    assert not any(key.startswith("test/horizon") for key in results)
    with open(tmp_path / "run" / "per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == results["n_images"] == 2  # the seeded 80/10/10 split of 20
    assert cv2.imread(str(tmp_path / "run" / "worst.png")) is not None
    assert not (tmp_path / "run" / "breakdown.csv").exists()  # no meta.csv: no scene kinds


def test_evaluate_reports_horizon_errors_from_meta(tmp_path: Path, tiny_checkpoint: Path) -> None:
    root = write_dataset(tmp_path / "scenes", n=30, seed=3, width=80, height=64, workers=1, progress=False)
    done = _evaluate(tiny_checkpoint, root, tmp_path / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    counts = ("n_ok", "n_missed", "n_false", "n_both_none")
    assert sum(results[f"test/horizon_{k}"] for k in counts) == results["n_images"] == 3
    with open(tmp_path / "run" / "per_image.csv") as f:
        assert all(row["horizon_status"] for row in csv.DictReader(f))
    with open(tmp_path / "run" / "breakdown.csv") as f:
        breakdown = list(csv.DictReader(f))
    for element in ("shore", "harbour", "time_of_day"):  # every image counted once per element
        assert sum(int(r["images"]) for r in breakdown if r["element"] == element) == 3
    assert "| shore |" in (tmp_path / "run" / "breakdown.md").read_text()


def test_error_breakdown_shares_of_images_and_wrong_pixels() -> None:
    per_image = [
        {"stem": "a", "wrong_px": 90, "dice": 0.5},
        {"stem": "b", "wrong_px": 10, "dice": 0.9},
        {"stem": "c", "wrong_px": 0, "dice": 1.0},
        {"stem": "not_in_meta", "wrong_px": 1000, "dice": 0.0},
    ]
    meta = {"a": {"shore": "True", "fog": "False"}, "b": {"shore": "False", "fog": "False"},
            "c": {"shore": "False", "fog": "True"}}  # fmt: skip
    rows = {(r["element"], r["value"]): r for r in error_breakdown(per_image, meta)}
    assert set(rows) == {("shore", "True"), ("shore", "False"), ("fog", "True"), ("fog", "False")}
    assert rows["shore", "True"]["images"] == 1 and rows["shore", "True"]["wrong_px_share"] == 0.9
    assert rows["shore", "False"]["image_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert rows["shore", "False"]["mean_dice"] == pytest.approx(0.95)
    assert rows["fog", "False"]["wrong_px_share"] == 1.0 and rows["fog", "True"]["wrong_px_share"] == 0.0


def test_per_image_scores_of_sea_free_images() -> None:
    scores = PerImageScores()._scores
    empty = torch.zeros(1, 4, 5, dtype=torch.long)
    assert scores(empty, empty)["dice"] == 1.0  # all sky, predicted all sky
    assert scores(empty, empty)["iou"] == 1.0
    some = empty.clone()
    some[0, 3] = 1
    missed = scores(empty, some)
    assert missed["dice"] == 0.0 and missed["wrong_px"] == 5 and missed["acc"] == 0.75
    half = some.clone()
    half[0, 3, :2] = 0
    assert scores(half, some)["dice"] == 2 * 3 / (3 + 5)


def test_evaluate_gives_the_test_metrics_of_training(tmp_path: Path, data_dir: Path) -> None:
    # one evaluation path: the test of seaSky.train and seaSky.evaluate (its defaults, another batch size)
    # on the same checkpoint and split agree to the last digit, horizon errors included
    overrides = [*TINY, "trainer.max_epochs=2", "model.optimizer.lr=0.01"]
    trained = train(make_cfg(tmp_path / "train", data_dir, overrides))
    cache = sorted((data_dir / "synthetic").glob("40x32_16bit_n48_*"))[-1]
    done = _evaluate(trained["ckpt_best"], cache, tmp_path / "eval")
    assert done.returncode == 0, done.stderr[-2000:]
    evaluated = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert 0.0 < trained["test/dice"] < 1.0  # neither all sea nor all sky: a real comparison
    for key in ("test/dice", "test/acc", "test/iou"):
        assert evaluated[key] == trained[key], key
    for key in ("test/horizon_dy_median_px", "test/horizon_within_2px"):  # Lightning logs float32
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-6), key


@pytest.mark.slow  # a CLI run (8 s); checkpoint_path's refusal is tested in-process (test_evaluate_safety)
def test_evaluate_asks_for_a_checkpoint_not_an_onnx_file(tmp_path: Path) -> None:
    done = _evaluate(tmp_path / "model.onnx", tmp_path, tmp_path / "run")
    assert done.returncode == 2
    assert "model.onnx: evaluate needs the .ckpt of seaSky.train, not an .onnx" in done.stdout + done.stderr
