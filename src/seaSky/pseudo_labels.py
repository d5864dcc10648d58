"""Pseudo-labels for self-training on unlabelled frames: the model's own masks, kept only where they can be
trusted.

A pixel is kept where the prediction for the frame, for its mirror image (mirrored back) and for a
photometric variant (another tone curve and contrast, as another camera would give) all agree with a
probability beyond ``pixel_confidence``. A frame is used where its horizon fit is confident, its mask
agrees with its mirror image's, and enough of its pixels are kept. Everything works at the network's
input size, on frames preprocessed as in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seaSky.footage import mirror_dice
from seaSky.horizon import fit_horizon
from seaSky.inference import Predictor


@dataclass(frozen=True)
class TrustRules:
    """When a pseudo-label is trusted (see the module docstring)."""

    pixel_confidence: float = 0.9
    horizon_confidence: float = 0.6
    mirror_dice: float = 0.97
    kept_share: float = 0.6


@dataclass(frozen=True)
class PseudoLabel:
    """One frame's pseudo-label at the network's size."""

    stem: str
    image: np.ndarray  # (H, W) float32, preprocessed as in training
    mask: np.ndarray  # (H, W) uint8, 1 = sea
    keep: np.ndarray  # (H, W) uint8, 1 = trusted pixel
    horizon_confidence: float  # 0 without a horizon
    mirror_dice: float
    used: bool  # the frame passes the rules


def photometric_variant(image: np.ndarray) -> np.ndarray:
    """The same frame as another camera's pipeline might show it: a gamma and contrast change."""
    x = np.clip(image, 0.0, 1.0)
    return (0.1 + 0.8 * np.power(x, 0.7)).astype(np.float32)


def pseudo_labels(
    predictor: Predictor, frames: Sequence[tuple[str, np.ndarray]], rules: TrustRules
) -> list[PseudoLabel]:
    """Pseudo-labels of a batch of (stem, raw frame) from the predictor's current model."""
    images = np.stack([predictor.preprocess(frame) for _, frame in frames])
    variants = np.concatenate([images, images[:, :, ::-1], photometric_variant(images)])
    probs = predictor.network_probabilities(np.ascontiguousarray(variants[:, None]))
    n = len(frames)
    labels = []
    for i, (stem, _) in enumerate(frames):
        p, p_mirror, p_photo = probs[i], probs[n + i][:, ::-1], probs[2 * n + i]
        sea = np.minimum(np.minimum(p, p_mirror), p_photo) > rules.pixel_confidence
        sky = np.maximum(np.maximum(p, p_mirror), p_photo) < 1.0 - rules.pixel_confidence
        mask = (p > predictor.threshold).astype(np.uint8)
        keep = (sea | sky).astype(np.uint8)
        line = fit_horizon(mask, p)
        confidence = float(line.confidence) if line is not None else 0.0
        agreement = mirror_dice(mask, (probs[n + i] > predictor.threshold).astype(np.uint8))
        used = (
            line is not None
            and confidence >= rules.horizon_confidence
            and agreement >= rules.mirror_dice
            and keep.mean() >= rules.kept_share
        )
        labels.append(PseudoLabel(stem, images[i], mask, keep, confidence, agreement, bool(used)))
    return labels
