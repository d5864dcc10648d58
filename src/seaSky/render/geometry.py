"""Camera geometry: per-pixel ray elevation/azimuth with roll, pitch and slight barrel distortion, the
horizon dip of a camera above a spherical earth, the exact horizon curve in the image, and the waterline
of an object on the water."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
REFRACTION_K = 0.92  # standard terrestrial refraction shrinks the dip by ~8 %


@dataclass(frozen=True)
class Camera:
    """A pinhole camera with radial distortion looking out over the sea."""

    width: int
    height: int
    hfov_deg: float
    height_m: float
    roll_deg: float
    pitch_deg: float
    k1: float

    @property
    def focal_px(self) -> float:
        return (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)

    @property
    def dip_rad(self) -> float:
        """Depression of the sea horizon below the horizontal: sqrt(2h/R), with refraction."""
        return REFRACTION_K * float(np.sqrt(2 * self.height_m / EARTH_RADIUS_M))

    @property
    def horizon_distance_m(self) -> float:
        return float(np.sqrt(2 * self.height_m * EARTH_RADIUS_M / REFRACTION_K))


def pitch_for_horizon_row(
    width: int, height: int, hfov_deg: float, height_m: float, row_frac: float
) -> float:
    """Camera pitch (deg, up positive) that puts the horizon at row_frac * (H - 1) in the centre column."""
    cam = Camera(width, height, hfov_deg, height_m, 0.0, 0.0, 0.0)
    v = (row_frac * (height - 1) - (height - 1) / 2) / cam.focal_px
    return float(np.degrees(np.arctan(v) - cam.dip_rad))


def ray_angles(cam: Camera, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elevation above the horizontal and azimuth (radians) of the rays through pixel coordinates (x, y).

    Pixel centres sit at integer coordinates. The lens maps an ideal (undistorted) normalised radius r_u
    to the image radius r_d with r_u = r_d * (1 + k1 * r_d^2): k1 > 0 is barrel distortion.
    """
    f = cam.focal_px
    xd = (x - (cam.width - 1) / 2) / f
    yd = (y - (cam.height - 1) / 2) / f
    scale = 1 + float(cam.k1) * (xd * xd + yd * yd)
    u, v = xd * scale, yd * scale
    cr, sr = math.cos(math.radians(cam.roll_deg)), math.sin(math.radians(cam.roll_deg))
    cp, sp = math.cos(math.radians(cam.pitch_deg)), math.sin(math.radians(cam.pitch_deg))
    ur = u * cr - v * sr
    vr = u * sr + v * cr
    yw = vr * cp - sp  # world y points down
    zw = vr * sp + cp
    horiz = np.sqrt(ur * ur + zw * zw)
    return np.arctan2(-yw, horiz), np.arctan2(ur, zw)


def pixel_grid_angles(cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """(elevation, azimuth) in radians, float32 arrays of shape (H, W)."""
    x = np.arange(cam.width, dtype=np.float32)[None, :]
    y = np.arange(cam.height, dtype=np.float32)[:, None]
    return ray_angles(cam, x, y)


def horizon_rows(cam: Camera, elevation_rad: float | None = None) -> np.ndarray:
    """For each column x, the sub-pixel row y where the ray elevation equals -dip (bisection, float64);
    or equals ``elevation_rad`` (e.g. a near coast's waterline) when given.

    Elevation falls monotonically down a column for |roll| < 45 deg, so the row is unique.
    """
    target = -cam.dip_rad if elevation_rad is None else elevation_rad
    return rows_where(cam, lambda azimuth: target)


def rows_where(cam: Camera, target) -> np.ndarray:
    """For each column x, the sub-pixel row y where the ray's elevation falls to ``target(azimuth)``
    (radians; e.g. the waterline of a straight wall, whose distance changes with the azimuth)."""
    x = np.arange(cam.width, dtype=np.float64)
    span = 4.0 * (cam.height + cam.width)
    lo = np.full(cam.width, -span)
    hi = np.full(cam.width, cam.height + span)
    for _ in range(42):
        mid = 0.5 * (lo + hi)
        elevation, azimuth = ray_angles(cam, x, mid)
        above = elevation > target(azimuth)
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


NO_CHORD = {"y_left": None, "y_right": None, "horizon_angle_deg": None, "horizon_max_dev_px": None}


def horizon_chord(rows: np.ndarray, height: int) -> dict:
    """Chord of the horizon curve between x=0 and x=W-1, its angle and its largest distance to the curve.

    The horizon is in view when some column has its sea/non-sea boundary inside the image.
    """
    width = len(rows)
    inside = (rows > 0) & (rows < height - 1)
    if not inside.any():
        return dict(NO_CHORD)
    y0, y1 = float(rows[0]), float(rows[-1])
    chord = y0 + (y1 - y0) * np.arange(width) / max(width - 1, 1)
    angle = np.arctan2(y1 - y0, width - 1)
    dev = float(np.max(np.abs(rows - chord)[inside]) * np.cos(angle))
    return {
        "y_left": y0,
        "y_right": y1,
        "horizon_angle_deg": float(np.degrees(angle)),
        "horizon_max_dev_px": dev,
    }


@dataclass(frozen=True)
class WaterPlane:
    """Where each pixel's ray meets the water plane: distance (m), ground coordinates gx (to the right)
    and gz (away from the camera), and a pixel's ground length along (fz) and across (fx) the view."""

    dist: np.ndarray
    gx: np.ndarray
    gz: np.ndarray
    fz: np.ndarray
    fx: np.ndarray


def water_plane(cam: Camera, elev: np.ndarray, az: np.ndarray) -> WaterPlane:
    """The water plane under each pixel, with D(beta) = 1 / (tan(beta) / h + 1 / D_h) at depression beta
    below the horizon (flat earth near the camera, the horizon distance D_h at the horizon)."""
    h, f, dip, d_h = cam.height_m, cam.focal_px, cam.dip_rad, cam.horizon_distance_m
    beta = np.maximum(-elev - np.float32(dip), np.float32(0.0))
    dist = 1.0 / (np.tan(beta) / np.float32(h) + np.float32(1.0 / d_h))
    return WaterPlane(
        dist=dist,
        gx=dist * np.sin(az),
        gz=dist * np.cos(az),
        fz=dist * dist / np.float32(h * f),
        fx=dist / np.float32(f),
    )


def waterline_elevation(
    dist_m: float, cam_height_m: float, dip_rad: float, horizon_m: float
) -> tuple[float, float]:
    """Elevation (rad) of the waterline of an object at dist_m, and the height (m) the earth hides of it.

    Consistent with the sea distance model D(beta) = 1 / (tan(beta) / h + 1 / D_h) used for the water.
    """
    if dist_m < horizon_m:
        beta = np.arctan(cam_height_m * (1 / dist_m - 1 / horizon_m))
        return float(-dip_rad - beta), 0.0
    hidden = (dist_m - horizon_m) ** 2 * REFRACTION_K / (2 * EARTH_RADIUS_M)
    return float(-dip_rad), float(hidden)
