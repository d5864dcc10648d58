"""Tests of the synthetic IR scene renderer (seaSky.render): geometry vs meta, masks, determinism, files,
CLI."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import FrozenInstanceError, fields, replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import boundary_errors
from seaSky.errors import ConfigError
from seaSky.render import coast, geometry, pipeline, shore, surfaces
from seaSky.render.camera import camera_output
from seaSky.render.dataset import read_meta, write_dataset
from seaSky.render.knobs import SceneConfig, load_preset
from seaSky.render.params import CameraPipelineParams, CoastParams, Streams, sample_scene_params
from seaSky.render.pipeline import render_scene
from seaSky.render.sensor import to_8bit
from seaSky.render.stats import compute_stats

DEFAULT = load_preset("default")
W, H = 80, 64


def test_mask_boundary_matches_meta_chord() -> None:
    cfg = load_preset("hard")
    checked = 0
    for seed in range(25):
        s = render_scene(seed, W, H, cfg)
        if s.meta["y_left"] is None:
            continue
        errs = boundary_errors(s)
        checked += len(errs)
        assert max(errs, default=-1) <= 0, (seed, max(errs))
    assert checked > 200


def test_mask_boundary_strict_without_distortion() -> None:
    # without lens distortion the horizon (a small circle of the sky sphere, depressed by the dip) is a
    # straight line to within a few hundredths of a pixel, so the tolerance is 0.5 px plus that
    cfg = replace(DEFAULT, distortion_k1=(0.0, 0.0), large_roll_prob=0.5)
    for seed in range(15):
        s = render_scene(seed, W, H, cfg)
        if s.meta["y_left"] is not None:
            assert s.meta["horizon_max_dev_px"] < 0.1
            assert max(boundary_errors(s), default=-1) <= 0, seed


def test_objects_are_not_sea() -> None:
    cfg = replace(
        DEFAULT,
        vessel_prob=1.0,
        max_vessels=4,
        buoy_prob=1.0,
        land_prob=1.0,
        vessel_distance_m=(100.0, 3000.0),
        out_of_view_prob=0.0,
    )
    drawn = 0
    for seed in range(8):
        s = render_scene(seed, 160, 128, cfg)
        assert s.object_mask.shape == s.mask.shape
        assert (s.mask[s.object_mask == 1] == 0).all()
        drawn += int(s.object_mask.sum())
    assert drawn > 50


def test_near_coast_hides_the_horizon_and_its_waterline_is_the_truth() -> None:
    # a coast at 1/10 of the horizon distance seen from 20-40 m stands on a waterline several pixels below
    # the horizon; where it hides the horizon, meta's line is that waterline, the sea's upper boundary
    # (one ridge: ridges behind may reach beyond the front one's ends, on their own farther waterline)
    cfg = replace(
        DEFAULT,
        land_prob=1.0,
        land_max_layers=1,
        land_width_deg=(170.0, 180.0),
        land_distance_factor=(0.1, 0.12),
        land_height_deg=(2.0, 4.0),
        camera_height_m=(20.0, 40.0),
        hfov_deg=(20.0, 30.0),
        vessel_prob=0.0,
        buoy_prob=0.0,
        out_of_view_prob=0.0,
        distortion_k1=(0.0, 0.0),
        fog_prob=0.0,
    )
    waterline, checked = 0, 0
    for seed in range(6):
        s = render_scene(seed, 160, 128, cfg)
        meta = s.meta
        assert meta["horizon_kind"] in ("sea_sky", "waterline")
        if meta["horizon_kind"] != "waterline":
            continue
        assert meta["near_coast_cover"] >= 0.75
        waterline += 1
        x = np.arange(160)
        # first sea row below the lowest non-sea pixel of each column
        first_sea = 128 - np.argmax(s.mask[::-1] == 0, axis=0)
        chord = meta["y_left"] + (meta["y_right"] - meta["y_left"]) * x / 159
        on_land = (s.mask == 0).any(axis=0) & (first_sea < 128)
        on_land[on_land] &= s.object_mask[first_sea[on_land] - 1, x[on_land]] == 1
        err = np.abs(chord - (first_sea - 0.5))[on_land]
        assert err.max() <= 0.5 + meta["horizon_max_dev_px"] + 1e-6, seed
        checked += int(on_land.sum())
    assert waterline >= 3 and checked > 300


def test_waterline_truth_needs_a_coast_across_most_of_the_frame() -> None:
    # horizon above the frame, narrow near coasts: the sea reaches the top in most columns, so a coast's
    # waterline must not become the horizon truth (nor a line without a chord)
    cfg = replace(
        DEFAULT,
        horizon_row=(-0.2, -0.01),
        out_of_view_prob=0.0,
        harbour_prob=0.0,
        land_prob=1.0,
        land_distance_factor=(0.02, 0.1),
        land_width_deg=(5.0, 30.0),
    )
    kinds = [render_scene(seed, 96, 80, cfg).meta["horizon_kind"] for seed in range(12)]
    assert kinds == ["sea_sky"] * 12


def test_ridges_beyond_the_front_one_stand_on_their_own_farther_waterline() -> None:
    # a narrow front ridge (20 deg) with wider ridges behind it: outside the front's extent, the ridges
    # behind rise from their own waterline, above the front's, with sea between the two
    cam = geometry.Camera(400, 200, 60.0, 30.0, 0.0, 0.0, 0.0)
    elev, az = geometry.pixel_grid_angles(cam)
    outside = np.abs(np.degrees(az)) > 10.5
    seen_beyond = 0
    for seed in range(10):
        params = CoastParams(
            land=True,
            land_width_deg=20.0,
            land_centre_deg=0.0,
            land_height_deg=4.0,
            land_distance_factor=0.1,
            land_temp_k=290.0,
            land_texture_k=1.0,
            land_layers=3,
            land_sunlit_k=0.0,
            land_strip_deg=0.1,
            land_strip_k=0.0,
        )
        layers, e_front = coast.coast_layers(
            np.random.default_rng(seed), elev, az, cam.height_m, cam.dip_rad, cam.horizon_distance_m, params
        )
        front_mask, d_front = layers[-1]
        assert not (front_mask & outside).any()
        assert front_mask[elev >= e_front].any() and not front_mask[elev < e_front].any()
        for mask, dist in layers[:-1]:
            assert dist > d_front
            beyond = mask & outside
            if beyond.any():
                seen_beyond += 1
                own_waterline = geometry.waterline_elevation(
                    dist, cam.height_m, cam.dip_rad, cam.horizon_distance_m
                )[0]
                assert elev[beyond].min() >= own_waterline > e_front
    assert seen_beyond >= 3


def test_vessels_behind_a_near_coast_are_not_drawn() -> None:
    cfg = replace(
        DEFAULT,
        land_prob=1.0,
        land_width_deg=(170.0, 180.0),
        land_distance_factor=(0.25, 0.3),
        vessel_prob=1.0,
        max_vessels=4,
        vessel_distance_m=(20000.0, 30000.0),  # beyond the coast in every scene (its front < 0.3 D_h)
        buoy_prob=0.0,
        water_only_prob=0.0,  # water-only views have no coast
    )
    for seed in range(6):
        s = render_scene(seed, 96, 80, cfg)
        assert s.meta["n_objects"] == 0 and s.meta["n_vessels"] > 0


def test_deterministic_and_seed_dependent() -> None:
    a, b, c = render_scene(7, W, H), render_scene(7, W, H), render_scene(8, W, H)
    assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
    assert a.meta == b.meta
    assert a.image.tobytes() != c.image.tobytes()


def test_dtypes_and_ranges() -> None:
    s = render_scene(3, W, H)
    assert s.image.dtype == np.uint16 and s.image.shape == (H, W) and s.image.max() <= 16383
    assert s.mask.dtype == np.uint8 and set(np.unique(s.mask)) <= {0, 1}
    e = to_8bit(s.image)
    assert e.dtype == np.uint8 and e.shape == (H, W) and e.max() > 200 and e.min() < 50


@pytest.mark.parametrize("preset", ["easy", "default", "hard"])
def test_presets_render_at_two_sizes(preset: str) -> None:
    cfg = load_preset(preset)
    for w, h in ((W, H), (97, 61)):
        s = render_scene(1, w, h, cfg)
        assert s.image.shape == (h, w) and s.mask.shape == (h, w)


def test_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown scene knob\(s\) \['fog_probability'\]"):
        SceneConfig.from_dict({"fog_probability": 0.5, "fog_prob": 0.1})
    with pytest.raises(ConfigError, match="unknown preset 'nope'.*default"):
        load_preset("nope")
    with pytest.raises(ConfigError, match="width"):
        render_scene(0, 8, H)
    with pytest.raises(ConfigError, match="fog_prob"):
        SceneConfig.from_dict({"fog_prob": 2.0})
    with pytest.raises(ConfigError, match="land_max_layers"):
        SceneConfig.from_dict({"land_max_layers": 0})
    with pytest.raises(ConfigError, match="'land_distance_factor' is sampled log-uniformly"):
        SceneConfig.from_dict({"land_distance_factor": (0.0, 2.0)})


def _write(tmp: Path, name: str, bit_depth: int, cfg: SceneConfig | None = None, n: int = 8) -> Path:
    return write_dataset(
        tmp / name, n=n, seed=3, scene=cfg, width=W, height=H, bit_depth=bit_depth, workers=1, progress=False
    )


def test_write_dataset_layout_and_bytes(tmp_path: Path) -> None:
    out = _write(tmp_path, "a", 16)
    again = _write(tmp_path, "b", 16)
    stems = [f"syn_{i:06d}" for i in range(8)]
    for stem in stems:
        img = cv2.imread(str(out / "images" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(out / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert img.dtype == np.uint16 and img.shape == (H, W) and img.max() <= 16383
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        for sub in ("images", "masks"):
            assert (out / sub / f"{stem}.png").read_bytes() == (again / sub / f"{stem}.png").read_bytes()
    splits = [s for k in ("train", "val", "test") for s in (out / "splits" / f"{k}.txt").read_text().split()]
    assert sorted(splits) == stems
    info = json.loads((out / "dataset.json").read_text())
    assert info["n"] == 8 and info["scene"]["fog_prob"] == DEFAULT.fog_prob
    assert not list(tmp_path.glob("*.tmp-*"))
    out8 = _write(tmp_path, "c", 8, n=2)
    img8 = cv2.imread(str(out8 / "images" / "syn_000000.png"), cv2.IMREAD_UNCHANGED)
    assert img8.dtype == np.uint8 and img8.shape == (H, W)


def test_scene_seed_independent_of_n_and_workers(tmp_path: Path) -> None:
    a = write_dataset(tmp_path / "a", n=3, seed=5, width=W, height=H, workers=1, progress=False)
    b = write_dataset(tmp_path / "b", n=5, seed=5, width=W, height=H, workers=2, progress=False)
    for i in range(3):
        p = f"images/syn_{i:06d}.png"
        assert (a / p).read_bytes() == (b / p).read_bytes()


def test_meta_csv_no_horizon_rows(tmp_path: Path) -> None:
    cfg = replace(DEFAULT, out_of_view_prob=1.0, roll_std_deg=0.0, large_roll_prob=0.0)
    out = _write(tmp_path, "nohor", 16, cfg, n=6)
    with open(out / "meta.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    for r in rows:
        assert r["y_left"] == "" and r["y_right"] == ""
        mask = cv2.imread(str(out / "masks" / f"{r['stem']}.png"), cv2.IMREAD_UNCHANGED)
        # all sky, or all sea apart from floating objects (their pixels are the only 0s)
        sea_or_own = float(r["sea_fraction"]) + float(r["own_vessel_fraction"])  # own decks may be large
        assert float(r["sea_fraction"]) == 0.0 or (mask == 0).sum() == 0 or sea_or_own > 0.8
        assert (mask == 255).all() or (mask == 0).all() or int(r["n_objects"]) > 0
    for key in (
        "horizon_angle_deg",
        "horizon_max_dev_px",
        "horizon_contrast_sigma",
        "polarity",
        "sea_fraction",
        "noise_sigma_counts",
    ):
        assert key in rows[0]


def test_stats_of_a_rendered_set(tmp_path: Path) -> None:
    cfg = replace(DEFAULT, land_prob=1.0, land_width_deg=(170.0, 180.0), out_of_view_prob=0.0, fog_prob=0.0)
    root = _write(tmp_path, "coast", 16, cfg, n=10)
    stats = compute_stats(root, plot=False)
    rows = read_meta(root)
    assert stats["n"] == 10 and stats["share_no_horizon"] == 0.0
    assert stats["share_coast_in_view"] == np.mean([float(r["coast_fraction"]) > 0 for r in rows]) > 0.5
    with_horizon = [r for r in rows if r["y_left"] != ""]
    kinds = [r["horizon_kind"] for r in with_horizon]
    assert stats["share_waterline_horizon"] == kinds.count("waterline") / len(with_horizon)
    assert sum(stats["share_polarity"].values()) == pytest.approx(1.0)
    black_hot = [r["black_hot"] == "True" for r in rows]
    assert stats["camera_pipeline"]["share_black_hot"] == np.mean(black_hot)
    assert sum(stats["share_time_of_day"].values()) == pytest.approx(1.0)
    sizes = stats["camera_pipeline"]["share_sensor_size"]
    assert sum(sizes.values()) == pytest.approx(1.0) and set(sizes) <= {
        f"{w}x{h}" for h, w in DEFAULT.sensor_sizes
    }
    assert json.loads((root / "stats.json").read_text()) == stats


def test_cli_renders_and_previews(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    base = [
        sys.executable,
        "-m",
        "seaSky.render",
        f"out_dir={out}",
        "n=6",
        "width=80",
        "height=64",
        "workers=1",
        "progress=false",
    ]
    run = subprocess.run(
        [*base, "preset=hard", "preset.fog_prob=0.5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert len(list((out / "images").glob("*.png"))) == 6 and (out / "dataset.json").exists()
    assert json.loads((out / "dataset.json").read_text())["scene"]["fog_prob"] == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli"]  # Hydra wrote nothing into the cwd
    run = subprocess.run(
        [*base, "preview=true", "preview_n=6"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert cv2.imread(str(out / "preview.png")).shape[0] > 64
    bad = subprocess.run(
        [*base, "preset.no_such_knob=1"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert bad.returncode != 0
    bad = subprocess.run([*base, "width=8"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "width must be an integer in [16, 8192], got 8"


def test_default_knobs_have_one_source() -> None:
    # conf/preset/default.yaml sets every knob of SceneConfig (no defaults in code); other presets only
    # set knobs that exist
    from omegaconf import OmegaConf

    from seaSky.paths import PRESET_DIR

    knobs = set(SceneConfig.__dataclass_fields__)
    default = OmegaConf.to_container(OmegaConf.load(PRESET_DIR / "default.yaml"))
    assert set(default) == knobs
    assert SceneConfig.from_dict({}) == DEFAULT
    for path in PRESET_DIR.glob("*.yaml"):
        values = OmegaConf.to_container(OmegaConf.load(path))
        values.pop("defaults", None)
        assert set(values) <= knobs, path.name
    with pytest.raises(TypeError):
        SceneConfig()  # every knob must come from a preset


def test_scene_parameters_are_typed_by_stage() -> None:
    rng = np.random.default_rng(0)
    params = sample_scene_params(rng, DEFAULT, W, H, Streams.of(0))
    stages = [f.name for f in fields(params)]
    assert stages == [
        "camera", "atmosphere", "sea", "coast", "floating", "shore", "harbour", "glare", "own_vessel",
        "light", "sensor", "pipeline",
    ]  # fmt: skip
    meta = render_scene(0, W, H).meta
    flat = params.to_meta()
    assert len(flat) == sum(len(fields(getattr(params, s))) for s in stages)  # no name in two stages
    assert {k: meta[k] for k in flat} == flat  # same draws as render_scene(0)
    with pytest.raises(AttributeError):
        params.sea.wind_speed  # noqa: B018  a typo fails at once
    with pytest.raises(FrozenInstanceError):
        params.sea.wind_ms = 3.0  # type: ignore[misc]


def _pipeline(**changes) -> CameraPipelineParams:
    base = {
        "agc": "linear", "agc_plateau": 4.0, "agc_linear_share": 0.0, "agc_tail_pct": 1.0, "dde_gain": 0.0,
        "dde_sigma_px": 4.0, "gamma": 1.0, "black_hot": False, "jpeg_quality": 0, "sensor_height": 0,
        "sensor_width": 0,
    }  # fmt: skip
    return CameraPipelineParams(**{**base, **changes})


def test_camera_pipelines_change_the_frame_not_the_counts_mask_or_truth() -> None:
    plain = replace(DEFAULT, agc_plateau_prob=0.0, dde_prob=0.0, jpeg_prob=0.0, black_hot_prob=0.0)
    busy = replace(DEFAULT, agc_plateau_prob=1.0, dde_prob=1.0, jpeg_prob=1.0, black_hot_prob=1.0)
    for seed in range(4):
        a, b = render_scene(seed, W, H, plain), render_scene(seed, W, H, busy)
        assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
        assert (a.meta["y_left"], a.meta["y_right"]) == (b.meta["y_left"], b.meta["y_right"])
        frame_a, frame_b = a.display(), b.display()
        assert frame_a.dtype == frame_b.dtype == np.uint8 and frame_a.shape == frame_b.shape == (H, W)
        assert not np.array_equal(frame_a, frame_b)
        assert b.meta["agc"] == "plateau" and b.meta["black_hot"] and b.meta["jpeg_quality"] >= 20
        assert np.array_equal(frame_b, render_scene(seed, W, H, busy).display())  # deterministic


def test_camera_pipeline_stages() -> None:
    rng = np.random.default_rng(0)
    # a bimodal scene: cold sky (1/4 of the frame) over warm sea, with noise and a faint gradient
    counts = np.where(np.arange(64)[:, None] < 16, 6000.0, 8000.0) + np.arange(80)[None, :] * 2.0
    counts = (counts + rng.normal(0, 3, (64, 80))).astype(np.float32)
    linear = camera_output(counts, _pipeline())
    equalised = camera_output(counts, _pipeline(agc="plateau", agc_plateau=1000.0))
    # equalisation hands the grey levels out by pixel count: the sea (3/4 of the pixels) gets ~3/4 of them
    assert np.ptp(equalised[16:]) > 2 * np.ptp(linear[16:])
    assert np.array_equal(camera_output(counts, _pipeline(black_hot=True)), 255 - linear)
    detail = camera_output(counts, _pipeline(dde_gain=6.0))
    high_pass = lambda f: np.abs(np.diff(f[20:].astype(float), axis=1)).mean()  # noqa: E731
    assert high_pass(detail) > 1.5 * high_pass(linear)
    jpeg = camera_output(counts, _pipeline(jpeg_quality=20))
    assert 0 < np.abs(jpeg.astype(int) - linear).mean() < 10


def test_the_pipeline_runs_at_the_sensors_native_size() -> None:
    rng = np.random.default_rng(1)
    counts = (7000 + 40 * rng.standard_normal((64, 80))).astype(np.float32)
    counts[:20] -= 800  # a cold sky over the sea
    native = camera_output(counts, _pipeline())
    assert np.array_equal(camera_output(counts, _pipeline(sensor_height=64, sensor_width=80)), native)
    high_pass = lambda f: np.abs(np.diff(f[24:].astype(float), axis=1)).mean()  # noqa: E731
    small = camera_output(counts, _pipeline(sensor_height=24, sensor_width=32))  # a low-resolution core
    large = camera_output(counts, _pipeline(sensor_height=256, sensor_width=320, jpeg_quality=30))
    assert small.shape == large.shape == (64, 80)
    assert high_pass(small) < 0.6 * high_pass(native)  # fewer pixels: the noise is averaged, the frame soft
    assert float(small[24:].mean()) - float(small[:16].mean()) > 150  # the same scene: cold sky, warm sea
    # compression blocks are 8 native pixels: a quarter of a frame pixel here, so barely visible
    blocky = camera_output(counts, _pipeline(jpeg_quality=30))
    assert np.abs(large.astype(int) - native).mean() < np.abs(blocky.astype(int) - native).mean()


def test_dusk_and_night_have_no_sun_and_cooled_surfaces_and_keep_mask_and_truth() -> None:
    day = replace(
        DEFAULT, glint_prob=1.0, land_prob=1.0, land_sunlit_k=(4.0, 8.0), glare_prob=1.0, dusk_prob=0.0,
        night_prob=0.0, water_only_prob=0.0,  # water-only views have no coast and no glare
    )  # fmt: skip
    night = replace(day, night_prob=1.0, night_surface_offset_k=(-6.0, -4.0))
    dusk = replace(day, dusk_prob=1.0, night_surface_offset_k=(-6.0, -4.0))
    for seed in range(4):
        a, n, d = (
            render_scene(seed, W, H, day),
            render_scene(seed, W, H, night),
            render_scene(seed, W, H, dusk),
        )
        assert (a.meta["time_of_day"], n.meta["time_of_day"], d.meta["time_of_day"]) == (
            "day",
            "night",
            "dusk",
        )
        assert a.meta["glint"] and a.meta["glare"] and a.meta["land_sunlit_k"] >= 4
        for s in (n, d):  # no sun after sunset
            assert not s.meta["glint"] and not s.meta["glare"] and s.meta["land_sunlit_k"] == 0
            assert s.mask.tobytes() == a.mask.tobytes() and s.object_mask.tobytes() == a.object_mask.tobytes()
            assert (s.meta["y_left"], s.meta["y_right"]) == (a.meta["y_left"], a.meta["y_right"])
            assert not np.array_equal(s.image, a.image)
        air = a.meta["air_temp_k"]
        assert n.meta["land_temp_k"] - air == pytest.approx(n.meta["night_surface_offset_k"])
        c = d.meta["cooling"]
        assert 0.2 <= c <= 0.6 and d.meta["land_temp_k"] - air == pytest.approx(
            (1 - c) * (a.meta["land_temp_k"] - air) + c * d.meta["night_surface_offset_k"]
        )
        assert n.meta["sea_temp_k"] - a.meta["sea_temp_k"] == pytest.approx(n.meta["night_sea_warming_k"])
    # the time of day draws from its own stream: day scenes are the same bytes whether night is possible
    mixed = replace(DEFAULT, night_prob=0.3, dusk_prob=0.3)
    for seed in range(8):
        a, b = (
            render_scene(seed, W, H, replace(mixed, night_prob=0.0, dusk_prob=0.0)),
            render_scene(seed, W, H, mixed),
        )
        assert (a.image.tobytes() == b.image.tobytes()) == (b.meta["time_of_day"] == "day")


SHORE = replace(
    DEFAULT, shore_prob=1.0, land_prob=0.0, vessel_prob=0.0, buoy_prob=0.0, out_of_view_prob=0.0,
    distortion_k1=(0.0, 0.0), horizon_row=(0.2, 0.5),
)  # fmt: skip


def test_shore_view_keeps_mask_and_horizon_truth_exact() -> None:
    beaches = 0
    for seed in range(8):
        s = render_scene(seed, 96, 80, SHORE)
        assert s.meta["shore"] and s.meta["camera_height_m"] == s.meta["shore_camera_height_m"]
        # the only non-sea pixels below the horizon are the beach: nearer, so below all of the sea
        sea_rows = np.where(s.mask == 1, np.arange(80)[:, None], -1).max(axis=0)
        beach_rows = np.where(s.object_mask == 1, np.arange(80)[:, None], 80).min(axis=0)
        assert (beach_rows > sea_rows).all()
        assert s.meta["beach_fraction"] == pytest.approx(float(s.object_mask.mean()))
        beaches += s.meta["beach_fraction"] > 0
        # the horizon truth is still the sea's upper boundary
        first_sea = np.argmax(s.mask == 1, axis=0)
        has_sea = s.mask.any(axis=0) & (first_sea > 0)
        x = np.arange(96)
        chord = s.meta["y_left"] + (s.meta["y_right"] - s.meta["y_left"]) * x / 95
        err = np.abs(chord - (first_sea - 0.5))[has_sea]
        assert err.max() <= 0.5 + s.meta["horizon_max_dev_px"] + 1e-6, seed
    assert beaches >= 4


def test_surf_foam_pulls_the_water_towards_the_sea_temperature() -> None:
    # foam (emissivity ~0.99) radiates like a black body at the water's temperature, while the water beside
    # it mirrors the sky: foam is brighter than the water under a colder sky, darker under a warmer one
    calm, surf = replace(SHORE, surf_foam=(0.0, 0.0), surf_bands=(0, 0)), replace(SHORE, surf_foam=(1.0, 1.0))
    checked = 0
    for seed in range(10):
        a, b = render_scene(seed, 96, 80, calm), render_scene(seed, 96, 80, surf)
        contrast = a.meta["sea_temp_k"] - a.meta["atm_temp_k"]
        if abs(contrast) < 2:
            continue
        sea = (a.mask == 1) & (b.mask == 1)
        change = b.image[sea].astype(float).mean() - a.image[sea].astype(float).mean()
        assert change * np.sign(contrast) > 0, seed
        checked += 1
    assert checked >= 4


def test_new_elements_draw_from_their_own_random_streams() -> None:
    # scenes without a shore view are the same bytes whether shore views are possible or not
    without = replace(DEFAULT, shore_prob=0.0)
    same = 0
    for seed in range(12):
        a, b = render_scene(seed, W, H, DEFAULT), render_scene(seed, W, H, without)
        if not a.meta["shore"]:
            assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
            same += 1
    assert same >= 6


def test_glare_brightens_the_water_and_leaves_mask_and_truth() -> None:
    off, on = (
        replace(DEFAULT, glare_prob=0.0, dusk_prob=0.0, night_prob=0.0),
        replace(DEFAULT, glare_prob=1.0, glare_strength_k=(80.0, 150.0), dusk_prob=0.0, night_prob=0.0),
    )
    for seed in range(4):
        a, b = render_scene(seed, W, H, off), render_scene(seed, W, H, on)
        assert np.array_equal(a.mask, b.mask) and a.meta["y_left"] == b.meta["y_left"]
        sea = a.mask == 1
        if sea.mean() > 0.2:
            assert b.image[sea].astype(float).max() > a.image[sea].astype(float).max()


def test_own_vessel_parts_are_not_sea_and_leave_the_rest_as_it_was() -> None:
    off, on = replace(DEFAULT, own_vessel_prob=0.0), replace(DEFAULT, own_vessel_prob=1.0)
    for seed in range(6):
        a, b = render_scene(seed, 96, 80, off), render_scene(seed, 96, 80, on)
        part = (b.object_mask == 1) & (a.object_mask == 0)
        assert part.any() and b.meta["own_vessel_fraction"] >= part.mean()  # parts may cover a vessel too
        assert np.array_equal(b.mask, a.mask & ~part)  # exactly the parts' pixels stop being sea
        assert part[-1].any()  # they rise from the bottom edge
        assert (b.meta["y_left"], b.meta["y_right"]) == (a.meta["y_left"], a.meta["y_right"])


HARBOUR = replace(
    DEFAULT, harbour_prob=1.0, shore_prob=0.0, land_prob=0.0, vessel_prob=0.0, buoy_prob=0.0,
    own_vessel_prob=0.0, harbour_moored_boats=(0, 0), out_of_view_prob=0.0, distortion_k1=(0.0, 0.0),
    roll_std_deg=1.0, large_roll_prob=0.0, horizon_row=(0.2, 0.5),
)  # fmt: skip


def test_harbour_quays_hide_the_sea_and_their_waterline_is_the_truth() -> None:
    quays = replace(
        HARBOUR, harbour_bridge_prob=0.0, harbour_structures=(1, 1), harbour_distance_m=(40.0, 120.0)
    )
    waterline = 0
    for seed in range(16):
        s = render_scene(seed, 96, 80, quays)
        assert s.meta["harbour"] and s.meta["harbour_fraction"] == pytest.approx(s.object_mask.mean())
        assert not (s.mask & s.object_mask).any()
        if s.meta["horizon_kind"] != "waterline":
            continue
        waterline += 1
        # the sea's upper boundary, in every column where the quay stands, is the truth's line
        x = np.arange(96)
        first_sea = np.argmax(s.mask == 1, axis=0)
        chord = s.meta["y_left"] + (s.meta["y_right"] - s.meta["y_left"]) * x / 95
        on_quay = s.object_mask[np.maximum(first_sea - 1, 0), x] == 1
        err = np.abs(chord - (first_sea - 0.5))[on_quay & (first_sea > 0)]
        assert err.size > 40 and err.max() <= 0.5 + s.meta["horizon_max_dev_px"] + 1e-6, seed
    assert waterline >= 3


def test_bridges_leave_the_sea_sky_horizon_the_truth() -> None:
    bridges = replace(HARBOUR, harbour_bridge_prob=1.0, harbour_structures=(1, 2))
    for seed in range(6):
        s = render_scene(seed, 96, 80, bridges)
        assert s.meta["horizon_kind"] == "sea_sky"
        assert not (s.mask & s.object_mask).any()


def test_water_mirrors_a_structure_upside_down_below_its_waterline() -> None:
    # flat water (mirrored rays leave at the depression angle): a 10 m quay 100 m away, seen from 5 m,
    # is mirrored between its waterline and the depression atan((10 + 5) / 100)
    from seaSky.render.harbour import HarbourScene, Structure

    cam = geometry.Camera(60, 200, 20.0, 5.0, 0.0, -3.0, 0.0)
    elev, az = geometry.pixel_grid_angles(cam)
    plane = geometry.water_plane(cam, elev, az)
    grid = np.linspace(-300.0, 300.0, 64)  # a straight wall facing the camera, 100 m away
    quay = Structure("quay", 100.0, 0.0, -300.0, 300.0, grid, np.full(64, 10.0), temp_k=300.0, texture_k=0.0)
    scene = HarbourScene(np.random.default_rng(0), [quay], k_ext=0.0, b_path=0.0)
    depression = np.degrees(np.maximum(-elev - np.float32(cam.dip_rad), 0.0))
    radiance, hit = scene.mirror(az, plane.dist)(depression)
    rows = np.flatnonzero(hit[:, 30])
    mirror_top = np.degrees(math.atan(5.0 / 100.0))  # the quay's foot (its waterline)
    mirror_bottom = np.degrees(math.atan(15.0 / 100.0))
    below_horizon = np.degrees(-elev[:, 30] - cam.dip_rad)
    expected = np.flatnonzero((below_horizon >= mirror_top) & (below_horizon <= mirror_bottom))
    assert abs(rows[0] - expected[0]) <= 1 and abs(rows[-1] - expected[-1]) <= 1
    assert np.allclose(radiance[hit], radiance[hit][0])  # a uniform quay mirrors one radiance


def test_the_cached_set_is_the_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    sets = [
        write_dataset(tmp_path / f"w{k}", n=6, seed=2, width=48, height=40, workers=k, progress=False)
        for k in (1, 2)
    ]
    files = [sorted(p.relative_to(s) for p in s.rglob("*") if p.is_file()) for s in sets]
    assert files[0] == files[1] and len(files[0]) == 2 * 6 + 5  # images, masks, meta, 3 splits, dataset
    for name in files[0]:
        assert (sets[0] / name).read_bytes() == (sets[1] / name).read_bytes(), name


# Speed (issue 25): the renderer's shortcuts give the numbers of the plain computations, bit for bit.


def test_fast_horizon_rows_are_the_bisections_rows() -> None:
    rng = np.random.default_rng(3)
    cams = [
        geometry.Camera(
            int(rng.choice([320, 80, 255, 640])),
            int(rng.choice([256, 64, 201, 512])),
            rng.uniform(10, 110),
            math.exp(rng.uniform(0, 6)),
            rng.uniform(-44, 44),
            rng.uniform(-50, 50),
            rng.uniform(0, 0.1),
        )
        for _ in range(40)
    ]
    cams += [pipeline.camera_of(pipeline.sample_scene(s, 320, 256, DEFAULT)[0], 320, 256) for s in range(40)]
    shortcut = 0
    for cam in cams:
        for target in (None, -cam.dip_rad - 0.05, float(rng.uniform(-0.4, 0.4))):
            level = -cam.dip_rad if target is None else target
            plain = geometry._bisect(
                cam,
                np.arange(cam.width, dtype=np.float64),
                lambda az, t=level: t,
                *geometry._search_range(cam),
            )
            assert np.array_equal(geometry.horizon_rows(cam, target).view(np.uint64), plain.view(np.uint64))
            shortcut += geometry._bisection_end(cam, level, *geometry._search_range(cam))[1].sum()
    assert shortcut > 0.8 * 3 * 320 * 40  # the scenes' cameras take the shortcut


def test_water_and_sky_rendered_on_their_rows_only_are_the_whole_frames_rows() -> None:
    for seed in range(3):
        params = pipeline.sample_scene(seed, 96, 80, load_preset("real2"))[0]
        cam = pipeline.camera_of(params, 96, 80)
        elev, az = geometry.pixel_grid_angles(cam)
        sky, reflected = surfaces.sky_radiance(np.random.default_rng(seed), params.atmosphere, elev, az, 99.0)
        part = surfaces.sky_radiance(np.random.default_rng(seed), params.atmosphere, elev[:30], az[:30], 99.0)
        assert np.array_equal(part[0], sky[:30])
        whole, band = geometry.water_plane(cam, elev, az), geometry.water_plane(cam, elev[25:], az[25:])
        assert np.array_equal(band.dist, whole.dist[25:]) and np.array_equal(band.gx, whole.gx[25:])
        shore_params = replace(params.shore, shore=True, surf_bands=3)
        surf, beach = shore.surf_foam(np.random.default_rng(seed), shore_params, whole.gx, whole.gz, whole.fz)
        surf_b, beach_b = shore.surf_foam(
            np.random.default_rng(seed), shore_params, band.gx, band.gz, band.fz, 25
        )
        assert np.array_equal(surf_b, surf[25:]) and np.array_equal(beach_b, beach[25:])
        sea_params = replace(params.sea, slick_cover=0.3, foam=True, streaks=False)
        full = surfaces.sea_radiance(
            np.random.default_rng(seed), sea_params, cam, elev, az, reflected, [], whole, surf
        )
        rows = surfaces.sea_radiance(
            np.random.default_rng(seed),
            sea_params,
            cam,
            elev[25:],
            az[25:],
            reflected,
            [],
            band,
            surf_b,
            top=25,
        )
        assert np.array_equal(rows, full[25:])


def test_numpy_stand_ins_give_numpys_numbers() -> None:
    from scipy import ndimage

    from seaSky.render.harbour import bilinear
    from seaSky.render.noise import quantile

    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 1_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = bits[np.isfinite(bits)]
    with np.errstate(all="ignore"):
        assert np.array_equal(geometry.degrees(x).view(np.uint32), np.degrees(x).view(np.uint32))
        assert np.array_equal(geometry.radians(x).view(np.uint32), np.radians(x).view(np.uint32))
    for size in (7, 1000, 16384):
        values = rng.standard_normal(size).astype(np.float32)
        for q in (0.0, 1e-9, 0.3, 0.5, float(rng.uniform()), 1 - 1e-12, 1.0):
            assert quantile(values, q) == float(np.quantile(values, q))
    texture = rng.standard_normal((64, 512)).astype(np.float32)
    v = (np.clip(rng.uniform(-0.1, 1.1, 200_000), 0, 1) * 63.0).astype(np.float32)
    u = (np.clip(rng.uniform(-0.1, 1.1, 200_000), 0, 1) * 511.0).astype(np.float32)
    expected = ndimage.map_coordinates(texture, [v, u], order=1, mode="nearest")
    assert np.array_equal(bilinear(texture, v, u).view(np.uint32), expected.view(np.uint32))
