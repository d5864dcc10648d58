"""benchmarks/camera_pipelines.py: every pipeline keeps the frame's size and 8 bits; the label-free real
scores compare a model with itself (as recorded: full agreement) and see a pipeline that moves it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from seaSky.horizon import HorizonLine
from seaSky.inference import Prediction

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "camera_pipelines.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("camera_pipelines", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["camera_pipelines"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("camera_pipelines", None)


def frame(height: int = 48, width: int = 64) -> np.ndarray:
    """Sky (bright, a gradient) above sea (dark, noisy) at row 20."""
    rng = np.random.default_rng(0)
    image = np.where(np.arange(height)[:, None] < 20, 200 - np.arange(height)[:, None], 60.0)
    return np.clip(image + rng.normal(0, 6, (height, width)), 0, 255).astype(np.uint8)


def test_pipelines_keep_size_and_8_bits(bench) -> None:
    image = frame(240, 320)  # larger than the 160x120 sensor, so that one loses detail
    for name, pipeline in bench.PIPELINES.items():
        out = pipeline(image)
        assert out.shape == image.shape and out.dtype == np.uint8, name
        assert np.array_equal(out, image) == (name == "as recorded"), name


def test_to_8bit_keeps_8_bit_values_and_scales_16_bit(bench) -> None:
    eight = frame().astype(np.float32)
    assert np.array_equal(bench.to_8bit(eight), eight.astype(np.uint8))
    sixteen = np.array([[1000.0, 3000.0], [2000.0, 5000.0]], np.float32)
    assert bench.to_8bit(sixteen).tolist() == [[0, 127], [63, 255]]


class DarkIsSea:
    """A stand-in model: sea where the frame is darker than its mean (so equalisation can move it)."""

    def predict(self, images):
        out = []
        for image in images:
            mask = (image < image.mean()).astype(np.uint8)
            out.append(Prediction(mask, mask.astype(np.float32), None))
        return out


def test_real_scores_agree_with_the_frame_as_recorded(bench) -> None:
    scores = bench.real_scores(DarkIsSea(), [frame(), frame()[:, ::-1].copy()])
    assert scores["as recorded"] == {"agree_median": 1.0, "agree_min": 1.0, "dy_median": 0.0, "n_moved": 0}
    assert scores["black-hot"]["agree_median"] < 0.1  # dark and bright swap: the stand-in flips its mask


class FirstBrightRow:
    """A stand-in model with a horizon: sea below the first row brighter than 128 (none: no horizon)."""

    def predict(self, images):
        out = []
        for image in images:
            rows = np.nonzero(image.mean(axis=1) > 128)[0]
            mask = np.zeros(image.shape, np.uint8)
            line = None
            if rows.size:
                mask[rows[0] :] = 1
                h, w = image.shape
                line = HorizonLine(rows[0] - 0.5, rows[0] - 0.5, w, h)
            out.append(Prediction(mask, mask.astype(np.float32), line))
        return out


def test_real_scores_measure_how_far_the_horizon_moves(bench, monkeypatch) -> None:
    sea_at = lambda row: np.where(np.arange(48)[:, None] >= row, 200, 60).repeat(64, axis=1).astype(np.uint8)  # noqa: E731
    frames = [sea_at(20), sea_at(30)]
    monkeypatch.setattr(bench, "PIPELINES", {
        "as recorded": lambda image: image,
        "shifted 8 rows": lambda image: np.roll(image, -8, axis=0),  # the first bright row moves up 8
        "black-hot": lambda image: 255 - image,  # bright from the top: the sea starts at row 0
        "dark": lambda image: (image * 0.5).astype(np.uint8),  # nothing above 128: no horizon
    })  # fmt: skip
    scores = bench.real_scores(FirstBrightRow(), frames)
    assert scores["as recorded"]["n_moved"] == 0 and scores["as recorded"]["dy_median"] == 0.0
    assert scores["shifted 8 rows"]["dy_median"] == 8.0 and scores["shifted 8 rows"]["n_moved"] == 2
    assert scores["black-hot"]["dy_median"] == 25.0  # 20 and 30 rows up
    assert scores["dark"]["dy_median"] == np.inf and scores["dark"]["n_moved"] == 2  # lost: moved
