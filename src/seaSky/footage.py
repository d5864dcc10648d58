"""Label-free checks of a model on a sequence of real frames (no masks needed).

On consecutive frames of one camera the horizon moves smoothly and the sea is one region that reaches the
bottom of the frame; a prediction should not change when the frame is mirrored left-right. Per frame:
the horizon (centre height, angle, confidence), the agreement (Dice) between the prediction and the
mirrored prediction of the mirrored frame, whether the sea touches the bottom edge, and in how many
pieces it is. Over the sequence: frame-to-frame |dy| (centre height) and |d angle|, and jumps above a
threshold. ``seaSky.check_footage`` writes them; ``seaSky.adapt`` reads them before and after.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy import ndimage

from seaSky.errors import DataError
from seaSky.inference import Prediction, Predictor
from seaSky.model.module import segmentation_metrics

MIN_PIECE = 0.002  # sea pieces smaller than this share of the frame are not counted (foam, glint specks)


@dataclass(frozen=True)
class FrameCheck:
    """The label-free checks of one frame."""

    stem: str
    has_horizon: bool
    centre_y: float  # px of the frame at its centre column; NaN without a horizon
    angle_deg: float  # NaN without a horizon
    confidence: float  # 0 without a horizon
    mirror_dice: float  # Dice of the sea masks of the frame and of its mirror image (mirrored back)
    sea_share: float
    sea_touches_bottom: bool  # False also when there is no sea at all
    sea_pieces: int  # connected sea regions larger than MIN_PIECE of the frame


class OneSize:
    """Refuses a sequence whose frames differ in size: the frame-to-frame figures are in px of one frame
    size, and frames of two sizes are not one camera's sequence (``seaSky.predict`` refuses them too)."""

    def __init__(self) -> None:
        self.first: tuple[str, tuple[int, int]] | None = None

    def check(self, label: str, image: np.ndarray) -> None:
        """DataError naming ``label`` (a file, or a video's frame) and the first frame where their sizes
        differ."""
        size = (int(image.shape[0]), int(image.shape[1]))
        if self.first is None:
            self.first = (label, size)
            return
        first, (height, width) = self.first
        if size != (height, width):
            raise DataError(
                f"{label}: {size[1]}x{size[0]} px, but {first}: {width}x{height} px; the checks compare "
                "horizon heights in px from frame to frame, so every frame of a sequence must have one "
                "size (one camera)"
            )


def mirror_dice(mask: np.ndarray, mirrored_mask: np.ndarray) -> float:
    """Sea Dice of ``mask`` and the prediction for the mirrored frame, mirrored back; 1 when both have no
    sea."""
    return mask_dice(mask, mirrored_mask[:, ::-1])


def mask_dice(mask: np.ndarray, other: np.ndarray) -> float:
    """Sea Dice (torchmetrics) of two masks of one frame; 1 when both have no sea."""
    a = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.int64))
    b = torch.from_numpy(np.ascontiguousarray(other, dtype=np.int64))
    if not a.any() and not b.any():
        return 1.0
    metrics = segmentation_metrics()
    metrics.update(a[None], b[None])
    return float(metrics.compute()["dice"])


def sea_pieces(mask: np.ndarray, min_share: float = MIN_PIECE) -> int:
    """Connected (4-neighbour) sea regions of at least ``min_share`` of the frame."""
    labels, n = ndimage.label(mask.astype(bool))
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= min_share * mask.size).sum())


def check_frame(stem: str, result: Prediction, mirrored: Prediction) -> FrameCheck:
    """The checks of one frame from its prediction and that of its mirror image."""
    line = result.horizon
    return FrameCheck(
        stem=stem,
        has_horizon=line is not None,
        centre_y=float(line.centre_y) if line else math.nan,
        angle_deg=float(line.angle_deg) if line else math.nan,
        confidence=float(line.confidence) if line else 0.0,
        mirror_dice=mirror_dice(result.mask, mirrored.mask),
        sea_share=float(result.mask.mean()),
        sea_touches_bottom=bool(result.mask[-1].any()),
        sea_pieces=sea_pieces(result.mask),
    )


def check_batch(predictor: Predictor, frames: Sequence[tuple[str, np.ndarray]]) -> list[FrameCheck]:
    """Checks of a batch of (stem, raw frame): the frames and their mirror images in one network call."""
    mirrors = [np.ascontiguousarray(image[:, ::-1]) for _, image in frames]
    results = predictor.predict([image for _, image in frames] + mirrors)
    n = len(frames)
    return [check_frame(stem, results[i], results[n + i]) for i, (stem, _) in enumerate(frames)]


def frame_steps(checks: Sequence[FrameCheck]) -> tuple[np.ndarray, np.ndarray]:
    """|dy| (px) and |d angle| (deg) from each frame to the next; NaN where either has no horizon."""
    y = np.array([c.centre_y for c in checks], dtype=np.float64)
    a = np.array([c.angle_deg for c in checks], dtype=np.float64)
    return np.abs(np.diff(y)), np.abs(np.diff(a))


def _stats(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if not len(values):
        return {"median": None, "p95": None, "max": None}
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "max": float(values.max()),
    }


def summarize(checks: Sequence[FrameCheck], jump_px: float = 5.0) -> dict:
    """The sequence's figures: horizon share and confidence, frame-to-frame steps and jumps, mirror
    agreement, and the shares of frames whose sea misses the bottom edge or is in several pieces."""
    n = len(checks)
    dy, da = frame_steps(checks)
    conf = np.array([c.confidence for c in checks if c.has_horizon])
    mirror = np.array([c.mirror_dice for c in checks])
    return {
        "n_frames": n,
        "share_with_horizon": sum(c.has_horizon for c in checks) / n if n else 0.0,
        "confidence": _stats(conf),
        "confidence_p5": float(np.percentile(conf, 5)) if len(conf) else None,
        "step_dy_px": _stats(dy),
        "step_dangle_deg": _stats(da),
        "jump_px": jump_px,
        "n_jumps": int((dy[np.isfinite(dy)] > jump_px).sum()),
        "mirror_dice": {**_stats(mirror), "mean": float(mirror.mean()) if n else None},
        "mirror_dice_min": float(mirror.min()) if n else None,
        "share_sea_off_bottom": sum(not c.sea_touches_bottom for c in checks) / n if n else 0.0,
        "share_sea_in_pieces": sum(c.sea_pieces > 1 for c in checks) / n if n else 0.0,
    }


def worse_checks(
    before: dict, after: dict, mirror_drop: float = 0.005, share_rise: float = 0.01
) -> list[str]:
    """The label-free checks in which ``after`` (a :func:`summarize` of the same frames) is worse than
    ``before``: fewer frames with a horizon, more jumps, a mirror-agreement minimum lower by more than
    ``mirror_drop``, or a share of frames with sea in pieces or off the bottom edge higher by more than
    ``share_rise``. Empty when it is no worse."""
    worse = []
    if after["share_with_horizon"] < before["share_with_horizon"]:
        worse.append(
            f"frames with a horizon {before['share_with_horizon']:.1%} -> {after['share_with_horizon']:.1%}"
        )
    if after["n_jumps"] > before["n_jumps"]:
        worse.append(f"jumps > {after['jump_px']:g} px {before['n_jumps']} -> {after['n_jumps']}")
    mirror_before, mirror_after = before["mirror_dice_min"] or 0.0, after["mirror_dice_min"] or 0.0
    if mirror_before - mirror_after > mirror_drop:
        worse.append(f"mirror Dice min {mirror_before:.4f} -> {mirror_after:.4f}")
    for key, name in (
        ("share_sea_in_pieces", "sea in pieces"),
        ("share_sea_off_bottom", "sea off the bottom edge"),
    ):
        if after[key] - before[key] > share_rise:
            worse.append(f"{name} {before[key]:.1%} -> {after[key]:.1%}")
    return worse


def problem_scores(checks: Sequence[FrameCheck], jump_px: float = 5.0) -> np.ndarray:
    """How suspect each frame is, for ranking the worst: its larger step to a neighbour in units of
    ``jump_px``, plus 10 x its mirror disagreement (1 - Dice), plus 1 each for no horizon, sea off the
    bottom edge and sea in pieces, plus 1 - confidence."""
    dy, _ = frame_steps(checks)
    dy = np.where(np.isfinite(dy), dy, 0.0)
    step = np.zeros(len(checks))
    if len(checks) > 1:
        step = np.maximum(np.r_[0.0, dy], np.r_[dy, 0.0])
    return np.array(
        [
            step[i] / jump_px
            + 10 * (1 - c.mirror_dice)
            + (not c.has_horizon)
            + (not c.sea_touches_bottom)
            + (c.sea_pieces > 1)
            + (1 - c.confidence)
            for i, c in enumerate(checks)
        ]
    )


def rows(checks: Sequence[FrameCheck], scores: np.ndarray) -> list[dict]:
    """Per-frame rows (for frames.csv), with the step to the previous frame and the problem score."""
    dy, da = frame_steps(checks)
    out = []
    for i, c in enumerate(checks):
        row = asdict(c)
        row["step_dy_px"] = float(dy[i - 1]) if i else math.nan
        row["step_dangle_deg"] = float(da[i - 1]) if i else math.nan
        row["problem_score"] = float(scores[i])
        out.append(row)
    return out
