"""Pictures of a run: training curves, prediction galleries, sweep reports (matplotlib, no screen)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seaSky.io import atomic_write

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


def _pyplot():
    """matplotlib.pyplot without a screen, imported on first use (commands that draw no plot skip it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


SEA_RGB = (0.1, 0.45, 1.0)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format=path.suffix[1:]))
    _pyplot().close(fig)
    return path


def plot_curves(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Train/val loss and val Dice/accuracy per epoch (epoch 0 = before training) -> PNG."""
    epochs = [int(r["epoch"]) for r in rows]

    def series(key: str) -> list[float]:
        return [float(r.get(key, math.nan)) for r in rows]

    fig, (ax_loss, ax_score) = _pyplot().subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(epochs, series("train/loss"), "o-", label="train loss")
    ax_loss.plot(epochs, series("val/loss"), "s-", label="val loss")
    ax_loss.set(xlabel="epoch (0 = before training)", ylabel="loss (mean over the epoch)", title="Loss")
    ax_score.plot(epochs, series("val/dice"), "o-", label="val Dice")
    ax_score.plot(epochs, series("val/acc"), "s-", label="val accuracy")
    ax_score.set(xlabel="epoch (0 = before training)", ylabel="score", title="Validation Dice and accuracy")
    for ax in (ax_loss, ax_score):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: max(1, len(epochs) // 10)])
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.35) -> np.ndarray:
    """RGB float image: the grey image with sea (mask == 1) tinted blue."""
    grey = np.clip(image.astype(np.float32), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    tint = np.array(SEA_RGB, np.float32)
    sea = mask.astype(bool)
    rgb[sea] = (1 - alpha) * rgb[sea] + alpha * tint
    return rgb


def error_map(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """RGB: black = right, red = false sea (predicted sea, is not), yellow = missed sea."""
    out = np.zeros((*truth.shape, 3), np.float32)
    out[(pred == 1) & (truth == 0)] = (1.0, 0.1, 0.1)
    out[(pred == 0) & (truth == 1)] = (1.0, 0.85, 0.1)
    return out


def plot_predictions(
    images: np.ndarray, truths: np.ndarray, preds: np.ndarray, path: str | Path, names: Sequence[str] = ()
) -> Path:
    """One row per sample: image / ground truth / prediction / errors -> PNG."""
    n = len(images)
    fig, axes = _pyplot().subplots(n, 4, figsize=(12, 2.6 * n), squeeze=False)
    for i in range(n):
        wrong = int((truths[i] != preds[i]).sum())
        panels = [
            (images[i], "image" + (f"  {names[i]}" if i < len(names) else "")),
            (overlay(images[i], truths[i]), "ground truth (blue = sea)"),
            (overlay(images[i], preds[i]), "prediction"),
            (error_map(truths[i], preds[i]), f"errors: {wrong} px (red false sea, yellow missed)"),
        ]
        for ax, (picture, label) in zip(axes[i], panels, strict=True):
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_title(label, fontsize=9)
            ax.axis("off")
    return _save(fig, path)


def plot_sweep(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Test Dice against parameter count and against wall time, one labelled point per job -> PNG."""
    fig, (ax_params, ax_time) = _pyplot().subplots(1, 2, figsize=(11, 4))
    for ax, key, label in (
        (ax_params, "params", "trainable parameters"),
        (ax_time, "wall_s", "wall time (s)"),
    ):
        xs = [float(row[key]) for row in rows]
        ys = [float(row["test/dice"]) for row in rows]
        ax.scatter(xs, ys, color="tab:blue")
        for x, y, row in zip(xs, ys, rows, strict=True):
            ax.annotate(f"#{row['job']}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if key == "params" and xs and max(xs) / max(min(xs), 1) > 20:
            ax.set_xscale("log")
        ax.set(xlabel=label, ylabel="test Dice", title=f"test Dice vs {label}")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


RAW_LINE_BGR = (0, 215, 255)  # the per-frame fitted horizon: amber, thin
TRACKED_LINE_BGR = (0, 0, 255)  # the tracked horizon of a sequence (or a still frame's line): red


def overlay_frame(
    image01: np.ndarray,
    mask: np.ndarray,
    line: tuple[float, float] | None,
    raw_line: tuple[float, float] | None = None,
) -> np.ndarray:
    """8-bit BGR picture of a frame: sea tinted blue, the horizon (y at x=0, y at x=W-1) drawn in red.

    ``image01``: the frame normalised to [0, 1] (float) or as 8-bit grey (uint8, 255 = 1). ``raw_line``:
    for sequences, the per-frame fit drawn thin in amber under the tracked ``line``.
    """
    import cv2

    grey = image01 if image01.dtype == np.uint8 else (np.clip(image01, 0, 1) * 255 + 0.5).astype(np.uint8)
    picture = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if mask.any():  # sea = grey * (1 - alpha) + alpha * tint, per channel by a look-up table: video rate
        alpha = 0.35
        levels = np.arange(256, dtype=np.float32)[:, None] * (1 - alpha)
        tint = 255 * alpha * np.array(SEA_RGB[::-1], np.float32)
        table = np.clip(levels + tint + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
        cv2.copyTo(cv2.LUT(picture, table), mask.astype(np.uint8, copy=False), picture)
    width = grey.shape[1]
    thickness = max(1, width // 320)
    for ends, colour, thick in ((raw_line, RAW_LINE_BGR, 1), (line, TRACKED_LINE_BGR, thickness)):
        if ends is None:
            continue
        shift = 4  # cv2 draws at sub-pixel positions given in 1/16 px
        start = (0, round(ends[0] * 16))
        end = (round((width - 1) * 16), round(ends[1] * 16))
        cv2.line(picture, start, end, colour, thick, cv2.LINE_AA, shift)
    return picture
