"""Tests of the moving-camera sequence renderer (seaSky.render.sequence): exact truth in every frame, smooth
motion, flagged spoilers, determinism, the CLI's files and video."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import boundary_errors
from seaSky.errors import ConfigError
from seaSky.paths import CONFIG_DIR
from seaSky.render import geometry
from seaSky.render.knobs import load_preset
from seaSky.render.pipeline import render_scene
from seaSky.render.sensor import MAX_COUNTS
from seaSky.render.sequence import (
    COMPONENTS,
    PERIOD_JITTER,
    SequenceConfig,
    plan_sequence,
    render_frame,
    render_sequence,
)

W, H, N, FPS = 80, 64, 30, 25.0
# lens spoilers one after the other, so that 30 frames (1.2 s) hold a few
BUSY = SequenceConfig(lens_gap_s=(0.1, 0.2), flare_s=(0.2, 0.3), spray_s=(0.2, 0.3), vessel_gap_s=(0.0, 0.0))


def sea_sky_boundary_errors(scene) -> list[float]:
    """conftest.boundary_errors of a frame whose truth must be the sea-sky horizon (no coast in view)."""
    assert scene.meta["horizon_kind"] == "sea_sky"
    return boundary_errors(scene)


def test_every_frame_has_the_exact_truth_of_its_own_pose() -> None:
    checked = 0
    for seed in (0, 3):
        frames = list(render_sequence(seed, N, W, H, load_preset("easy"), BUSY, FPS))
        assert len({(f.meta["y_left"], f.meta["y_right"]) for f in frames}) == N  # the line moves
        for f in frames:
            errs = sea_sky_boundary_errors(f)
            checked += len(errs)
            assert max(errs) <= 0, (seed, f.meta["frame"], max(errs))
            # the truth is the horizon of the camera written in the same row
            m = f.meta
            cam = geometry.Camera(
                W, H, m["hfov_deg"], m["camera_height_m"], m["roll_deg"], m["pitch_deg"], m["distortion_k1"]
            )
            rows = geometry.horizon_rows(cam)
            assert (m["y_left"], m["y_right"]) == (rows[0], rows[-1])
    assert checked > 0.8 * 2 * N * W


def test_lens_spoilers_change_the_image_only() -> None:
    plain = replace(BUSY, spoilers=())
    lens = replace(BUSY, spoilers=("flare", "spray"))
    plan = plan_sequence(1, N, W, H, None, lens, FPS)
    assert {e.kind for e in plan.lens_events} == {"flare", "spray"}
    changed = 0
    without, with_lens = (
        render_sequence(1, N, W, H, None, plain, FPS),
        render_sequence(1, N, W, H, None, lens, FPS),
    )
    for a, b in zip(without, with_lens, strict=True):
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.object_mask, b.object_mask)
        assert (a.meta["y_left"], a.meta["y_right"]) == (b.meta["y_left"], b.meta["y_right"])
        t = a.meta["timestamp_s"]
        if any(e.start_s <= t < e.end_s for e in plan.lens_events):
            changed += not np.array_equal(a.image, b.image)
        else:
            assert np.array_equal(a.image, b.image)  # nothing else differs
    assert changed > 5


def test_roll_and_pitch_change_smoothly() -> None:
    seq = SequenceConfig()
    plan = plan_sequence(2, 3000, W, H, None, seq, FPS)
    t = np.arange(3000) / FPS
    roll, pitch = np.array([plan.motion.pose(x) for x in t]).T
    for series, amplitude, period in (
        (roll, seq.roll_amplitude_deg, seq.roll_period_s),
        (pitch, seq.pitch_amplitude_deg, seq.pitch_period_s),
    ):
        rate = sum(2 * math.pi * amplitude * a / (period * p * PERIOD_JITTER[0]) for a, p in COMPONENTS)
        steps = np.abs(np.diff(series))
        assert steps.max() <= rate / FPS
        assert (
            np.abs(np.diff(series, 2)).max()
            <= rate * 2 * math.pi / (PERIOD_JITTER[0] * 0.45 * period) / FPS**2
        )
        assert series.max() - series.min() > amplitude  # it does move
    assert abs(roll.mean() - plan.camera.roll_deg) < 1.0
    # the frames carry that pose
    frames = list(render_sequence(2, 5, W, H, None, seq, FPS))
    assert [f.meta["roll_deg"] for f in frames] == pytest.approx(roll[:5].tolist())
    assert [f.meta["pitch_deg"] for f in frames] == pytest.approx(pitch[:5].tolist())


def test_spoiled_frames_exist_and_are_flagged() -> None:
    plan = plan_sequence(4, N, W, H, None, replace(BUSY, spoilers=("flare", "spray")), FPS)
    frames = [render_frame(plan, i) for i in range(N)]
    spoiled = [f for f in frames if f.meta["spoiled"]]
    assert 0 < len(spoiled) < N
    kinds = set()
    for f in frames:
        m = f.meta
        active = [e for e in plan.lens_events if e.start_s <= m["timestamp_s"] < e.end_s]
        assert m["spoiled"] == int(m["hidden_share"] >= plan.config.min_hidden_share)
        if m["spoiled"]:
            assert m["spoiler"] in {"flare", "spray"} and m["spoiler"] == active[0].kind
            kinds.add(m["spoiler"])
        if not active:
            assert m["spoiler"] == "" and m["hidden_share"] == 0.0
    assert kinds == {"flare", "spray"}
    flare = next(e for e in plan.lens_events if e.kind == "flare")
    peak = render_frame(plan, round(0.5 * (flare.start_s + flare.end_s) * FPS))
    assert peak.meta["spoiler"] == "flare" and (peak.image == MAX_COUNTS).any()  # its core is clipped


def test_a_passing_vessel_hides_the_line_and_is_not_sea() -> None:
    seq = replace(SequenceConfig(), spoilers=("vessel",), vessel_gap_s=(0.0, 0.0))
    plan = plan_sequence(5, 2000, W, H, None, seq, FPS)
    passage = plan.vessels[0]
    mid = round(0.5 * (passage.start_s + passage.end_s) * FPS)
    f = render_frame(plan, mid)
    assert f.meta["spoiler"] == "vessel" and f.meta["spoiled"] == 1
    assert f.meta["hidden_share"] > 0.1
    assert (f.mask[f.object_mask == 1] == 0).all()
    assert max(sea_sky_boundary_errors(f)) <= 0  # elsewhere the truth holds
    before = render_frame(plan, max(0, math.floor(passage.start_s * FPS) - 1))
    assert before.meta["spoiler"] == "" and before.meta["spoiled"] == 0


def test_deterministic_by_seed_and_independent_of_n() -> None:
    a = list(render_sequence(7, 8, W, H, None, BUSY, FPS))
    b = list(render_sequence(7, 8, W, H, None, BUSY, FPS))
    longer = list(render_sequence(7, 20, W, H, None, BUSY, FPS))
    other = list(render_sequence(8, 8, W, H, None, BUSY, FPS))
    for x, y, z, o in zip(a, b, longer[:8], other, strict=True):
        assert x.image.tobytes() == y.image.tobytes() == z.image.tobytes()
        assert x.mask.tobytes() == y.mask.tobytes() == z.mask.tobytes()
        assert x.meta == y.meta == z.meta
        assert x.image.tobytes() != o.image.tobytes()
    # temporal noise is new in every frame; the scene stays (the sky far above the horizon hardly moves)
    assert a[0].image.tobytes() != a[1].image.tobytes()
    assert a[0].meta["air_temp_k"] == a[-1].meta["air_temp_k"]
    # the still renderer is untouched: a frame is its scene with another pose
    assert render_scene(7, W, H).meta["air_temp_k"] == a[0].meta["air_temp_k"]


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown sequence knob"):
        SequenceConfig.from_dict({"roll_deg": 3})
    with pytest.raises(ConfigError, match="seq.spoilers"):
        SequenceConfig.from_dict({"spoilers": ["wave"]})
    with pytest.raises(ConfigError, match="seq.flare_s"):
        SequenceConfig.from_dict({"flare_s": [2, 1]})
    with pytest.raises(ConfigError, match="seq.roll_period_s"):
        SequenceConfig.from_dict({"roll_period_s": 0})
    with pytest.raises(ConfigError, match="fps"):
        plan_sequence(0, 5, W, H, fps=0)
    with pytest.raises(ConfigError, match="n must be"):
        plan_sequence(0, 0, W, H)


def test_render_yaml_holds_the_sequence_defaults() -> None:
    conf = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "render.yaml"))
    assert set(conf["seq"]) == {f.name for f in fields(SequenceConfig)}
    assert SequenceConfig.from_dict(conf["seq"]) == SequenceConfig()
    assert conf["sequence"] is False and conf["video"] is False


def test_cli_writes_frames_meta_and_video(tmp_path: Path) -> None:
    out = tmp_path / "seq"
    base = [
        sys.executable,
        "-m",
        "seaSky.render",
        f"out_dir={out}",
        "width=80",
        "height=64",
        "progress=false",
    ]
    cmd = [*base, "sequence=true", "n=12", "fps=10", "video=true", "workers=1", "seed=3"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"{i:06d}.png" for i in range(12)]
    assert len(list((out / "masks").glob("*.png"))) == 12
    assert cv2.imread(str(out / "images" / "000000.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    with open(out / "meta.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["frame"]) for r in rows] == list(range(12))
    assert float(rows[5]["timestamp_s"]) == pytest.approx(0.5)
    for key in ("y_left", "y_right", "roll_deg", "pitch_deg", "spoiled", "spoiler", "hidden_share"):
        assert key in rows[0]
    mask = cv2.imread(str(out / "masks" / "000004.png"), cv2.IMREAD_UNCHANGED)
    frame = render_frame(plan_sequence(3, 12, 80, 64, fps=10), 4)
    assert np.array_equal(mask, frame.mask * 255) and float(rows[4]["y_left"]) == frame.meta["y_left"]
    info = json.loads((out / "sequence.json").read_text())
    assert info["n"] == 12 and info["fps"] == 10 and info["video"] == "clip.mp4"
    cap = cv2.VideoCapture(str(out / "clip.mp4"))
    assert cap.isOpened()
    count = 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        assert img.shape[:2] == (64, 80)
        count += 1
    cap.release()
    assert count == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq"]  # nothing else written
    bad = subprocess.run([*base, "video=true"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "sequence=true" in bad.stderr
