"""Predict on mixed real-world inputs; the Predictor API."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import run_cli, write_scene
from seaSky.errors import CheckpointError
from seaSky.inference import Predictor


@pytest.fixture
def checkpoint(tiny_checkpoint: Path) -> Path:
    return tiny_checkpoint


def _mixed_folder(root: Path) -> Path:
    """8-bit PNG 48x64, 16-bit PNG 67x71, 8-bit TIFF 96x120, 16-bit TIFF 40x40, one corrupt PNG, one text."""
    write_scene(root, root / "_masks", "a_png8", size=(48, 64), bits=8, seed=1)
    write_scene(root, root / "_masks", "b_png16", size=(67, 71), bits=16, seed=2)
    write_scene(root, root / "_masks", "c_tif8", size=(96, 120), bits=8, suffix=".tif", seed=3)
    write_scene(root, root / "_masks", "d_tif16", size=(40, 40), bits=16, suffix=".tiff", seed=4)
    (root / "e_corrupt.png").write_bytes(b"\x89PNG broken")
    (root / "notes.txt").write_text("not an image")
    return root


def test_predict_cli_on_mixed_folder(tmp_path: Path, checkpoint: Path) -> None:
    frames = _mixed_folder(tmp_path / "frames")
    out = tmp_path / "out"
    done = run_cli(
        "predict", f"ckpt_path={checkpoint}", f"input={frames}", f"output_dir={out}", "batch_size=2"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "e_corrupt.png: cannot be read as an image" in done.stdout + done.stderr
    sizes = {"a_png8": (48, 64), "b_png16": (67, 71), "c_tif8": (96, 120), "d_tif16": (40, 40)}
    for stem, size in sizes.items():
        mask = cv2.imread(str(out / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == size and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) <= {0, 255}
        overlay = cv2.imread(str(out / "overlays" / f"{stem}.png"))
        assert overlay.shape == (*size, 3)
    assert not (out / "masks" / "e_corrupt.png").exists()
    with open(out / "horizon.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["stem"] for r in rows] == list(sizes)
    assert list(rows[0]) == ["stem", "y_left", "y_right", "angle_deg", "confidence"]
    for row in rows:  # a line in the frame, or all empty
        values = [row["y_left"], row["y_right"], row["angle_deg"], row["confidence"]]
        assert all(values) or not any(values)


def test_predictor_returns_full_size_results(checkpoint: Path) -> None:
    predictor = Predictor.from_checkpoint(checkpoint)
    assert predictor.image_size == (32, 40)
    frames = [np.random.default_rng(0).integers(0, 16383, (67, 71)).astype(np.float32), np.zeros((30, 50))]
    results = predictor.predict(frames)
    assert [r.mask.shape for r in results] == [(67, 71), (30, 50)]
    assert all(r.prob.min() >= 0.0 and r.prob.max() <= 1.0 for r in results)
    assert all(np.array_equal(r.mask, (r.prob > predictor.threshold).astype(np.uint8)) for r in results)


def test_missing_or_corrupt_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nope.ckpt: checkpoint not found"):
        Predictor.from_checkpoint(tmp_path / "nope.ckpt")
    (tmp_path / "bad.ckpt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="bad.ckpt: not a readable checkpoint") as err:
        Predictor.from_checkpoint(tmp_path / "bad.ckpt")
    assert "weights_only" not in str(err.value)  # not torch's advice to load a damaged file unsafely
    (tmp_path / "folder.ckpt").mkdir()
    with pytest.raises(CheckpointError, match="folder.ckpt: is a folder, not a checkpoint file"):
        Predictor.from_checkpoint(tmp_path / "folder.ckpt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match=r"foreign.ckpt: not a seaSky checkpoint \(no state_dict"):
        Predictor.from_checkpoint(tmp_path / "foreign.ckpt")


def test_the_pretrained_model_is_shipped_and_is_the_default(tmp_path: Path) -> None:
    from seaSky.pretrained import PRETRAINED_CKPT

    assert PRETRAINED_CKPT.is_file() and PRETRAINED_CKPT.stat().st_size <= 10 * 2**20
    predictor = Predictor.from_checkpoint(None)
    assert predictor.module.num_parameters > 100_000
    frames = _mixed_folder(tmp_path / "frames")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "seaSky.predict", f"input={frames / 'c_tif8.tif'}", f"output_dir={out}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert cv2.imread(str(out / "masks" / "c_tif8.png"), cv2.IMREAD_UNCHANGED).shape == (96, 120)


@pytest.mark.parametrize("size", [(45, 70), (20, 25), (32, 40)])  # shrink, enlarge, as is
def test_prediction_preprocesses_frames_as_training_does(tmp_path: Path, size: tuple[int, int]) -> None:
    from seaSky.data.folder import Sample, load_split, read_image
    from seaSky.model.module import SeaSkyModule

    write_scene(tmp_path / "images", tmp_path / "masks", "f", size=size, bits=16, seed=5)
    normalize = {"mode": "percentile", "low": 2.0, "high": 98.0}
    sample = Sample("f", tmp_path / "images" / "f.png", tmp_path / "masks" / "f.png")
    images, _, sizes, problems = load_split([sample], (32, 40), normalize)
    assert not problems and tuple(sizes[0]) == size
    predictor = Predictor(SeaSkyModule(depth=2, base_channels=4), (32, 40), normalize)
    assert np.array_equal(predictor.preprocess(read_image(sample.image_path)), images[0])
