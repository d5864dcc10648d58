"""Tests of the renderer's second round for real cameras (issue 22): water at the foot of coasts and hazy
hills, faint horizons with perspective streaks and soft clouds, water-only views, and the own boat's
decks, cabins and people. Each feature keeps the mask and the horizon truth exact, changes the pixels it
should, and draws from its own random stream."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from conftest import boundary_errors
from seaSky.render import own_vessel
from seaSky.render.knobs import load_preset
from seaSky.render.params import OwnVesselParams, Streams, sample_scene_params
from seaSky.render.pipeline import render_scene
from seaSky.render.surfaces import perspective_streaks

DEFAULT = load_preset("real2")  # the default preset with the real-camera elements on
W, H = 96, 80
PLAIN = replace(
    DEFAULT, shore_prob=0.0, harbour_prob=0.0, own_vessel_prob=0.0, vessel_prob=0.0, buoy_prob=0.0,
    water_only_prob=0.0, faint_horizon_prob=0.0, out_of_view_prob=0.0, roll_std_deg=0.0,
    large_roll_prob=0.0, distortion_k1=(0.0, 0.0), fog_prob=0.0, glare_prob=0.0,
)  # fmt: skip


def _same_truth(a, b) -> None:
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.object_mask, b.object_mask)
    assert (a.meta["y_left"], a.meta["y_right"]) == (b.meta["y_left"], b.meta["y_right"])


def _inside(region: np.ndarray, px: int = 3) -> np.ndarray:
    """The region less a ``px`` border (where the optics' blur mixes in its neighbours)."""
    return cv2.erode(region.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) == 1


def _waterline_band(scene, rows: range) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the pixels ``rows`` below the horizon truth, in every column."""
    yl, yr = scene.meta["y_left"], scene.meta["y_right"]
    ys, xs = [], []
    for x in range(scene.mask.shape[1]):
        y0 = int(np.ceil(yl + (yr - yl) * x / (scene.mask.shape[1] - 1)))
        for k in rows:
            if 0 <= y0 + k < scene.mask.shape[0]:
                ys.append(y0 + k)
                xs.append(x)
    return np.array(ys), np.array(xs)


@pytest.mark.parametrize(
    "knob",
    [
        "faint_horizon_prob", "faint_shore_prob", "water_only_prob", "coast_calm_prob", "coast_haze_prob",
        "own_cabin_prob",
    ],
)  # fmt: skip
def test_each_feature_draws_from_its_own_stream(knob: str) -> None:
    # scenes without the feature are the same bytes whether it is possible or not
    flag = {
        "faint_horizon_prob": lambda m: m["faint"],
        "faint_shore_prob": lambda m: m["faint"],
        "water_only_prob": lambda m: m["water_only"],
        "coast_calm_prob": lambda m: m["calm_width"] > 0,
        "coast_haze_prob": lambda m: m["haze_depth"] > 0,
        "own_cabin_prob": lambda m: m["own_cabin"],
    }[knob]
    on, off = replace(DEFAULT, **{knob: 0.5}), replace(DEFAULT, **{knob: 0.0})
    same = 0
    for seed in range(10):
        a, b = render_scene(seed, W, H, on), render_scene(seed, W, H, off)
        if not flag(a.meta):
            assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
            same += 1
    assert same >= 3


def test_deterministic_with_every_feature_on() -> None:
    cfg = replace(
        DEFAULT, faint_horizon_prob=1.0, coast_calm_prob=1.0, coast_haze_prob=1.0, soft_cloud_prob=1.0,
        sea_streak_prob=1.0, own_vessel_prob=1.0, own_deck_prob=1.0, own_cabin_prob=1.0, own_person_prob=1.0,
    )  # fmt: skip
    for seed in range(3):
        a, b = render_scene(seed, W, H, cfg), render_scene(seed, W, H, cfg)
        assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
        assert a.meta == b.meta


def test_water_only_views_are_all_sea_without_a_horizon_in_at_least_5_percent() -> None:
    cfg = replace(
        PLAIN, water_only_prob=1.0, roll_std_deg=8.0, large_roll_prob=0.3, distortion_k1=(0.0, 0.04)
    )
    for seed in range(8):
        s = render_scene(seed, W, H, cfg)
        assert s.meta["water_only"] and s.meta["vignetting"] >= 0.03 and not s.meta["land"]
        assert s.meta["y_left"] is None and s.meta["y_right"] is None
        assert s.mask.all()
    shares = []
    for seed in range(300):
        p = sample_scene_params(np.random.default_rng(seed), DEFAULT, 320, 256, Streams.of(seed))
        shares.append(p.camera.water_only)
    assert np.mean(shares) >= 0.05


def test_water_only_views_have_strong_gradients() -> None:
    base = replace(PLAIN, water_only_prob=1.0, water_only_glitter_prob=0.0, dusk_prob=0.0, night_prob=0.0)
    flat = replace(base, water_only_vignetting=(0.0, 0.0), water_only_side_k=(0.0, 0.0))
    side = replace(flat, water_only_side_k=(3.0, 3.0))
    vignetted = replace(flat, water_only_vignetting=(0.2, 0.2))
    glitter = replace(flat, water_only_glitter_prob=1.0, water_only_glitter_k=(30.0, 40.0))
    for seed in range(4):
        a = render_scene(seed, W, H, flat)
        s, v, g = (render_scene(seed, W, H, c) for c in (side, vignetted, glitter))
        for other in (s, v, g):
            _same_truth(a, other)
        diff = s.image.astype(float) - a.image.astype(float)  # the same noise: only the side changes
        left, right = diff[:, : W // 4].mean(), diff[:, -W // 4 :].mean()
        darker, brighter = (right, left) if s.meta["side_sign"] > 0 else (left, right)
        assert darker < brighter <= 1.0
        drop = a.image.astype(float) - v.image.astype(float)
        assert drop[0, 0] > drop[H // 2, W // 2] + 5 and drop[-1, -1] > drop[H // 2, W // 2] + 5
        assert g.meta["glint"] and (g.image.astype(float) - a.image).max() > 50


def test_faint_horizons_keep_mask_and_truth_and_lower_the_contrast() -> None:
    on = replace(PLAIN, faint_horizon_prob=1.0, land_prob=0.0)
    off = replace(on, faint_horizon_prob=0.0)
    faint, plain = [], []
    for seed in range(10):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        _same_truth(a, b)
        assert b.meta["faint"] and abs(b.meta["atm_temp_k"] - b.meta["sea_temp_k"]) <= 0.6 + 1e-9
        assert b.meta["extinction_km"] <= 15.0
        assert max(boundary_errors(b), default=-1) <= 0
        faint.append(b.meta["horizon_contrast_sigma"])
        plain.append(a.meta["horizon_contrast_sigma"])
    assert np.median(faint) < 0.5 * np.median(plain)
    assert sum(f < 10 for f in faint) >= 5
    shares = [
        sample_scene_params(np.random.default_rng(s), DEFAULT, 320, 256, Streams.of(s)).atmosphere.faint
        for s in range(300)
    ]
    assert 0.15 <= np.mean(shares) <= 0.35


def test_perspective_streaks_are_horizontal_and_finer_towards_the_horizon() -> None:
    sea = sample_scene_params(np.random.default_rng(0), DEFAULT, W, H, Streams.of(0)).sea
    sea = replace(sea, streak_aspect=12.0)
    focal = 400.0
    below = np.repeat(np.arange(300, dtype=np.float32)[:, None], 320, axis=1)
    az = np.repeat(((np.arange(320, dtype=np.float32) - 160) / focal)[None, :], 300, axis=0)
    field = perspective_streaks(np.random.default_rng(1), below, az, focal, sea)
    assert field.shape == below.shape and abs(float(field.std()) - 1.0) < 0.3
    dy, dx = np.abs(np.diff(field, axis=0)), np.abs(np.diff(field, axis=1))
    assert dy.mean() > 2 * dx.mean()  # streaks: long along the rows
    assert dy[:20].mean() > 2 * dy[-60:].mean()  # finer (sharper from row to row) near the horizon


def test_streaks_and_soft_clouds_keep_mask_and_truth_and_change_pixels() -> None:
    hard = replace(PLAIN, cloud_prob=1.0, cloud_cover=(0.4, 0.6), soft_cloud_prob=0.0, sea_streak_prob=0.0)
    soft = replace(hard, soft_cloud_prob=1.0, cloud_softness=(5.0, 5.0), soft_cloud_emissivity=(1.0, 1.0))
    streaky = replace(hard, sea_streak_prob=1.0)
    softer = 0
    for seed in range(6):
        a, s, t = (
            render_scene(seed, W, H, hard),
            render_scene(seed, W, H, soft),
            render_scene(seed, W, H, streaky),
        )
        _same_truth(a, s)
        _same_truth(a, t)
        sky = (a.mask == 0) & (a.object_mask == 0)
        sea = _inside(a.mask == 1)
        assert np.array_equal(
            a.image[sea], s.image[sea]
        )  # soft edges change the sky only (thin clouds: the sea too)
        assert not np.array_equal(a.image[a.mask == 1], t.image[a.mask == 1])  # streaks change the sea
        edges = [
            np.abs(np.diff(x.image.astype(float), axis=1))[sky[:, 1:] & sky[:, :-1]].mean() for x in (a, s)
        ]
        softer += edges[1] <= edges[0]
    assert softer >= 5


NEAR_COAST = replace(
    PLAIN, land_prob=1.0, land_width_deg=(170.0, 180.0), land_distance_factor=(0.2, 0.3),
    camera_height_m=(30.0, 40.0), hfov_deg=(15.0, 20.0), horizon_row=(0.3, 0.4), coast_haze_prob=0.0,
    land_height_deg=(2.0, 3.0), land_temp_offset_k=(10.0, 10.0), land_strip_k=(0.0, 0.0),
    land_sunlit_k=(0.0, 0.0),
    sky_temp_offset_k=(-6.0, -5.0), humid_prob=0.0, cloud_prob=0.0, dusk_prob=0.0, night_prob=0.0,
    coast_calm_width=(0.6, 0.6),
)  # fmt: skip


def test_calm_water_mirrors_a_warm_coast_below_its_waterline() -> None:
    on, off = replace(NEAR_COAST, coast_calm_prob=1.0), replace(NEAR_COAST, coast_calm_prob=0.0)
    for seed in range(4):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        _same_truth(a, b)
        assert b.meta["horizon_kind"] == "waterline" and b.meta["calm_width"] > 0
        ys, xs = _waterline_band(b, range(1, 4))
        assert b.mask[ys, xs].all()  # the mirrored land is water: sea
        brighter = b.image[ys, xs].astype(float).mean() - a.image[ys, xs].astype(float).mean()
        assert brighter > 3 * b.meta["noise_sigma_counts"], seed
        land = _inside(b.mask == 0)
        assert np.array_equal(a.image[land], b.image[land])  # the land itself unchanged


def test_haze_blends_the_foot_of_the_hills_into_the_water() -> None:
    on = replace(NEAR_COAST, coast_haze_prob=1.0, coast_haze_depth=(0.9, 0.9), coast_calm_prob=0.0)
    off = replace(on, coast_haze_prob=0.0)
    for seed in range(4):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        _same_truth(a, b)
        land, water = _waterline_band(a, range(-3, 0)), _waterline_band(a, range(1, 4))
        assert not a.mask[land].any() and a.mask[water].all()
        steps = [
            abs(s.image[land].astype(float).mean() - s.image[water].astype(float).mean()) for s in (a, b)
        ]
        assert steps[1] < 0.5 * steps[0], seed


def _own(**changes) -> OwnVesselParams:
    base = {
        "own_vessel": True, "own_bow": False, "own_railing": False, "own_vessel_temp_offset_k": 5.0,
        "bow_centre": 0.5, "bow_width": 0.5, "bow_height": 0.2, "railing_row": 0.2, "railing_tilt": 0.0,
        "railing_posts": 4,
    }  # fmt: skip
    return OwnVesselParams(**{**base, **changes})


def test_deck_cabin_and_person_shapes() -> None:
    left = own_vessel.deck_mask(_own(deck_side=-1, deck_bottom=0.5, deck_side_height=0.4), H, W)
    assert left[-1, 0] and left[-1, W // 3] and not left[-1, -1] and left[int(0.7 * H), 0]
    assert not left[: int(0.55 * H)].any()
    right = own_vessel.deck_mask(_own(deck_side=1, deck_bottom=0.5, deck_side_height=0.4), H, W)
    assert np.array_equal(right, left[:, ::-1])
    cabin = own_vessel.cabin_mask(_own(cabin_side=1, cabin_width=0.2, cabin_top=-0.1, cabin_slant=0.0), H, W)
    assert cabin[0, -1] and cabin[-1, -1] and not cabin[:, : int(0.75 * W)].any()
    person, head = own_vessel.person_mask(_own(person_x=0.5, person_height=0.6), H, W)
    assert person[-1, W // 2] and head.any() and (person >= head).all()
    rows = np.flatnonzero(person.any(axis=1))
    assert rows[0] == pytest.approx(0.4 * H, abs=1.5) and rows[-1] == H - 1


def test_own_decks_cabins_and_people_are_not_sea_and_the_water_past_them_is() -> None:
    off = replace(PLAIN, own_vessel_prob=0.0)
    on = replace(
        PLAIN, own_vessel_prob=1.0, own_bow_prob=0.0, own_railing_prob=0.0, own_deck_prob=1.0,
        own_cabin_prob=1.0, own_person_prob=1.0,
    )  # fmt: skip
    for seed in range(5):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        assert b.meta["own_deck"] and b.meta["own_cabin"] and b.meta["own_person"]
        part = (b.object_mask == 1) & (a.object_mask == 0)
        assert part[-1, 0] or part[-1, -1]  # the deck enters from a lower corner
        assert np.array_equal(b.mask, a.mask & ~part)  # exactly their pixels stop being sea
        assert (b.mask == 1).any()  # water seen past them
        assert (b.meta["y_left"], b.meta["y_right"]) == (a.meta["y_left"], a.meta["y_right"])
        sea_sky = (a.mask == 1).sum()
        assert b.meta["own_vessel_fraction"] > 0 and (b.mask == 1).sum() < sea_sky


def test_faint_horizons_in_shore_views_keep_mask_and_truth_and_lower_the_contrast() -> None:
    # a beach camera at dusk: the surf's foam bands below a far horizon that only texture tells
    on = replace(DEFAULT, shore_prob=1.0, harbour_prob=0.0, faint_horizon_prob=0.0, faint_shore_prob=1.0)
    off = replace(on, faint_shore_prob=0.0)
    faint, plain = [], []
    for seed in range(8):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        _same_truth(a, b)
        assert b.meta["shore"] and b.meta["faint"] and not a.meta["faint"]
        assert abs(b.meta["atm_temp_k"] - b.meta["sea_temp_k"]) <= 0.6 + 1e-9
        assert max(boundary_errors(b), default=-1) <= 0
        faint.append(b.meta["horizon_contrast_sigma"])
        plain.append(a.meta["horizon_contrast_sigma"])
    assert np.median(faint) < 0.5 * np.median(plain)
    shore = shore_views("real3", 400)
    assert 0.15 * 400 <= len(shore) <= 0.35 * 400
    assert 0.45 <= np.mean([p.atmosphere.faint for p in shore]) <= 0.75
    assert not any(p.atmosphere.faint for p in shore_views("real2"))  # faint_shore_prob 0 there


def shore_views(preset: str, n: int = 200) -> list:
    """Scene parameters of the shore views among the first ``n`` scenes of a preset at 320x256."""
    return [p for p in views(preset, n) if p.shore.shore]


def test_frames_that_span_part_of_the_8bit_range_keep_counts_mask_and_truth() -> None:
    # a real camera's AGC at its gain limit: the 8-bit frame spans agc_span grey levels, not 0-255
    on, off = replace(DEFAULT, agc_span_prob=1.0), replace(DEFAULT, agc_span_prob=0.0)
    for seed in range(6):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        _same_truth(a, b)
        assert a.image.tobytes() == b.image.tobytes()  # the counts: the frame only changes
        low, high = b.meta["output_low"], b.meta["output_high"]
        assert 30 - 1e-9 <= high - low <= 220 + 1e-9 and low >= 0 and high <= 255
        frame = b.display()
        assert np.floor(low) <= frame.min() and frame.max() <= np.ceil(high) + 1
        assert (a.meta["output_low"], a.meta["output_high"]) == (0.0, 255.0)
    half = replace(DEFAULT, agc_span_prob=0.5)
    narrowed = 0
    for seed in range(12):  # its own stream: the other scenes' frames are the same bytes
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, half)
        if b.meta["output_high"] - b.meta["output_low"] < 255:
            narrowed += 1
        else:
            assert a.display().tobytes() == b.display().tobytes()
    assert 2 <= narrowed <= 10
    spans = [p.pipeline.output_high - p.pipeline.output_low for p in views("real4", 200)]
    assert 0.35 <= np.mean(np.array(spans) < 255) <= 0.65
    assert all(s == 255 for s in (p.pipeline.output_high - p.pipeline.output_low for p in views("real3", 50)))


def views(preset: str, n: int) -> list:
    """Scene parameters of the first ``n`` scenes of a preset at 320x256."""
    cfg = load_preset(preset)
    return [sample_scene_params(np.random.default_rng(s), cfg, 320, 256, Streams.of(s)) for s in range(n)]
