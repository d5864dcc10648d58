"""benchmarks/temporal_cue.py: registration removes the camera's motion, so still texture has no activity
and moving texture has; the far sea is the first rows of sea; repeated frames are counted."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("temporal_cue")
    finally:
        sys.path.remove(str(BENCHMARKS))


def texture(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.normal(0.5, 0.2, (height, width)).astype(np.float32), (0, 0), 2.0)


def test_still_texture_under_a_moving_camera_has_no_activity_and_moving_texture_has(bench) -> None:
    scene = texture(140, 180, 0)
    window = []
    for k in range(5):  # the camera pans 1.5 px a frame; the lower half's texture changes every frame
        frame = np.roll(scene, shift=3 * k // 2, axis=1)[10:130, 10:170].copy()
        frame[70:] = texture(140, 180, 10 + k)[70:120, :160]
        window.append(frame)
    act = bench.activity(window, 2)
    still, moving = np.median(act[10:60, 10:150]), np.median(act[80:, 10:150])
    unregistered = np.stack(window)[:, 10:60, 10:150].std(axis=0).mean()
    assert still < 0.25 * unregistered  # the pan is registered away (the moving half pulls ECC a little)
    assert moving > 10 * still


def test_far_sea_is_the_first_rows_of_sea_in_each_column(bench) -> None:
    truth = np.zeros((10, 3), bool)
    truth[4:, 0], truth[7:, 1] = True, True  # column 2 has no sea
    far = bench.far_sea(truth, 2)
    assert far[:, 0].nonzero()[0].tolist() == [4, 5] and far[:, 1].nonzero()[0].tolist() == [7, 8]
    assert not far[:, 2].any()


def test_repeats_counts_frames_equal_to_the_one_before(bench, tmp_path: Path) -> None:
    a, b = (texture(40, 48, 1) * 255).astype(np.uint8), (texture(40, 48, 9) * 255).astype(np.uint8)
    for i, image in enumerate([a, a, b, b, b, a]):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), image)
    assert bench.repeats(tmp_path) == (3, 5)
