"""The one pre-processing rule from a raw IR frame to the network's input, shared by training and
evaluation (:func:`seaSky.data.folder.load_split`) and prediction (:class:`seaSky.inference.Predictor`):
a per-image intensity stretch to [0, 1], then a resize to the network's (height, width)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from seaSky.errors import ConfigError


def normalize_image(
    image: np.ndarray, mode: str = "percentile", low: float = 1.0, high: float = 99.0
) -> np.ndarray:
    """Scale one raw image to float32 in [0, 1].

    ``percentile``: robust stretch between the ``low`` and ``high`` percentiles, clipped (the default;
    works alike for 8-bit AGC frames and 14-bit radiometric counts). ``minmax``: full range.
    """
    if mode == "percentile":
        if not 0 <= low < high <= 100:
            raise ConfigError(f"normalize percentiles must satisfy 0 <= low < high <= 100, got {low}, {high}")
        lo, hi = (
            integer_percentiles(image, (low, high)) if _counts(image) else np.percentile(image, [low, high])
        )
    elif mode == "minmax":
        lo, hi = float(image.min()), float(image.max())
    else:
        raise ConfigError(f"normalize mode must be 'percentile' or 'minmax', got {mode!r}")
    scale = max(float(hi - lo), 1e-6)
    if image.dtype == np.uint8:  # video frames: one look-up per pixel value (the same numbers, 5x faster)
        table = np.clip((np.arange(256, dtype=np.float64) - lo) / scale, 0.0, 1.0).astype(np.float32)
        return cv2.LUT(image, table)
    return np.clip((image - lo) / scale, 0.0, 1.0).astype(np.float32)


def _counts(image: np.ndarray) -> bool:
    """Whether the frame holds unsigned integer counts (8- or 16-bit), whose percentiles a histogram gives."""
    return image.dtype in (np.uint8, np.uint16) and image.size > 0


def integer_percentiles(image: np.ndarray, percents: Sequence[float]) -> list[float]:
    """``np.percentile(image, percents)`` (its default linear interpolation, the same numbers) of an 8- or
    16-bit frame from its histogram: a few times faster than sorting, which matters at video rate."""
    cumulative = np.cumsum(np.bincount(image.ravel()))
    last = image.size - 1
    values = []
    for percent in percents:
        position = percent / 100.0 * last
        below = int(np.floor(position))
        v0 = float(np.searchsorted(cumulative, below, side="right"))
        v1 = float(np.searchsorted(cumulative, min(below + 1, last), side="right"))
        weight = position - below
        # numpy's own interpolation formula, term for term, so that the numbers are the same to the last bit
        values.append(v1 - (v1 - v0) * (1 - weight) if weight >= 0.5 else v0 + (v1 - v0) * weight)
    return values


def _interpolation(shape: tuple[int, ...], size: Sequence[int]) -> int:
    """Area averaging when shrinking (no aliasing), bilinear when enlarging."""
    height, width = size
    return cv2.INTER_AREA if width < shape[1] or height < shape[0] else cv2.INTER_LINEAR


def resize_image(image: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize a float image to ``size`` = (height, width); unchanged when it already has that size."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=_interpolation(image.shape, size))


def resize_mask(mask: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize a 0/1 mask to ``size`` = (height, width) by an area vote (>= 0.5): the boundary keeps its
    sub-pixel place, unlike nearest-neighbour resizing."""
    height, width = size
    if mask.shape[:2] == (height, width):
        return mask
    area = cv2.resize(
        mask.astype(np.float32), (width, height), interpolation=_interpolation(mask.shape, size)
    )
    return (area >= 0.5).astype(np.uint8)


def preprocess_image(image: np.ndarray, size: Sequence[int], normalize: Mapping | None = None) -> np.ndarray:
    """Raw frame (any size and bit depth) -> normalised float32 (height, width) network input.

    ``normalize``: keyword arguments of :func:`normalize_image` (as stored in a checkpoint).
    """
    return resize_image(normalize_image(image, **dict(normalize or {})), size)
