"""Fast fractal (1/f-like) noise fields: white noise at a few coarse scales, upsampled with cv2 and summed."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np


def fractal_noise(
    rng: np.random.Generator,
    height: int,
    width: int,
    base_cells: int = 4,
    octaves: int = 5,
    persistence: float = 0.55,
    aspect: float = 1.0,
    work_scale: int = 1,
) -> np.ndarray:
    """Zero-mean, unit-std float32 noise of shape (height, width).

    Octave k has ``base_cells * 2**k`` cells across the width (``aspect`` > 1 stretches features
    horizontally) and weight ``persistence**k``; cubic upsampling keeps it smooth. ``work_scale`` > 1
    builds the field at 1/work_scale resolution and upsamples it once (faster, no finest detail).
    """
    if work_scale > 1:
        small = fractal_noise(
            rng,
            max(2, height // work_scale),
            max(4, width // work_scale),
            base_cells,
            octaves,
            persistence,
            aspect,
            work_scale=1,
        )
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    grids = []  # (octave, cells across, cells down)
    for k in range(octaves):
        cx = max(2, int(base_cells * 2**k))
        cy = max(2, round(cx * height / width * aspect))
        if cx > width or cy > height:
            break
        grids.append((k, cx, cy))
    # one draw for every octave: the same numbers, in the same order, as one draw per octave
    draws = rng.standard_normal(sum((cy + 2) * (cx + 2) for _, cx, cy in grids)).astype(np.float32)
    out = np.zeros((height, width), np.float32)
    start = 0
    for k, cx, cy in grids:
        cells = draws[start : start + (cy + 2) * (cx + 2)].reshape(cy + 2, cx + 2)
        start += (cy + 2) * (cx + 2)
        up = cv2.resize(
            cells, (width + 2 * width // cx, height + 2 * height // cy), interpolation=cv2.INTER_CUBIC
        )
        out += persistence**k * up[height // cy : height // cy + height, width // cx : width // cx + width]
    out -= out.mean()
    return out / max(float(out.std()), 1e-6)


def frame_noise(rng: np.random.Generator, shape: tuple[int, int], top: int = 0, **kwargs) -> np.ndarray:
    """The rows ``top``.. (``shape``: their height and width) of :func:`fractal_noise` of the whole frame."""
    height, width = shape
    return fractal_noise(rng, top + height, width, **kwargs)[top:]


def noise_1d(
    rng: np.random.Generator, n: int, base_cells: int = 4, octaves: int = 5, persistence: float = 0.6
) -> np.ndarray:
    """Zero-mean, unit-std 1-D fractal noise of length n."""
    return fractal_noise(rng, 2, n, base_cells, octaves, persistence, aspect=0.01)[0]


def periodic_noise(
    rng: np.random.Generator, size: int = 128, slope: float = 2.0, k_min: float = 1.0
) -> np.ndarray:
    """Zero-mean, unit-std tileable (periodic) noise of shape (size, size), power spectrum ~ 1/k^slope.

    Sampled with cv2.remap(..., borderMode=cv2.BORDER_WRAP) it textures a plane of any extent.
    """
    amp = _amplitudes(size, slope, k_min)
    # amp * (a + 1j * b) without complex arithmetic: the same spectrum (up to the sign of zeros where amp
    # is 0, which the inverse transform does not see)
    spec = np.empty(amp.shape, np.complex128)
    spec.real = amp * rng.standard_normal(amp.shape)
    spec.imag = amp * rng.standard_normal(amp.shape)
    field = np.fft.irfft2(spec, s=(size, size)).astype(np.float32)
    field -= field.mean()
    return field / max(float(field.std()), 1e-6)


@functools.lru_cache(maxsize=32)
def _amplitudes(size: int, slope: float, k_min: float) -> np.ndarray:
    """The amplitude spectrum of :func:`periodic_noise` (read-only: shared between calls)."""
    ky = np.fft.fftfreq(size)[:, None] * size
    kx = np.fft.rfftfreq(size)[None, :] * size
    k = np.sqrt(kx**2 + ky**2)
    amp = np.where(k >= k_min, np.maximum(k, 1.0) ** (-slope / 2), 0.0)
    amp.flags.writeable = False
    return amp


def quantile(values: np.ndarray, q: float) -> float:
    """``float(np.quantile(values, q))``, the same number, about twice as fast: numpy's own interpolation
    between the two order statistics around (n - 1) q, found by one partition."""
    flat = np.ravel(values)
    position = (flat.size - 1) * q
    if not 0 <= position < flat.size - 1:
        return float(np.quantile(values, q))
    i = math.floor(position)
    pair = np.partition(flat, [i, i + 1])[i : i + 2]
    return float(np.quantile(pair, position - i))
