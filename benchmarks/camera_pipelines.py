"""How a model holds up when the camera's video pipeline changes: the same frames through the pipelines
real thermal cameras ship (histogram equalisation, local contrast (CLAHE), detail enhancement, gamma,
black-hot, JPEG, lower resolution, noise, blur, low contrast).

- **Synthetic, labelled**: held-out 8-bit default scenes (seed 2, which no recipe trains on), Dice of
  the sea class against the exact masks, per pipeline.
- **Real, label-free**: a folder of real frames (default: the shared MAR-DCT sequence, every 5th frame).
  With no labels, each pipeline's prediction is compared with the model's own prediction on the frame as
  it is: agreement Dice (median, min), and how far the horizon moves (median; frames moved more than 5 px
  or whose horizon was lost).
  A model that is right on the plain frames should not change its mind because the camera equalised them.

    python benchmarks/camera_pipelines.py [--ckpt PATH ...] [--names NAME ...] [--real DIR] [--out DIR]
        [--table PATH]

Writes ``benchmarks/camera_pipelines.md`` (or ``--table``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from seaSky.data.folder import read_image
from seaSky.footage import mask_dice
from seaSky.frames import list_inputs
from seaSky.inference import load_predictor
from seaSky.model.module import segmentation_metrics
from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.render.dataset import write_dataset
from seaSky.render.knobs import load_preset

N_SCENES, SEED = 300, 2
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-ir-unlabeled"
TABLE = Path(__file__).with_name("camera_pipelines.md")
MOVED_PX = 5.0


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], 0)


def _dde(image: np.ndarray) -> np.ndarray:
    """Digital detail enhancement: an edge-preserving base plus the detail layer amplified 3x."""
    f = image.astype(np.float32)
    base = cv2.bilateralFilter(f, 9, 30, 5)
    return np.clip(base + 3.0 * (f - base), 0, 255).astype(np.uint8)


def _lower_resolution(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    return cv2.resize(cv2.resize(image, (160, 120), interpolation=cv2.INTER_AREA), (w, h))


def _noise(image: np.ndarray) -> np.ndarray:
    noisy = image + np.random.default_rng(0).normal(0.0, 8.0, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _tone(gamma: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: (255.0 * (image / 255.0) ** gamma).astype(np.uint8)


PIPELINES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as recorded": lambda image: image,
    "histogram equalisation": cv2.equalizeHist,
    "CLAHE (clip 4, 8x8 tiles)": lambda image: cv2.createCLAHE(4.0, (8, 8)).apply(image),
    "detail enhancement (DDE)": _dde,
    "gamma 0.5": _tone(0.5),
    "gamma 2": _tone(2.0),
    "black-hot": lambda image: 255 - image,
    "low contrast (1/4)": lambda image: (96 + 0.25 * image).astype(np.uint8),
    "JPEG quality 20": lambda image: _jpeg(image, 20),
    "160x120 sensor": _lower_resolution,
    "noise (sigma 8)": _noise,
    "blur (sigma 2)": lambda image: cv2.GaussianBlur(image, (0, 0), 2.0),
}


def to_8bit(image: np.ndarray) -> np.ndarray:
    """A grey frame as 8-bit (16-bit frames scaled by their range), as the pipelines take it."""
    image = image if image.ndim == 2 else image[..., 0]
    if image.max() <= 255.0:  # 8-bit values (read as float)
        return image.astype(np.uint8)
    lo, hi = float(image.min()), float(image.max())
    return ((image - lo) * (255.0 / max(hi - lo, 1.0))).astype(np.uint8)


def synthetic_scores(predictor, root: Path) -> dict[str, float]:
    """Pooled sea Dice against the exact masks, per pipeline."""
    stems = sorted(p.stem for p in (root / "images").glob("*.png"))
    images = [to_8bit(read_image(root / "images" / f"{s}.png")) for s in stems]
    truth = [read_image(root / "masks" / f"{s}.png") > 0 for s in stems]
    as_tensor = lambda mask: torch.from_numpy(mask.astype(np.int64))[None]  # noqa: E731
    out = {}
    for name, pipeline in PIPELINES.items():
        metrics = segmentation_metrics()  # pooled over every pixel of every scene
        for k in range(0, len(images), 32):
            results = predictor.predict([pipeline(im) for im in images[k : k + 32]])
            for result, mask in zip(results, truth[k : k + 32], strict=True):
                metrics.update(as_tensor(result.mask), as_tensor(mask))
        out[name] = float(metrics.compute()["dice"])
    return out


def real_scores(predictor, frames: list[np.ndarray]) -> dict[str, dict]:
    """Agreement with the prediction on the frame as recorded, per pipeline."""
    plain = predictor.predict(frames)
    out = {}
    for name, pipeline in PIPELINES.items():
        results = predictor.predict([pipeline(im) for im in frames])
        agree, moved = [], []
        for result, ref in zip(results, plain, strict=True):
            agree.append(mask_dice(result.mask, ref.mask))
            if result.horizon and ref.horizon:
                moved.append(abs(result.horizon.centre_y - ref.horizon.centre_y))
            else:
                moved.append(np.inf if (result.horizon is None) != (ref.horizon is None) else 0.0)
        moved_arr = np.array(moved)
        out[name] = {
            "agree_median": float(np.median(agree)),
            "agree_min": float(np.min(agree)),
            "dy_median": float(np.median(moved_arr)),
            "n_moved": int((moved_arr > MOVED_PX).sum()),
        }
    return out


def table(
    names: list[str], synthetic: list[dict], real: list[dict], n_syn: int, n_real: int, src: str
) -> str:
    lines = [
        "# Camera pipelines",
        "",
        f"Written by `python benchmarks/camera_pipelines.py`. Synthetic: Dice of the sea class on {n_syn} "
        f"held-out 8-bit default scenes (seed {SEED}). Real: {n_real} frames of `{src}`, compared with the "
        f"model's own prediction on the frame as recorded: agreement Dice median / min, horizon shift "
        f"median, frames whose horizon moved more than {MOVED_PX:g} px (or was lost).",
        "",
    ]
    for name, syn, rea in zip(names, synthetic, real, strict=True):
        lines += [
            f"## {name}",
            "",
            "| pipeline | synthetic Dice | real: agreement median / min | real: horizon shift median "
            "| real: moved > 5 px |",
            "|---|---|---|---|---|",
        ]
        for p in PIPELINES:
            r = rea[p]
            lines.append(
                f"| {p} | {syn[p]:.4f} | {r['agree_median']:.4f} / {r['agree_min']:.4f} | "
                f"{r['dy_median']:.2f} px | {r['n_moved']} of {n_real} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, nargs="+", default=[PRETRAINED_CKPT])
    parser.add_argument("--names", nargs="+", help="a heading per --ckpt (default: the paths)")
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--every", type=int, default=5, help="use every n-th real frame")
    parser.add_argument("--out", type=Path, default=Path("outputs/camera_pipelines"))
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    names = args.names or [str(c) for c in args.ckpt]
    if len(names) != len(args.ckpt):
        sys.exit(f"--names: {len(names)} names for {len(args.ckpt)} checkpoints")
    start = time.perf_counter()
    root = args.out / f"default8_seed{SEED}"
    if not (root / "dataset.json").is_file():
        write_dataset(root, n=N_SCENES, seed=SEED, scene=load_preset("default"), bit_depth=8)
    if not args.real.is_dir():
        sys.exit(f"{args.real}: no such folder of real frames (--real DIR)")
    frames = [to_8bit(read_image(p)) for p in list_inputs(str(args.real))[:: args.every]]
    synthetic, real = [], []
    for ckpt in args.ckpt:
        predictor = load_predictor(ckpt)
        synthetic.append(synthetic_scores(predictor, root))
        real.append(real_scores(predictor, frames))
    args.table.write_text(table(names, synthetic, real, N_SCENES, len(frames), args.real.name) + "\n")
    print(args.table.read_text())
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
