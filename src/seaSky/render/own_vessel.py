"""Parts of the camera's own vessel in the foreground: the bow rising from the bottom edge of the frame
and a railing (a top rail across the frame with posts down to the bottom edge).

They are fixed to the camera, so they are drawn in image coordinates (they do not follow the horizon's
roll), metres from the lens: no air path, sharp apart from the optics, and far from the water's
temperature (sun-heated decks, cold metal). Label 0; the horizon truth stays the sea's upper boundary.
"""

from __future__ import annotations

import numpy as np

from seaSky.render import physics
from seaSky.render.noise import fractal_noise
from seaSky.render.params import OwnVesselParams


def bow_mask(p: OwnVesselParams, height: int, width: int) -> np.ndarray:
    """The bow: from its stem at ``bow_height`` above the bottom edge, widening (with flare) to
    ``bow_width`` at the bottom edge."""
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    top = height * (1.0 - p.bow_height)
    depth = np.clip((y - top) / max(height - top, 1.0), 0.0, 1.0)
    half = 0.5 * p.bow_width * width * depth**0.6
    return (y >= top) & (np.abs(x - p.bow_centre * width) <= half)


def railing_mask(p: OwnVesselParams, height: int, width: int) -> np.ndarray:
    """A top rail across the frame (tilted by ``railing_tilt``), a mid rail, and posts to the bottom."""
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    thick = max(2.0, height / 90.0)
    rail_y = height * (1.0 - p.railing_row) + p.railing_tilt * height * (x / max(width - 1, 1) - 0.5)
    top_rail = np.abs(y - rail_y) <= thick / 2
    mid_rail = np.abs(y - (rail_y + height - 1) / 2) <= thick / 3
    posts_x = (np.arange(p.railing_posts) + 0.5) * width / p.railing_posts
    posts = (np.abs(x - posts_x[:, None, None]) <= thick / 2).any(axis=0) & (y >= rail_y)
    return top_rail | ((mid_rail | posts) & (y >= rail_y))


def paint(
    rng: np.random.Generator, p: OwnVesselParams, air_temp_k: float, radiance: np.ndarray, obj: np.ndarray
) -> np.ndarray:
    """Draw the own vessel's parts into radiance and obj (in place); return their mask."""
    height, width = radiance.shape
    part = np.zeros((height, width), bool)
    if p.own_bow:
        part |= bow_mask(p, height, width)
    if p.own_railing:
        part |= railing_mask(p, height, width)
    if not part.any():
        return part
    texture = fractal_noise(rng, height, width, base_cells=4, octaves=3, persistence=0.5)
    shade = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]  # nearer parts lit or shaded
    temp = air_temp_k + p.own_vessel_temp_offset_k + 1.0 * texture + float(rng.uniform(-2, 2)) * shade
    radiance[part] = physics.planck(temp[part]).astype(np.float32)
    obj |= part
    return part
