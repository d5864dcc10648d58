"""How real do the synthetic scenes look, in numbers: synthetic and real frames through the same statistics,
measured around each frame's horizon (8-bit frames, as cameras ship them).

- **horizon step**: |mean of the 6 rows below the horizon - mean of the 6 rows above| (2 rows left out on
  each side), in units of the frame's noise (the robust sigma of horizontal pixel differences / sqrt 2).
  Low: only texture tells sky from sea.
- **sky gradient**: |mean of rows 12-17 above the horizon - mean of rows 2-7 above|, in noise units: how
  much the sky brightens towards the horizon over ten rows.
- **sea / sky anisotropy**: mean squared vertical pixel difference over mean squared horizontal difference,
  in a band of 24 rows below (sea) and above (sky) the horizon. Horizontal streaks (real ripples) give
  values above 1; round blotches about 1.
- **sea / sky fine texture**: the standard deviation of the band's pixel differences (vertical) over its
  noise-free spread (std of the band after a 5x5 box blur); high: fine texture, low: large blotches.
- **foam contrast**: (99.5th percentile - median) of the sea band, in noise units: bright breaking waves.
- **grey span**: the frame's 1st-99th percentile range in grey levels (of 255): how much of the 8-bit
  range the camera's AGC uses.

Sources: synthetic 8-bit default scenes (seed 2, held out from training; the horizon from meta.csv), the
labelled dev frames (their lines) and every 5th frame of the shared sequence (the shipped model's
horizon). p10 / p50 / p90 over frames.

    python benchmarks/realism.py [--n 200] [--presets default real2 real3 real4] [--table PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from real_dev import dev_labels

from seaSky.data.folder import read_image
from seaSky.frames import list_inputs
from seaSky.inference import load_predictor
from seaSky.render.dataset import read_meta, renderer_fingerprint, write_dataset
from seaSky.render.knobs import load_preset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEV = SHARED / "real-ir-horizon-dev"
SEQUENCE = SHARED / "real-ir-unlabeled"
TABLE = Path(__file__).with_name("realism.md")
BAND = 24  # rows of sea / sky measured beside the horizon
STATS = (
    "horizon_step", "sky_gradient", "sea_anisotropy", "sky_anisotropy", "sea_fine", "sky_fine", "foam",
    "grey_span",
)  # fmt: skip


def to_8bit(image: np.ndarray) -> np.ndarray:
    """A grey frame as 8-bit values (wider frames scaled by their 0.5-99.5 % range)."""
    if image.max() <= 255 and image.min() >= 0:
        return image.astype(np.float32)
    lo, hi = np.percentile(image, (0.5, 99.5))
    return np.clip((image - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.float32)


def noise_sigma(image: np.ndarray) -> float:
    """Robust noise sigma: the MAD of horizontal pixel differences (1.4826 MAD / sqrt 2), at least 0.3."""
    diff = np.diff(image, axis=1)
    mad = np.median(np.abs(diff - np.median(diff)))
    return max(1.4826 * float(mad) / np.sqrt(2.0), 0.3)


def straighten(image: np.ndarray, y_left: float, y_right: float) -> tuple[np.ndarray, int]:
    """The frame rotated so that the horizon is level, and the horizon's row in it."""
    height, width = image.shape
    angle = np.degrees(np.arctan2(y_right - y_left, width - 1))
    centre = (width / 2.0, (y_left + y_right) / 2.0)
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    level = cv2.warpAffine(image, rotation, (width, height), flags=cv2.INTER_LINEAR, borderValue=np.nan)
    return level, round(centre[1])


def _rows(level: np.ndarray, start: int, stop: int) -> np.ndarray:
    height = level.shape[0]
    band = level[max(start, 0) : min(stop, height)]
    return band[:, np.isfinite(band).all(axis=0)] if band.size else band


def frame_stats(image: np.ndarray, y_left: float, y_right: float) -> dict | None:
    """The statistics of one frame around its horizon; None when too little sea or sky is in view."""
    image = to_8bit(image)
    sigma = noise_sigma(image)
    level, row = straighten(image, y_left, y_right)
    sea, sky = _rows(level, row + 3, row + 3 + BAND), _rows(level, row - 2 - BAND, row - 2)
    if sea.shape[0] < 12 or sky.shape[0] < 18 or min(sea.shape[1], sky.shape[1]) < 16:
        return None
    below, above = _rows(level, row + 3, row + 9), _rows(level, row - 8, row - 2)
    far_sky = _rows(level, row - 18, row - 12)
    stats = {
        "horizon_step": abs(float(np.mean(below)) - float(np.mean(above))) / sigma,
        "sky_gradient": abs(float(np.mean(far_sky)) - float(np.mean(above))) / sigma,
        "foam": float(np.percentile(sea, 99.5) - np.median(sea)) / sigma,
        "grey_span": float(np.subtract(*np.percentile(image, (99, 1)))),
    }
    for name, band in (("sea", sea), ("sky", sky)):
        dy, dx = np.diff(band, axis=0), np.diff(band, axis=1)
        stats[f"{name}_anisotropy"] = float(np.mean(dy**2) / max(np.mean(dx**2), 1e-6))
        smooth = cv2.blur(band, (5, 5))
        stats[f"{name}_fine"] = float(np.std(dy) / max(np.std(smooth), 1e-3))
    return stats


def synthetic_frames(root: Path) -> list[tuple[np.ndarray, float, float]]:
    return [
        (read_image(root / "images" / f"{row['stem']}.png"), float(row["y_left"]), float(row["y_right"]))
        for row in read_meta(root)
        if row["y_left"] and row["y_right"]
    ]


def dev_frames(dev: Path) -> list[tuple[np.ndarray, float, float]]:
    """The dev frames with their labelled lines (real_dev.dev_labels)."""
    return [(x["image"], x["line"].y_left, x["line"].y_right) for x in dev_labels(dev)]


def sequence_frames(sequence: Path, every: int) -> list[tuple[np.ndarray, float, float]]:
    predictor = load_predictor(None)  # the shipped model: its horizon (every frame within bars there)
    images = [read_image(p) for p in list_inputs(str(sequence))[::every]]
    results = predictor.predict(images)
    pairs = zip(images, results, strict=True)
    return [(image, r.horizon.y_left, r.horizon.y_right) for image, r in pairs if r.horizon is not None]


def percentiles(frames: list[tuple[np.ndarray, float, float]]) -> dict[str, tuple[float, float, float]]:
    rows = [s for s in (frame_stats(*f) for f in frames) if s is not None]
    return {k: tuple(float(v) for v in np.percentile([r[k] for r in rows], (10, 50, 90))) for k in STATS} | {
        "n": (len(rows), len(frames), 0)
    }


def table(sources: dict[str, dict]) -> str:
    names = list(sources)
    lines = [
        "# Synthetic against real frames (benchmarks/realism.py)",
        "",
        "p10 / p50 / p90 over frames; see the script's docstring for each statistic. Frames measured: "
        + ", ".join(f"{name} {sources[name]['n'][0]} of {sources[name]['n'][1]}" for name in names)
        + " (the rest have too little sea or sky in view).",
        "",
        "| statistic | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key in STATS:
        cells = [" / ".join(f"{v:.2f}" for v in sources[name][key]) for name in names]
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="synthetic scenes")
    parser.add_argument("--presets", nargs="+", default=["default", "real2", "real3", "real4"])
    parser.add_argument("--out", type=Path, default=Path("outputs/realism"))
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    start = time.perf_counter()
    sources = {}
    for preset in args.presets:
        root = args.out / f"{preset}8_seed2_n{args.n}_{renderer_fingerprint()[:8]}"  # a new renderer: new set
        write_dataset(root, n=args.n, seed=2, scene=load_preset(preset), bit_depth=8)  # kept when there
        sources[f"synthetic ({preset})"] = percentiles(synthetic_frames(root))
    sources["real: dev frames"] = percentiles(dev_frames(DEV))
    sources["real: shared sequence"] = percentiles(sequence_frames(SEQUENCE, 5))
    args.table.write_text(table(sources) + "\n")
    print(args.table.read_text())
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
