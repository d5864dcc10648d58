"""Shared test helpers and fixtures: tiny IR-like folders written on the fly, the composed training config
with tiny overrides, a session-wide synthetic-scene cache and a tiny trained checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from seaSky.paths import CONFIG_DIR

# tiny synthetic scenes so a whole training takes seconds on 2 cores
TINY = [
    "data.n=48",
    "data.render_size=[32,40]",
    "data.image_size=[32,40]",
    "data.batch_size=8",
    "data.workers=1",
    "model.depth=2",
    "model.base_channels=8",
    "trainer.accelerator=cpu",
    "callbacks.rich_progress_bar=null",
    "logger=csv",
]


def make_cfg(output_dir: Path, data_dir: Path, overrides: list[str]) -> DictConfig:
    """Compose conf/train.yaml as the CLI would, with the run and data dirs in temporary folders."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.paths.data_dir = str(data_dir)
    return cfg


def run_cli(
    module: str, *args: str, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """``python -m seaSky.<module> ARGS...`` in a subprocess, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", f"seaSky.{module}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def boundary_errors(scene) -> list[float]:
    """|chord - mask boundary| - (0.5 px + curve-to-chord deviation), per column with a 0 -> 1 boundary
    and no object (none for a waterline truth: near coasts and quays have tests of their own)."""
    m, obj, meta = scene.mask, scene.object_mask, scene.meta
    if meta["horizon_kind"] == "waterline":
        return []
    yl, yr = meta["y_left"], meta["y_right"]
    tol = 0.5 + meta["horizon_max_dev_px"] / np.cos(np.radians(meta["horizon_angle_deg"]))
    out = []
    for x in range(m.shape[1]):
        if obj[:, x].any():
            continue
        col = m[:, x]
        b = int((col == 0).sum())
        if not 0 < b < len(col):
            continue
        assert (col[:b] == 0).all() and (col[b:] == 1).all(), f"column {x} is not sky-then-sea"
        chord = yl + (yr - yl) * x / (m.shape[1] - 1)
        out.append(abs(chord - (b - 0.5)) - tol - 1e-6)
    return out


def count_frames(path: Path) -> int:
    """Frames OpenCV decodes from a video file."""
    capture = cv2.VideoCapture(str(path))
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    return n


def write_scene(images: Path, masks: Path, stem: str, size=(32, 40), seed=0, bits=8, suffix=".png") -> None:
    """A simple synthetic frame: sky above a tilted line, sea below, with noise; mask 255 = sea."""
    rng = np.random.default_rng(seed)
    h, w = size
    y0, slope = rng.uniform(0.3, 0.7) * h, rng.uniform(-0.2, 0.2)
    yy, xx = np.mgrid[0:h, 0:w]
    sea = yy > y0 + slope * (xx - w / 2)
    sky_level, sea_level = (0.3, 0.6) if rng.random() < 0.5 else (0.6, 0.3)
    image = np.where(sea, sea_level, sky_level) + rng.normal(0, 0.03, size)
    scale = 255 if bits == 8 else 16383
    dtype = np.uint8 if bits == 8 else np.uint16
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(images / f"{stem}{suffix}"), (np.clip(image, 0, 1) * scale).astype(dtype))
    cv2.imwrite(str(masks / f"{stem}.png"), sea.astype(np.uint8) * 255)


@pytest.fixture
def ir_folder(tmp_path: Path) -> Path:
    """ROOT/images + ROOT/masks with 20 frames of 32x40, no splits folder (random split)."""
    root = tmp_path / "ir"
    for i in range(20):
        write_scene(root / "images", root / "masks", f"f{i:03d}", seed=i)
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic-scene cache for the whole session: each set is rendered once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained on 32x40 synthetic scenes for 2 epochs (seconds), shared by the session."""
    from seaSky.train import train

    run = tmp_path_factory.mktemp("tiny_run")
    results = train(make_cfg(run, run / "data", [*TINY, "logger=csv", "trainer.max_epochs=2"]))
    return Path(results["ckpt_best"])


from browser import browser  # noqa: E402, F401  (the headless-chromium fixture for the browser tests)
