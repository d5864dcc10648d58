"""Tests of seaSky.horizon: robust line fit on masks, no-horizon cases, scaling, error measures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seaSky.horizon import HorizonLine, fit_horizon, horizon_error, horizon_from_meta, summarize_errors
from seaSky.render.knobs import load_preset
from seaSky.render.pipeline import render_scene

W, H = 320, 256


def line_through(centre_y: float, angle_deg: float, width: int = W, height: int = H) -> HorizonLine:
    """The line with the given y at the centre column and angle (positive = falls to the right)."""
    half = math.tan(math.radians(angle_deg)) * (width - 1) / 2
    return HorizonLine(centre_y - half, centre_y + half, width, height)


def line_mask(line: HorizonLine) -> np.ndarray:
    """Mask with pixel centre (x, y) sea iff y > line(x)."""
    yy, xx = np.mgrid[0 : line.height, 0 : line.width]
    return (yy > line.y_at(xx)).astype(np.uint8)


def assert_close(pred: HorizonLine | None, true: HorizonLine, dy: float, dangle: float) -> None:
    err = horizon_error(pred, true)
    assert err["status"] == "ok", err
    assert err["dy_px"] < dy and err["dangle_deg"] < dangle, (err, pred, true)


@pytest.mark.parametrize(
    ("centre_y", "angle_deg"),
    [
        (100.5, 0.0),
        (30.5, 0.0),
        (200.3, 0.4),
        (128.7, 10.0),
        (60.2, -10.0),
        (128.4, 30.0),
        (90.9, -30.0),
        (230.6, 30.0),  # enters through the left side, leaves through the bottom
        (20.1, -30.0),  # enters through the left side, leaves through the top
        (250.2, -20.0),  # enters through the bottom, leaves through the right side
    ],
)
def test_straight_line_recovered(centre_y: float, angle_deg: float) -> None:
    true = line_through(centre_y, angle_deg)
    pred = fit_horizon(line_mask(true))
    assert_close(pred, true, 0.2, 0.1)
    assert pred.confidence > 0.9


def test_flat_line_within_half_pixel() -> None:
    # a flat line anywhere inside one pixel row gives the same mask: the fit lies at the row boundary
    for y in (100.01, 100.3, 100.99):
        true = line_through(y, 0.0)
        pred = fit_horizon(line_mask(true))
        assert_close(pred, true, 0.5, 1e-6)
        assert pred.centre_y == pytest.approx(100.5)


def test_prob_gives_sub_pixel_boundary() -> None:
    true = line_through(100.3, 0.0)
    yy, xx = np.mgrid[0:H, 0:W]
    for scale, min_conf, max_conf in ((0.3, 0.9, 1.0), (3.0, 0.0, 0.8)):
        prob = 1 / (1 + np.exp(-(yy - true.y_at(xx)) / scale))
        pred = fit_horizon((prob > 0.5).astype(np.uint8), prob)
        assert_close(pred, true, 0.05, 0.01)
        assert min_conf < pred.confidence <= max_conf


def test_ship_on_the_line() -> None:
    true = line_through(120.4, 3.0)
    mask = line_mask(true)
    for x0, x1, top, bottom in ((100, 150, 25, 6), (230, 240, 10, 3)):
        y = int(true.y_at(x0))
        mask[y - top : y + bottom, x0:x1] = 0
    assert_close(fit_horizon(mask), true, 0.5, 0.1)


def test_vessel_hiding_most_of_the_horizon() -> None:
    # the hull's waterline (parallel, 10 px below) spans more columns than the visible horizon
    true = line_through(140.6, -4.0)
    mask = line_mask(true)
    for x in range(70, W - 20):
        y = true.y_at(x)
        mask[int(y) - 30 : int(y) + 11, x] = 0
    pred = fit_horizon(mask)
    assert_close(pred, true, 0.5, 0.2)
    assert pred.confidence < 0.5


def test_coast_taken_for_sea_above_the_horizon() -> None:
    # like a network calling the right end of a coast sea: a false-sea region rising above the horizon over
    # the right 15 % of the width; a fit preferring the topmost line follows its edge
    true = line_through(30.5, 0.0, 80, 64)  # sea from row 31 down
    yy = np.arange(64)[:, None]
    top = np.full(80, 30.0)
    top[60:68] = np.linspace(22, 12, 8)
    top[68:] = 8 + 0.3 * np.sin(np.arange(12))
    mask = (yy > top[None, :]).astype(np.uint8)
    pred = fit_horizon(mask)
    assert_close(pred, true, 0.1, 0.1)
    topmost = fit_horizon(mask, min_support_ratio=0.0)  # without the support rule
    assert horizon_error(topmost, true)["dangle_deg"] > 5.0
    assert topmost.confidence < 0.2 < pred.confidence  # the two fits disagree: the weaker one is doubtful


def test_foam_above_and_holes_below() -> None:
    true = line_through(110.2, -6.0)
    mask = line_mask(true)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    for _ in range(12):  # sea-classified blobs in the sky (foam, glint, clouds)
        cx = rng.uniform(0, W)
        cy = rng.uniform(0, true.y_at(cx) - 12)
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(4, 80)] = 1
    for _ in range(12):  # holes in the sea (glint, wakes, buoys)
        cx = rng.uniform(0, W)
        cy = rng.uniform(true.y_at(cx) + 6, H)
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(4, 80)] = 0
    x0 = 200  # a small sea bump above the line, connected to the sea
    mask[int(true.y_at(x0)) - 3 : int(true.y_at(x0)) + 2, x0 : x0 + 8] = 1
    pred = fit_horizon(mask)
    assert_close(pred, true, 0.3, 0.1)


def test_boundary_not_a_line_has_low_confidence() -> None:
    yy, xx = np.mgrid[0:H, 0:W]
    mask = (yy > 120 + 25 * np.sin(xx / 12)).astype(np.uint8)
    pred = fit_horizon(mask)
    assert pred is None or pred.confidence < 0.5


@pytest.mark.parametrize(
    "case", ["all_sea", "all_sky", "sea_with_vessel", "sea_with_vessel_to_top", "sky_with_blobs"]
)
def test_no_horizon(case: str) -> None:
    mask = np.full(
        (H, W), 1 if case in ("all_sea", "sea_with_vessel", "sea_with_vessel_to_top") else 0, np.uint8
    )
    if case == "sea_with_vessel":
        mask[100:130, 40:150] = 0
    elif case == "sea_with_vessel_to_top":  # a near vessel whose mast leaves the frame
        mask[:80, 150:165] = 0
        mask[60:110, 40:230] = 0
    elif case == "sky_with_blobs":
        mask[50:60, 100:140] = 1
        mask[H - 3 :, 10:16] = 1  # touches the bottom row
    assert fit_horizon(mask) is None


def test_mask_validation() -> None:
    with pytest.raises(ValueError, match="0 and 1"):
        fit_horizon(np.full((H, W), 255, np.uint8))
    with pytest.raises(ValueError, match="shape"):
        fit_horizon(np.zeros((H, W), np.uint8), np.zeros((H, W + 1)))
    with pytest.raises(ValueError, match="2-D"):
        fit_horizon(np.zeros(W, np.uint8))
    assert fit_horizon(line_mask(line_through(50.5, 0.0)).astype(bool)) is not None


def test_synthetic_scenes_true_mask() -> None:
    cfg = load_preset("default")
    dys, das = [], []
    for seed in range(34):
        scene = render_scene(seed, W, H, cfg)
        meta = scene.meta
        true = horizon_from_meta(meta["y_left"], meta["y_right"], W, H)
        pred = fit_horizon(scene.mask)
        if true is None:
            assert pred is None, seed
            continue
        err = horizon_error(pred, true)
        assert err["status"] == "ok", seed
        assert err["dy_px"] <= 0.5 + meta["horizon_max_dev_px"], (seed, err)
        assert err["dangle_deg"] <= 0.3, (seed, err)
        dys.append(err["dy_px"])
        das.append(err["dangle_deg"])
    assert len(dys) >= 30
    assert np.median(dys) < 0.3
    assert np.median(das) < 0.1


def test_horizon_line_geometry_and_scaling() -> None:
    line = HorizonLine(10.0, 20.0, 101, 80, 0.7)
    assert line.centre_y == 15.0
    assert line.angle_deg == pytest.approx(math.degrees(math.atan2(10, 100)))
    assert line.y_at(50) == pytest.approx(15.0)
    back = line.scaled(640, 333).scaled(101, 80)
    assert back.y_left == pytest.approx(10.0) and back.y_right == pytest.approx(20.0)
    assert back.confidence == 0.7 and (back.width, back.height) == (101, 80)
    # pixel-centre convention: the boundary between rows 99 and 100 maps to that between rows 199 and 200
    flat = HorizonLine(99.5, 99.5, W, H).scaled(2 * W, 2 * H)
    assert flat.y_left == pytest.approx(199.5) and flat.y_right == pytest.approx(199.5)
    # a fit at half resolution, scaled up, matches the line
    true = line_through(130.3, 8.0, 640, 512)
    half = fit_horizon(line_mask(true.scaled(W, H)))
    assert_close(half.scaled(640, 512), true, 0.4, 0.1)
    row = line.to_row()
    assert row["y_left"] == 10.0 and row["width"] == 101 and row["confidence"] == 0.7
    with pytest.raises(ValueError):
        HorizonLine(float("nan"), 1.0, W, H)
    with pytest.raises(ValueError):
        HorizonLine(1.0, 1.0, W, H, confidence=1.5)


def test_horizon_from_meta() -> None:
    assert horizon_from_meta(None, None, W, H) is None
    assert horizon_from_meta(float("nan"), 3.0, W, H) is None
    assert horizon_from_meta("", "", W, H) is None
    line = horizon_from_meta("12.5", "30", W, H)
    assert (line.y_left, line.y_right, line.width, line.height) == (12.5, 30.0, W, H)


def test_horizon_error_and_summary() -> None:
    true = HorizonLine(10.0, 20.0, 101, 80)
    pred = HorizonLine(12.0, 20.0, 101, 80)
    err = horizon_error(pred, true)
    assert err["status"] == "ok"
    assert err["dy_px"] == pytest.approx(1.0)
    assert err["dangle_deg"] == pytest.approx(math.degrees(math.atan2(10, 100) - math.atan2(8, 100)))
    assert horizon_error(true, true)["dy_px"] == 0.0
    # a prediction at another resolution is scaled first
    assert horizon_error(true.scaled(202, 160), true)["dy_px"] == pytest.approx(0.0, abs=1e-9)
    for p, t, status in ((None, true, "missed"), (pred, None, "false"), (None, None, "both_none")):
        e = horizon_error(p, t)
        assert e["status"] == status and math.isnan(e["dy_px"]) and math.isnan(e["dangle_deg"])

    errors = [
        {"dy_px": 1.0, "dangle_deg": 0.1, "status": "ok"},
        {"dy_px": 3.0, "dangle_deg": 0.3, "status": "ok"},
        {"dy_px": 0.5, "dangle_deg": 0.2, "status": "ok"},
        {"dy_px": 8.0, "dangle_deg": 2.0, "status": "ok"},
        horizon_error(None, true),
        horizon_error(pred, None),
        horizon_error(None, None),
        horizon_error(None, None),
    ]
    s = summarize_errors(errors)
    assert s["dy_median_px"] == pytest.approx(2.0)
    assert s["dy_mean_px"] == pytest.approx(3.125)
    assert s["dangle_median_deg"] == pytest.approx(0.25)
    assert s["dangle_mean_deg"] == pytest.approx(0.65)
    assert s["within_2px"] == pytest.approx(0.5)
    assert (s["n_ok"], s["n_missed"], s["n_false"], s["n_both_none"]) == (4, 1, 1, 2)
    empty = summarize_errors([horizon_error(None, None)])
    assert math.isnan(empty["dy_median_px"]) and empty["n_both_none"] == 1
