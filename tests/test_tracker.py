"""Tests of seaSky.tracker on hand-made horizon sequences: smoothing, outlier gating, real jumps, coasting
and loss, following a moving line; and on the shared real sequence (slow)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seaSky.errors import ConfigError
from seaSky.horizon import HorizonLine
from seaSky.tracker import HorizonTracker, TrackerConfig, step_stats, track_lines

W, H = 640, 512
SHARED_FRAMES = Path(__file__).resolve().parents[2] / "shared" / "real-ir-unlabeled"


def line_at(
    centre_y: float, angle_deg: float = 0.0, confidence: float = 0.9, width=W, height=H
) -> HorizonLine:
    """The line with this centre height and angle (positive = falls to the right)."""
    half = math.tan(math.radians(angle_deg)) * (width - 1) / 2
    return HorizonLine(centre_y - half, centre_y + half, width, height, confidence)


def noisy_lines(
    centre: np.ndarray, angle: np.ndarray | float = 0.5, noise_px=1.0, noise_deg=0.1, seed=0
) -> list[HorizonLine]:
    """Fits of a horizon at these true centre heights and angles, with Gaussian noise."""
    rng = np.random.default_rng(seed)
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), centre.shape)
    ys = centre + rng.normal(0.0, noise_px, len(centre))
    angles = angle + rng.normal(0.0, noise_deg, len(centre))
    return [line_at(y, a) for y, a in zip(ys, angles, strict=True)]


def centres(lines: list) -> np.ndarray:
    return np.array([line.centre_y for line in lines])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_steady_noisy_horizon_is_smoothed(seed: int) -> None:
    raw = noisy_lines(np.full(300, 200.0), seed=seed)
    out = track_lines(raw, W, H)
    raw_steps, tracked_steps = step_stats(centres(raw)), step_stats(centres(out))
    assert tracked_steps["std"] <= 0.5 * raw_steps["std"], (raw_steps, tracked_steps)
    after_acquisition = step_stats(centres(out[3:]))
    assert after_acquisition["max"] <= 2.0, after_acquisition
    raw_angle, tracked_angle = (step_stats([line.angle_deg for line in s]) for s in (raw, out))
    assert tracked_angle["std"] <= 0.5 * raw_angle["std"]
    assert [o.state for o in out[:3]] == ["acquiring", "acquiring", "tracking"]
    assert all(o.state == "tracking" for o in out[3:])


@pytest.mark.parametrize(("dy", "dangle"), [(80.0, 0.0), (-80.0, 0.0), (0.0, 8.0)])
def test_single_outlier_frame_is_ignored(dy: float, dangle: float) -> None:
    raw = noisy_lines(np.full(60, 200.0), noise_px=0.5, noise_deg=0.05)
    bad = raw[40]
    raw[40] = line_at(bad.centre_y + dy, bad.angle_deg + dangle)
    out = track_lines(raw, W, H)
    assert out[40].state == "coasting" and not out[40].accepted
    assert out[40].measured == raw[40]
    assert abs(out[40].centre_y - out[39].centre_y) < 1.0
    assert abs(out[40].angle_deg - out[39].angle_deg) < 0.1
    assert all(o.state == "tracking" for o in out[41:])


def test_step_change_is_followed_after_reset_after_frames() -> None:
    cfg = TrackerConfig()
    truth = np.r_[np.full(40, 200.0), np.full(40, 260.0)]  # the camera tilts: the line moves 60 px, stays
    out = track_lines(noisy_lines(truth, noise_px=0.5), W, H, cfg)
    k = cfg.reset_after
    assert all(o.state == "coasting" for o in out[40 : 40 + k - 1])
    assert all(abs(o.centre_y - 200.0) < 2.0 for o in out[40 : 40 + k - 1])  # held until the jump is sure
    assert out[40 + k - 1].state == "reset"
    assert all(abs(o.centre_y - 260.0) < 2.0 for o in out[40 + k :]), centres(out[40 + k :])
    assert all(o.state == "tracking" for o in out[40 + k :])


def test_disagreeing_outliers_do_not_reset() -> None:
    raw = noisy_lines(np.full(40, 200.0), noise_px=0.3)
    for i, dy in zip(range(20, 26), (60, -50, 70, -60, 55, -45), strict=True):  # glare here and there
        raw[i] = line_at(200.0 + dy)
    out = track_lines(raw, W, H)
    assert all(o.state == "coasting" for o in out[20:26])
    assert np.abs(centres(out) - 200.0).max() < 1.0


def test_none_frames_coast_then_lose_then_reacquire() -> None:
    cfg = TrackerConfig(max_coast=10, acquire_frames=3)
    raw = [*noisy_lines(np.full(20, 200.0), noise_px=0.3), *[None] * 15, *noisy_lines(np.full(5, 150.0))]
    out = track_lines(raw, W, H, cfg)
    coasting = out[20:30]
    assert all(o.state == "coasting" and abs(o.centre_y - 200.0) < 1.5 for o in coasting)
    assert coasting[0].line.confidence > coasting[-1].line.confidence > 0  # fades while coasting
    assert all(o.state == "lost" and o.line is None and o.endpoints() is None for o in out[30:35])
    assert math.isnan(out[30].y_left) and math.isnan(out[30].angle_deg)
    assert [o.state for o in out[35:]] == ["acquiring", "acquiring", "tracking", "tracking", "tracking"]
    assert abs(out[35].centre_y - 150.0) < 3.0


def test_no_track_before_the_first_horizon() -> None:
    out = track_lines([None, None, line_at(100.0)], W, H)
    assert [o.state for o in out] == ["lost", "lost", "acquiring"]
    assert out[2].endpoints() == pytest.approx((100.0, 100.0))


@pytest.mark.parametrize(
    ("amplitude", "period", "process_noise_px", "tolerance"),
    [
        (20.0, 100, 0.05, 0.7),  # a ship's pitch, 4 s at 25 fps: up to 1.3 px per frame, default settings
        (20.0, 40, 0.2, 0.8),  # a small boat, 1.6 s at 25 fps: up to 3.1 px per frame, a livelier filter
    ],
)
def test_pitch_oscillation_is_followed_with_small_lag(
    amplitude: float, period: int, process_noise_px: float, tolerance: float
) -> None:
    t = np.arange(300)
    truth = 250.0 + amplitude * np.sin(2 * np.pi * t / period)
    roll = 0.5 + 1.0 * np.sin(2 * np.pi * t / 150)
    cfg = TrackerConfig(process_noise_px=process_noise_px)
    out = track_lines(noisy_lines(truth, roll, noise_px=0.5, noise_deg=0.05), W, H, cfg)
    assert all(o.state in ("acquiring", "tracking") for o in out)
    error = np.abs(centres(out) - truth)[10:]
    assert np.median(error) < tolerance and error.max() < 2.5, (np.median(error), error.max())
    angle_error = np.abs(np.array([o.angle_deg for o in out]) - roll)[10:]
    assert np.median(angle_error) < 0.05, np.median(angle_error)


def test_gate_scales_with_confidence_and_frame_height() -> None:
    cfg = TrackerConfig(gate_px=10.0, ref_height=512, gate_sigmas=0.0)  # the fixed part of the gate alone

    def second_frame(dy: float, confidence: float, height: int) -> str:
        tracker = HorizonTracker(cfg)
        tracker.update(line_at(50.0, height=height), W, height)
        return tracker.update(line_at(50.0 + dy, confidence=confidence, height=height), W, height).state

    assert second_frame(8.0, 1.0, 512) == "acquiring"  # accepted: within 10 px
    assert second_frame(8.0, 0.5, 512) == "coasting"  # a doubtful fit must agree within 10 * 0.5 ** 0.5 px
    assert second_frame(6.5, 0.5, 512) == "acquiring"
    assert second_frame(4.0, 1.0, 128) == "coasting"  # 10 px at 512 rows are 2.5 px at 128 rows
    assert second_frame(2.0, 1.0, 128) == "acquiring"


def test_low_confidence_fit_counts_as_no_horizon() -> None:
    tracker = HorizonTracker(TrackerConfig(min_confidence=0.3))
    tracker.update(line_at(200.0), W, H)
    out = tracker.update(line_at(201.0, confidence=0.2), W, H)
    assert out.state == "coasting" and out.measured is not None and not out.accepted


def test_line_of_another_size_is_scaled_and_new_size_restarts() -> None:
    tracker = HorizonTracker()
    out = tracker.update(line_at(100.0, width=320, height=256), W, H)  # fitted at the network's size
    assert out.line.width == W and out.centre_y == pytest.approx(200.5)
    assert tracker.update(line_at(200.5), W, H).state == "acquiring"
    assert tracker.update(line_at(50.0, width=320, height=240), 320, 240).state == "acquiring"  # new video
    tracker.reset()
    assert tracker.update(None, W, H).state == "lost"


@pytest.mark.parametrize(
    ("key", "value"), [("gate_px", 0.0), ("reset_after", 0), ("max_coast", 2.5), ("min_confidence", 1.5)]
)
def test_bad_config_names_the_key(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"tracker.{key}"):
        TrackerConfig(**{key: value})


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_FRAMES.is_dir(), reason="the shared real sequence is not beside the repo")
def test_tracker_on_the_shared_real_sequence() -> None:
    from seaSky.data.folder import read_image
    from seaSky.frames import list_inputs
    from seaSky.inference import load_predictor

    predictor = load_predictor(None)
    paths = list_inputs(SHARED_FRAMES)
    raw = []
    for start in range(0, len(paths), 16):
        raw += [p.horizon for p in predictor.predict([read_image(x) for x in paths[start : start + 16]])]
    out = track_lines(raw, W, H)
    raw_y, tracked_y = np.array([line.centre_y for line in raw]), centres(out)
    raw_steps, tracked_steps = step_stats(raw_y), step_stats(tracked_y)
    assert tracked_steps["max"] <= 2.0
    assert tracked_steps["median"] <= 0.5 * raw_steps["median"], (raw_steps, tracked_steps)
    assert np.median(np.abs(tracked_y - raw_y)) < 0.2  # follows the camera's motion


@pytest.mark.parametrize(("sigmas", "state"), [(3.0, "tracking"), (0.0, "coasting")])
def test_gate_widens_while_coasting(sigmas: float, state: str) -> None:
    """After 15 frames without a fit the prediction is uncertain: a line 12 px away (beyond gate_px) is
    taken up again with gate_sigmas, but not by the fixed gate alone; without coasting it is gated."""
    cfg = TrackerConfig(gate_px=10.0, gate_sigmas=sigmas)
    steady = [line_at(200.0) for _ in range(20)]
    assert track_lines([*steady, line_at(212.0)], W, H, cfg)[-1].state == "coasting"
    out = track_lines([*steady, *[None] * 15, line_at(212.0)], W, H, cfg)
    assert out[-1].state == state


def test_predict_yaml_documents_the_tracker_defaults() -> None:
    from dataclasses import asdict

    from omegaconf import OmegaConf

    from seaSky.paths import CONFIG_DIR

    node = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "predict.yaml").tracker)
    assert node == asdict(TrackerConfig())
