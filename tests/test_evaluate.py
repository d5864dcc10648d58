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


def test_evaluate_reports_horizon_errors_from_meta(tmp_path: Path, tiny_checkpoint: Path) -> None:
    root = write_dataset(tmp_path / "scenes", n=30, seed=3, width=80, height=64, workers=1, progress=False)
    done = _evaluate(tiny_checkpoint, root, tmp_path / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    counts = ("n_ok", "n_missed", "n_false", "n_both_none")
    assert sum(results[f"test/horizon_{k}"] for k in counts) == results["n_images"] == 3
    with open(tmp_path / "run" / "per_image.csv") as f:
        assert all(row["horizon_status"] for row in csv.DictReader(f))


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


def test_evaluate_asks_for_a_checkpoint_not_an_onnx_file(tmp_path: Path) -> None:
    done = _evaluate(tmp_path / "model.onnx", tmp_path, tmp_path / "run")
    assert done.returncode == 2
    assert "model.onnx: evaluate needs the .ckpt of seaSky.train, not an .onnx" in done.stdout + done.stderr
