"""The video pipeline of a thermal camera: 14-bit counts -> the 8-bit frames it ships.

Thermal cores (FLIR Boson/Tau, Teledyne, InfiRay, ...) do not scale counts linearly to 8 bits only: their
AGC is a linear stretch with tail rejection, or a histogram equalisation whose histogram is clipped at a
plateau (plateau equalisation: no bin may claim more than ``plateau`` x the mean bin share of grey
levels) with some linear share mixed in; digital detail enhancement (DDE) splits the frame into a base
(an edge-preserving blur) and the detail, maps the base and adds the detail back amplified; a display
gamma; white-hot or black-hot; and the stream is compressed (JPEG, or a video codec's blocks). All this
runs at the sensor's native size (160x120 to 1280x1024), and the frame is then resized to the render
size as seaSky resizes a user's frames to the network input (compression blocks and DDE halos shrink or
grow with it). The frames' look differs much more between cameras than between scenes: this stage lets
the renderer cover it. It changes the image only: the mask and the horizon truth stay as they are.
"""

from __future__ import annotations

import cv2
import numpy as np

from seaSky.render.params import CameraPipelineParams

HIST_BINS = 512


def linear_agc(counts: np.ndarray, tail_pct: float) -> tuple[np.ndarray, float, float]:
    """Counts -> [0, 1] by a linear stretch between the ``tail_pct`` and ``100 - tail_pct`` percentiles
    (clipped); also the two count levels."""
    lo, hi = np.percentile(counts[::2, ::2], [tail_pct, 100.0 - tail_pct])
    hi = max(float(hi), float(lo) + 1.0)
    return np.clip((counts - np.float32(lo)) / np.float32(hi - lo), 0.0, 1.0), float(lo), float(hi)


def plateau_equalisation(
    counts: np.ndarray, tail_pct: float, plateau: float, linear_share: float
) -> np.ndarray:
    """Counts -> [0, 1] by histogram equalisation with the histogram clipped at ``plateau`` x its mean bin
    count, mixed with ``linear_share`` of the linear stretch (as camera AGCs do)."""
    ramp = linear_agc(counts, tail_pct)[0]
    hist, _ = np.histogram(ramp, bins=HIST_BINS, range=(0.0, 1.0))
    hist = np.minimum(hist.astype(np.float64), plateau * hist.mean())
    cdf = np.concatenate([[0.0], np.cumsum(hist)])
    cdf /= max(cdf[-1], 1e-12)
    equalised = np.interp(ramp, np.linspace(0.0, 1.0, HIST_BINS + 1), cdf).astype(np.float32)
    return (1.0 - linear_share) * equalised + linear_share * ramp


def detail_enhanced(counts: np.ndarray, p: CameraPipelineParams) -> np.ndarray:
    """DDE: the AGC of an edge-preserving base (bilateral filter) plus the detail (counts - base), amplified
    by ``p.dde_gain`` and scaled like the base's AGC."""
    span = float(np.subtract(*np.percentile(counts[::2, ::2], [99.0, 1.0]))) or 1.0
    base = cv2.bilateralFilter(counts, d=-1, sigmaColor=0.05 * span, sigmaSpace=p.dde_sigma_px)
    detail = counts - base
    mapped = _agc(base, p)
    _, lo, hi = linear_agc(base, p.agc_tail_pct)
    return np.clip(mapped + np.float32(p.dde_gain / (hi - lo)) * detail, 0.0, 1.0)


def _agc(counts: np.ndarray, p: CameraPipelineParams) -> np.ndarray:
    if p.agc == "plateau":
        return plateau_equalisation(counts, p.agc_tail_pct, p.agc_plateau, p.agc_linear_share)
    return linear_agc(counts, p.agc_tail_pct)[0]


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging when shrinking, bilinear when enlarging."""
    shrink = height * width < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def camera_output(counts: np.ndarray, p: CameraPipelineParams) -> np.ndarray:
    """The 8-bit frame (uint8, H x W) the camera ships for 14-bit ``counts`` (H x W), its pipeline run at
    the sensor's native size."""
    height, width = counts.shape
    native = p.sensor_height > 0 and (p.sensor_height, p.sensor_width) != (height, width)
    counts = counts.astype(np.float32)
    if native:
        counts = _resize(counts, p.sensor_height, p.sensor_width)
    grey = detail_enhanced(counts, p) if p.dde_gain > 0 else _agc(counts, p)
    grey = np.power(grey, np.float32(p.gamma))
    if p.black_hot:
        grey = 1.0 - grey
    span = np.float32(p.output_high - p.output_low)  # 255 but where apply_agc_span narrowed it
    frame = np.clip(np.float32(p.output_low) + grey * span + 0.5, 0, 255).astype(np.uint8)
    if p.jpeg_quality > 0:
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(p.jpeg_quality)])
        frame = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else frame
    return _resize(frame, height, width) if native else frame
