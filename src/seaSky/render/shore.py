"""A shore view: the camera stands on a beach (or a low cliff) and looks out over the surf zone.

The surf zone lies between the waterline and the outermost breaker, on the water plane: a few bands of
breaking-wave foam (whitewater, emissivity ~0.99 at every angle, so it is as bright as a black body at
the water's temperature, far brighter than the grazing-angle water beside it that mirrors the cold
sky) run parallel to the shore, in perspective; each band has a sharp seaward front where the wave
breaks and a tail of decaying foam shoreward, broken along its length, with bubbly water between the
bands. Nearer than the (ragged) waterline lies wet sand: not sea (label 0). Everything here lives on the
water plane below the horizon, so the horizon truth stays the sea-sky horizon.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from seaSky.render import physics
from seaSky.render.floating import FloatingObject
from seaSky.render.noise import fractal_noise, frame_noise, noise_1d
from seaSky.render.params import ShoreParams

ALONG_SPAN_M = 2000.0  # along-shore extent of the 1-D noise profiles (they are sampled by interpolation)


def _shore_coordinates(gx: np.ndarray, gz: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(across, along) ground coordinates (m): across = distance from the camera towards the sea,
    perpendicular to the shoreline; along = along the shore."""
    a = math.radians(angle_deg)
    return gz * np.float32(math.cos(a)) + gx * np.float32(math.sin(a)), gx * np.float32(
        math.cos(a)
    ) - gz * np.float32(math.sin(a))


def _profile(rng: np.random.Generator, along: np.ndarray, scale_m: float) -> np.ndarray:
    """A smooth unit-std 1-D noise of the along-shore coordinate, features about ``scale_m`` long."""
    n = 4096
    values = noise_1d(rng, n, base_cells=max(2, int(ALONG_SPAN_M / scale_m)), octaves=3)
    grid = np.linspace(-ALONG_SPAN_M / 2, ALONG_SPAN_M / 2, n)
    return np.interp(along, grid, values).astype(np.float32)


def waterline(rng: np.random.Generator, shore: ShoreParams, along: np.ndarray) -> np.ndarray:
    """Across-shore distance (m) of the waterline at each along-shore position: the swash's run-up
    makes it ragged by a few metres."""
    runup = _profile(rng, along, 25.0)
    return np.float32(shore.waterline_m) + np.float32(shore.runup_m) * runup


def surf_foam(
    rng: np.random.Generator,
    shore: ShoreParams,
    gx: np.ndarray,
    gz: np.ndarray,
    fz: np.ndarray,
    top: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Foam cover (0..1) of the surf zone per pixel, and the beach mask (ground nearer than the waterline).

    ``gx``, ``gz``: ground coordinates of each pixel on the water plane (m); ``fz``: a pixel's ground
    length along the view (m), for antialiasing bands narrower than a pixel; ``top``: they hold the rows
    ``top``.. of the frame (its noise field is drawn for the whole frame).
    """
    across, along = _shore_coordinates(gx, gz, shore.shore_angle_deg)
    line = waterline(rng, shore, along)
    beach = across < line
    foam = np.zeros_like(gx)
    edges = np.sort(rng.uniform(0.08, 1.0, shore.surf_bands)) * shore.surf_width_m
    for front in edges:
        width = float(rng.uniform(3.0, 14.0)) * (0.5 + front / shore.surf_width_m)  # tails grow seaward
        behind = (
            front + np.float32(0.5) * _profile(rng, along, 40.0) * np.float32(0.1 * width) + line
        ) - across
        band = np.exp(-np.where(behind >= 0, behind / np.float32(width), -behind / np.float32(0.6)))
        broken = _profile(rng, along, 5.0 + 2.0 * width)
        cover = np.clip(np.float32(shore.surf_foam) + np.float32(0.45) * broken, 0.0, 1.0)
        att = np.exp(-0.5 * (fz / np.float32(2.0 * width)) ** 2)
        foam = np.maximum(foam, att * band * cover + (1 - att) * np.float32(0.3 * shore.surf_foam))
    in_surf = (across >= line) & (across < line + np.float32(shore.surf_width_m))
    bubbly = np.float32(0.15 * shore.surf_foam) * np.clip(1.0 + 0.5 * frame_noise(rng, gx.shape, top), 0, 2)
    foam = np.where(in_surf, np.maximum(foam, bubbly), foam)
    return np.clip(foam, 0.0, 1.0).astype(np.float32), beach


def on_beach(obj: FloatingObject, shore: ShoreParams) -> bool:
    """Whether a vessel or buoy would stand nearer than the surf's waterline (then it is not drawn)."""
    across = obj.dist_m * math.cos(math.radians(obj.az_deg - shore.shore_angle_deg))
    return across < shore.waterline_m + 3 * shore.runup_m


def beach_radiance(
    rng: np.random.Generator,
    shore: ShoreParams,
    air_temp_k: float,
    reflected_sky,
    shape: tuple[int, int],
    top: int = 0,
) -> np.ndarray:
    """Radiance of wet sand: emissivity ~0.96 at the sand's temperature, with patches (wet and dry,
    pebbles, weed) of a kelvin or two, plus the sky it reflects (``reflected_sky(zenith_deg)``, seen
    at about 60 degrees from the zenith); of the frame's rows ``top``.. (``shape``: the whole frame's)."""
    texture = fractal_noise(rng, *shape, base_cells=8, octaves=4, persistence=0.6, aspect=3.0)
    smooth = cv2.GaussianBlur(texture, (0, 0), 1.0)[top:]
    texture = texture[top:]
    temp = np.float32(air_temp_k + shore.beach_temp_offset_k) + np.float32(shore.beach_texture_k) * texture
    emissivity = np.float32(0.96) + np.float32(0.02) * np.tanh(smooth)
    sky = reflected_sky(np.full(texture.shape, 60.0, np.float32))
    return emissivity * physics.planck(temp).astype(np.float32) + (1 - emissivity) * sky
