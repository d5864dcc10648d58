"""The realism and real-dev benchmarks measure what they say: statistics of frames with a known horizon
step, sky gradient and texture direction; dev scores of known lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from seaSky.horizon import HorizonLine

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


real_dev = _load("real_dev")  # first: realism imports it
realism = _load("realism")


def _frame(step: float, streaks: bool, seed: int = 0) -> np.ndarray:
    """96x128 frame, horizon at row 48: a sky brightening by 0.5 a row, sea below it `step` brighter than
    the sky's last row, noise sigma 2; sea texture as horizontal streaks or round blotches."""
    rng = np.random.default_rng(seed)
    rows = np.arange(96, dtype=np.float32)[:, None]
    image = np.broadcast_to(60 + 0.5 * rows, (96, 128)).copy()
    texture = rng.normal(0, 1, (96, 128)).astype(np.float32)
    texture = cv2.GaussianBlur(texture, (0, 0), sigmaX=8 if streaks else 2, sigmaY=0.7 if streaks else 2)
    sea = np.arange(96)[:, None] >= 48
    image = np.where(sea, 60 + 0.5 * 47 + step + 40 * texture, image)
    return np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.float32)


def test_frame_stats_measure_the_step_the_gradient_and_the_streaks() -> None:
    faint, strong = (
        realism.frame_stats(_frame(2, True), 47.5, 47.5),
        realism.frame_stats(_frame(60, True), 47.5, 47.5),
    )
    assert faint is not None and strong is not None
    assert faint["horizon_step"] < 3 < 20 < strong["horizon_step"]  # in noise units (sigma 2)
    assert 2 < faint["sky_gradient"] < 4  # ten rows at 0.5 a row: 5 grey levels, 2.5 sigma
    blotches = realism.frame_stats(_frame(2, False), 47.5, 47.5)
    assert faint["sea_anisotropy"] > 3 * blotches["sea_anisotropy"]  # horizontal streaks
    assert 0.5 < blotches["sea_anisotropy"] < 2
    assert realism.frame_stats(_frame(2, True)[:40], 35.0, 35.0) is None  # too little sea in view
    frame = _frame(60, True)
    squeezed = 100 + 0.25 * (frame - frame.min())  # the same scene in a quarter of the grey range
    span = realism.frame_stats(squeezed, 47.5, 47.5)["grey_span"]
    assert abs(span - 0.25 * strong["grey_span"]) < 1e-3 and strong["grey_span"] > 60


def test_dev_scores_measure_each_frame_at_its_own_size(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(tmp_path / "images" / f"{name}.png"), np.zeros((100, 200), np.uint8))
    (tmp_path / "frames.csv").write_text(
        "file,kind\nimages/a.png,open_sea_horizon\nimages/b.png,coast_waterline\n"
    )
    (tmp_path / "lines.csv").write_text(
        "file,x1,y1,x2,y2\nimages/a.png,0,40,199,40\nimages/b.png,0,50,199,60\n"
    )
    labels = real_dev.dev_labels(tmp_path)
    assert labels[1]["line"].centre_y == pytest.approx(55.0)

    class Result:
        def __init__(self, horizon):
            self.horizon = horizon

    class Stub:  # a's line 1 px low, b's lost
        def predict(self, images):
            return [Result(HorizonLine(41.0, 41.0, 200, 100)), Result(None)]

    scores = real_dev.dev_scores(Stub(), labels)
    assert scores["per_frame"] == {"images/a.png": pytest.approx(1.0), "images/b.png": float("inf")}
    assert scores["within_2px"] == 0.5 and scores["lost"] == 1 and scores["median"] == float("inf")
    assert scores["per_kind"]["open_sea_horizon"] == pytest.approx(1.0)


def test_water_crops_lie_below_the_waterline_and_are_scored_as_all_sea(tmp_path: Path) -> None:
    frame = np.zeros((200, 320), np.uint8)
    frame[:60] = 200  # sky and coast above the waterline (y 50-60), water below
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f_{i}.png"), frame)
    lines = tmp_path / "lines.csv"
    lines.write_text("file,x1,y1,x2,y2\n" + "".join(f"images/f_{i}.png,0,50,319,60\n" for i in range(3)))
    crops = real_dev.water_crops(tmp_path, lines, every=2)
    assert len(crops) == 4  # frames 0 and 2, a left and a right crop each
    height = 200 - (60 + real_dev.WATER_MARGIN_PX)
    assert all(c.shape == (height, round(1.25 * height)) and c.max() == 0 for c in crops)

    class Result:
        def __init__(self, mask, horizon):
            self.mask, self.horizon = mask, horizon

    class Stub:  # the first crop's top quarter called not-sea, with a horizon; the rest all sea
        def predict(self, images):
            first = np.ones(images[0].shape, np.uint8)
            first[: images[0].shape[0] // 4] = 0
            rest = [Result(np.ones(c.shape, np.uint8), None) for c in images[1:]]
            return [Result(first, HorizonLine(10.0, 10.0, 2, 2)), *rest]

    scores = real_dev.water_scores(Stub(), crops)
    assert scores["sea_min"] == pytest.approx(0.75, abs=0.01) and scores["with_horizon"] == 0.25
    assert scores["sea_mean"] == pytest.approx((3 + scores["sea_min"]) / 4)
