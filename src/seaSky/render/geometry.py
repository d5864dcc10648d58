"""Camera geometry: per-pixel ray elevation/azimuth with roll, pitch and slight barrel distortion, the
horizon dip of a camera above a spherical earth, the exact horizon curve in the image, and the waterline
of an object on the water."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
REFRACTION_K = 0.92  # standard terrestrial refraction shrinks the dip by ~8 %
# numpy's float32 degrees/radians are x * (180.0f / pi_f) and x * (pi_f / 180.0f) in a loop it does not
# vectorise: the same products as a plain multiplication (checked bit for bit), ten times faster
_DEG_PER_RAD32 = np.float32(180.0) / np.float32(np.pi)
_RAD_PER_DEG32 = np.float32(np.pi) / np.float32(180.0)


def degrees(x: np.ndarray) -> np.ndarray:
    """``np.degrees(x)``, the same numbers; faster for float32 arrays."""
    x = np.asarray(x)
    return x * _DEG_PER_RAD32 if x.dtype == np.float32 else np.degrees(x)


def radians(x: np.ndarray) -> np.ndarray:
    """``np.radians(x)``, the same numbers; faster for float32 arrays."""
    x = np.asarray(x)
    return x * _RAD_PER_DEG32 if x.dtype == np.float32 else np.radians(x)


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
    lo, hi = _search_range(cam)
    rows, done = _bisection_end(cam, target, lo, hi)
    if not done.all():
        rows[~done] = _bisect(cam, np.flatnonzero(~done).astype(np.float64), lambda azimuth: target, lo, hi)
    return rows


def rows_where(cam: Camera, target) -> np.ndarray:
    """For each column x, the sub-pixel row y where the ray's elevation falls to ``target(azimuth)``
    (radians; e.g. the waterline of a straight wall, whose distance changes with the azimuth)."""
    return _bisect(cam, np.arange(cam.width, dtype=np.float64), target, *_search_range(cam))


BISECTION_STEPS = 42


def _search_range(cam: Camera) -> tuple[float, float]:
    """The rows the bisection starts from (far beyond the frame)."""
    span = 4.0 * (cam.height + cam.width)
    return -span, cam.height + span


def _bisect(cam: Camera, x: np.ndarray, target, lo0: float, hi0: float) -> np.ndarray:
    """Bisection in each column ``x`` between rows ``lo0`` and ``hi0`` for the row where the elevation falls
    to ``target(azimuth)``."""
    lo = np.full(len(x), lo0)
    hi = np.full(len(x), hi0)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        elevation, azimuth = ray_angles(cam, x, mid)
        above = elevation > target(azimuth)
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def _bisection_end(cam: Camera, target: float, lo0: float, hi0: float) -> tuple[np.ndarray, np.ndarray]:
    """Where :func:`_bisect` ends for a constant ``target``, found in a few vectorised steps: (rows, done
    per column); the columns not done are left to the bisection.

    Every row the bisection visits is exact in float64: a point lo0 + j * step of a grid, step = (hi0 -
    lo0) / 2**42 (when the odd part of hi0 - lo0 is small). It ends on the cell (j, j + 1) where its test
    "elevation > target" turns from true to false. Newton's method finds the row r where the elevation
    reaches the target to ~1e-12 px, far less than a step (~1e-9 px); the test is evaluated, as the
    bisection does, at the six grid points around r, and at the rows the bisection visits on its first
    20 steps (farther than 4e-3 px from r), which must agree with a single turn at r: nearer than that,
    the elevation, smooth with a non-zero slope, crosses the target once. A column is done where all of
    that holds."""
    width = cam.width
    rows, done = np.zeros(width), np.zeros(width, bool)
    span = hi0 - lo0
    odd = span
    while odd == int(odd) and odd % 2 == 0 and odd > 0:
        odd /= 2
    if odd != int(odd) or odd >= 1024:
        return rows, done  # the grid is not exact in float64: bisect
    cells = 2.0**BISECTION_STEPS
    step = span / cells
    x = np.arange(width, dtype=np.float64)
    f = cam.focal_px
    roll, pitch = math.radians(cam.roll_deg), math.radians(cam.pitch_deg)
    with np.errstate(all="ignore"):
        # start: a pinhole camera's row for the target elevation, then Newton with a numerical slope
        xd = (x - (width - 1) / 2) / f
        y = (cam.height - 1) / 2 + f * (math.tan(pitch - target) - xd * math.sin(roll)) / math.cos(roll)
        h = 1e-3
        for _ in range(10):
            elevation = ray_angles(cam, x, np.stack([y, y + h]))[0]
            slope = (elevation[1] - elevation[0]) / h
            move = (elevation[0] - target) / slope
            y = y - move
            if np.all(np.abs(move) < 1e-7):
                break  # one more step was taken after each column came within 1e-7 px: ~1e-12 px now
        j0 = np.floor((y - lo0) / step)
        ok = (np.abs(move) < 1e-7) & (slope < -1e-6) & (j0 >= 8) & (j0 <= cells - 8)
        j0 = np.where(ok, j0, 8.0)
        near = j0[None, :] + np.arange(-2.0, 4.0)[:, None]
        # the first 20 rows the bisection visits if the test turns at j0: the middle of the aligned block
        # of 2 ** (42 - level + 1) cells holding j0
        block = 2.0 ** (BISECTION_STEPS + 1 - np.arange(1.0, 21.0))[:, None]
        far = np.floor(j0[None, :] / block) * block + block / 2
        above = ray_angles(cam, x, lo0 + np.concatenate([near, far]) * step)[0] > target
    above_near, above_far = above[:6], above[6:]
    turns_once = np.all(above_near[:-1] >= above_near[1:], axis=0) & above_near[0] & ~above_near[-1]
    j = j0 - 3 + above_near.sum(axis=0)  # the last grid point where the test is true
    agrees = np.all(above_far == (far <= j[None, :]), axis=0)
    done = ok & turns_once & agrees
    rows = 0.5 * ((lo0 + j * step) + (lo0 + (j + 1) * step))
    return rows, done


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
