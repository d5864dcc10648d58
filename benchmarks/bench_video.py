"""End-to-end video prediction speed at 640x512, per backend, with and without the overlay video; and the
tracked horizon's steadiness on the same clip.

The clip: the frames of ``--frames-dir`` (default ``../shared/real-ir-unlabeled``, 175 real 640x512 frames,
played forth and back: 350 frames), or, where that folder is missing, 350 synthetic scenes rendered at
640x512, encoded as an mp4v video in a temporary folder. Each figure times ``seaSky.sequence`` as
``python -m seaSky.predict input=clip.mp4`` runs it: decoding (reader thread), normalisation, the network,
the horizon fit, the tracker, and writing horizon.csv (plus drawing and encoding overlay.mp4 when on), after a
warm-up pass over 32 frames. The network's input size is the checkpoint's (unchanged).

Run: python benchmarks/bench_video.py [--ckpt PATH] [--out benchmarks/video.md]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from seaSky.config import fast_precision
from seaSky.export import export_onnx
from seaSky.inference import OnnxPredictor, Predictor
from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.sequence import open_sequence, predict_sequence

REPO = Path(__file__).resolve().parents[1]
SHARED_FRAMES = REPO.parent / "shared" / "real-ir-unlabeled"
WIDTH, HEIGHT = 640, 512


def make_clip(path: Path, frames_dir: Path | None, n_synthetic: int = 350) -> tuple[Path, str]:
    """Write the benchmark clip; (path, what it shows)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (WIDTH, HEIGHT))
    if frames_dir is not None and frames_dir.is_dir() and any(frames_dir.glob("*.png")):
        files = sorted(frames_dir.glob("*.png"))
        for file in files + files[::-1]:
            frame = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            writer.write(cv2.cvtColor(cv2.resize(frame, (WIDTH, HEIGHT)), cv2.COLOR_GRAY2BGR))
        what = f"{len(files)} real frames of {frames_dir.name}, forth and back ({2 * len(files)} frames)"
    else:
        from seaSky.render.knobs import load_preset
        from seaSky.render.pipeline import render_scene

        scene = load_preset("default")
        for i in range(n_synthetic):
            image = render_scene(i, WIDTH, HEIGHT, scene).image
            low, high = np.percentile(image, [1, 99])
            grey = np.clip((image - low) / max(high - low, 1e-6) * 255, 0, 255).astype(np.uint8)
            writer.write(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
        what = f"{n_synthetic} synthetic scenes (default preset)"
    writer.release()
    return path, what


def time_clip(predictor: Predictor, clip: Path, out: Path, overlay: bool, batch_size: int) -> dict:
    """One timed pass of the clip (after a 32-frame warm-up); frames, seconds, frames/s."""
    warm = open_sequence(str(clip))
    first = [item for _, item in zip(range(32), warm.frames, strict=False)]
    warm.close()
    short = warm.__class__(iter(first), warm.name, warm.fps, len(first), False)
    predict_sequence(predictor, short, out / "warm", overlay=overlay, batch_size=batch_size, progress=False)
    source = open_sequence(str(clip))
    summary = predict_sequence(
        predictor, source, out / "run", overlay=overlay, batch_size=batch_size, progress=False
    )
    return {"frames": summary.frames, "seconds": summary.seconds, "fps": summary.fps}


def steadiness(csv_path: Path, n: int) -> dict:
    """Raw vs tracked centre height over the first ``n`` rows: the largest frame-to-frame step, and the
    jitter: RMS of the second difference (frame-to-frame change of the step: 0 for any steady motion of the
    camera, so it measures the line's noise, not the camera's motion)."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))[:n]

    def centre(row: dict, prefix: str) -> float:
        left, right = row[f"{prefix}y_left"], row[f"{prefix}y_right"]
        return (float(left) + float(right)) / 2 if left and right else np.nan

    result = {}
    for name, prefix in (("raw", ""), ("tracked", "tracked_")):
        heights = np.array([centre(row, prefix) for row in rows])
        steps = np.diff(heights)
        result[name] = {
            "frames_with_line": int(np.isfinite(heights).sum()),
            "max_step": float(np.nanmax(np.abs(steps))),
            "median_step": float(np.nanmedian(np.abs(steps))),
            "jitter": float(np.sqrt(np.nanmean(np.diff(heights, 2) ** 2))),
        }
    return result


def precision_agreement(ckpt: Path, clip: Path, n: int = 175) -> dict | None:
    """bf16 against float32 predictions of the first ``n`` frames of the clip: share of mask pixels that
    differ, largest probability difference, largest horizon shift (px). None where bf16 is not native."""
    if not fast_precision("cpu").startswith("bf16"):
        return None
    source = open_sequence(str(clip))
    frames = [frame for _, (_, _, frame, _) in zip(range(n), source.frames, strict=False)]
    source.close()
    exact = Predictor.from_checkpoint(ckpt, precision="32").predict(frames)
    fast = Predictor.from_checkpoint(ckpt, precision="bf16").predict(frames)
    shifts = [
        abs(a.horizon.centre_y - b.horizon.centre_y)
        for a, b in zip(exact, fast, strict=True)
        if a.horizon is not None and b.horizon is not None
    ]
    return {
        "frames": len(frames),
        "pixels_differing_mean": float(
            np.mean([(a.mask != b.mask).mean() for a, b in zip(exact, fast, strict=True)])
        ),
        "prob_max_diff": float(max(np.abs(a.prob - b.prob).max() for a, b in zip(exact, fast, strict=True))),
        "horizon_max_shift_px": float(max(shifts)) if shifts else None,
    }


def measure_video(ckpt: Path | None = None, frames_dir: Path | None = SHARED_FRAMES) -> dict:
    """Every figure of the video benchmark, measured in this call."""
    ckpt = Path(ckpt) if ckpt else PRETRAINED_CKPT
    native_bf16 = fast_precision("cpu").startswith("bf16")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip, what = make_clip(tmp / "clip.mp4", frames_dir)
        backends: list[tuple[str, Predictor]] = []
        if native_bf16:
            backends.append(
                (
                    "PyTorch bf16 (native on this CPU; precision=auto)",
                    Predictor.from_checkpoint(ckpt, precision="bf16"),
                )
            )
        backends.append(("PyTorch float32", Predictor.from_checkpoint(ckpt, precision="32")))
        backends.append(("ONNX Runtime float32", OnnxPredictor(export_onnx(ckpt, tmp / "model.onnx"))))
        rows = []
        for name, predictor in backends:
            for overlay in (True, False):
                for batch in (16, 1):
                    figures = time_clip(predictor, clip, tmp / "out", overlay, batch)
                    rows.append({"backend": name, "overlay": overlay, "batch": batch, **figures})
                    for sub in ("warm", "run"):
                        for file in (tmp / "out" / sub).glob("*"):
                            file.unlink()
        first = backends[0][1]
        source = open_sequence(str(clip))
        predict_sequence(first, source, tmp / "steady", overlay=False, progress=False)
        n_real = 175 if "real" in what else None
        steady = steadiness(tmp / "steady" / "horizon.csv", n_real or 10**9)
        agreement = precision_agreement(ckpt, clip)
    return {
        "clip": what,
        "network_input": list(first.image_size),
        "rows": rows,
        "steadiness": steady,
        "agreement": agreement,
        "threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
    }


def to_markdown(figures: dict) -> str:
    """The benchmark's figures as a Markdown section."""
    lines = [
        f"Clip: {figures['clip']}, {WIDTH}x{HEIGHT} px mp4v; network input {figures['network_input']} "
        f"(unchanged); {figures['cores']} CPU cores, torch threads {figures['threads']}.",
        "",
        "| backend | overlay.mp4 | batch | frames | seconds | frames/s end to end |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["rows"]:
        lines.append(
            f"| {row['backend']} | {'written' if row['overlay'] else 'off'} | {row['batch']} | "
            f"{row['frames']} | {row['seconds']:.2f} | {row['fps']:.1f} |"
        )
    steady = figures["steadiness"]
    lines += [
        "",
        "Horizon steadiness on the clip's first pass (centre height, px; jitter = RMS of the second "
        "difference: 0 for any steady camera motion):",
        "",
        "| line | frames with a line | largest frame-to-frame step | median step | jitter |",
        "|---|---|---|---|---|",
    ]
    for name in ("raw", "tracked"):
        s = steady[name]
        lines.append(
            f"| {name} | {s['frames_with_line']} | {s['max_step']:.2f} | {s['median_step']:.3f} | "
            f"{s['jitter']:.3f} |"
        )
    ratio = steady["tracked"]["jitter"] / max(steady["raw"]["jitter"], 1e-9)
    lines += ["", f"Tracked jitter / raw jitter: {ratio:.2f}."]
    agree = figures.get("agreement")
    if agree:
        lines += [
            "",
            f"bf16 against float32 (PyTorch, first {agree['frames']} frames): "
            f"{agree['pixels_differing_mean'] * 100:.4f} % of mask pixels differ on average, probabilities "
            f"by {agree['prob_max_diff']:.3f} at most, the horizon moves "
            f"{agree['horizon_max_shift_px']:.3f} px at most.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default=None, help="checkpoint (default: the pretrained model)")
    parser.add_argument("--frames-dir", type=Path, default=SHARED_FRAMES)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "video.md")
    args = parser.parse_args()
    start = time.perf_counter()
    figures = measure_video(args.ckpt, args.frames_dir)
    text = (
        f"# End-to-end video prediction at {WIDTH}x{HEIGHT}\n\n"
        f"`python benchmarks/bench_video.py` on {datetime.date.today()} "
        f"({time.perf_counter() - start:.0f} s).\n\n" + to_markdown(figures) + "\n"
    )
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
