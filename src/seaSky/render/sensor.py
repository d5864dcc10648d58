"""A thermal camera core: optics blur, vignetting, radiance -> 14-bit counts, fixed-pattern and temporal
noise, dead/hot pixels, and the AGC that maps counts to 8 bits.

Numbers: uncooled LWIR microbolometer cores quote NETD 30-80 mK (e.g. FLIR Boson / Tau 2 datasheets:
< 40-50 mK); 14-bit raw output; residual column/row fixed-pattern noise after NUC of a fraction of the
temporal noise; a few dead pixels per 10^4 are typical before replacement.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

MAX_COUNTS = 16383


def blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur (optics PSF, defocus, forward scattering in fog)."""
    if sigma_px <= 0.05:
        return image
    return cv2.GaussianBlur(image, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)


def motion_blur(image: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    """Linear motion blur of the given length and direction."""
    n = max(3, int(np.ceil(length_px)) | 1)
    kernel = np.zeros((n, n), np.float32)
    c = n // 2
    dx, dy = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    for t in np.linspace(-length_px / 2, length_px / 2, 4 * n):
        kernel[round(c + t * dy), round(c + t * dx)] = 1.0
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def vignetting(height: int, width: int, strength: float) -> np.ndarray:
    """Relative response: 1 at the centre, 1 - strength at the corners (radial, cos^4-like)."""
    return (1 - strength * _radius2(height, width)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _radius2(height: int, width: int) -> np.ndarray:
    """Half the squared distance from the frame's centre, in half-sizes (read-only: shared)."""
    y = (np.arange(height, dtype=np.float32)[:, None] - (height - 1) / 2) / (height / 2)
    x = (np.arange(width, dtype=np.float32)[None, :] - (width - 1) / 2) / (width / 2)
    r2 = (x * x + y * y) / 2
    r2.flags.writeable = False
    return r2


def add_noise(
    rng: np.random.Generator,
    counts: np.ndarray,
    sigma: float,
    col_fpn: float,
    row_fpn: float,
    temporal_rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Temporal noise (sigma counts) plus column and row fixed-pattern offsets (in units of sigma); the
    temporal noise from ``temporal_rng`` when given (a video's frames: new noise, the same pattern)."""
    h, w = counts.shape
    temporal = rng if temporal_rng is None else temporal_rng
    noisy = temporal.standard_normal((h, w), dtype=np.float32)
    noisy *= np.float32(sigma)
    if counts.dtype == np.float32:
        np.add(counts, noisy, out=noisy)  # counts + noise, in place
    else:
        noisy = counts + noisy
    noisy += (rng.standard_normal(w).astype(np.float32) * np.float32(col_fpn * sigma))[None, :]
    noisy += (rng.standard_normal(h).astype(np.float32) * np.float32(row_fpn * sigma))[:, None]
    return noisy


def quantize(rng: np.random.Generator, counts: np.ndarray, dead_rate: float) -> np.ndarray:
    """Round and clip to 14 bits; a random share of pixels stuck at 0 (dead) or full scale (hot)."""
    out = np.clip(np.rint(counts), 0, MAX_COUNTS).astype(np.uint16)
    n_bad = rng.binomial(out.size, dead_rate) if dead_rate > 0 else 0
    if n_bad:
        idx = rng.integers(0, out.size, n_bad)
        out.reshape(-1)[idx] = np.where(rng.random(n_bad) < 0.5, 0, MAX_COUNTS).astype(np.uint16)
    return out


def to_8bit(
    counts: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0, margin: float = 0.05
) -> np.ndarray:
    """Automatic gain control: stretch the [low_pct, high_pct] percentiles (plus a margin) to 0..255, clip.

    Percentiles are taken on a subsample for speed; dead/hot pixels and glint saturation are clipped away.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"to_8bit expects a 2-D image, got shape {counts.shape}")
    sample = counts[::2, ::2].astype(np.float32)
    lo, hi = np.percentile(sample, [low_pct, high_pct])
    span = max(float(hi - lo), 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    scaled = (counts.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
