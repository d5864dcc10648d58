"""Parts of the camera's own vessel in the foreground: the bow rising from the bottom edge of the frame,
a railing (a top rail across the frame with posts down to the bottom edge), a deck with its gunwale
entering from a lower corner (the camera on one side of the boat, looking past it), a cabin's wall from
one side edge (the water seen past its edge), and a person standing on deck.

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


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(height, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)[None, :]


def deck_mask(p: OwnVesselParams, height: int, width: int) -> np.ndarray:
    """The deck from a lower corner: below its edge (the gunwale), which runs from ``deck_bottom`` x W from
    the corner on the bottom edge to ``deck_side_height`` x H up the side edge, bent by ``deck_sheer``."""
    y, x = _grid(height, width)
    from_corner = x if p.deck_side < 0 else (width - 1) - x
    t = np.clip(
        from_corner / max(p.deck_bottom * width, 1.0), 0.0, None
    )  # 0 at the side edge, 1 at the bottom
    rise = p.deck_side_height * (1.0 - t) + p.deck_sheer * t * (1.0 - t)
    return (t <= 1.0) & (y >= (height - 1) - rise * height)


def cabin_mask(p: OwnVesselParams, height: int, width: int) -> np.ndarray:
    """A cabin's wall from one side edge: ``cabin_width`` x W wide at the bottom, its edge slanting by
    ``cabin_slant``, from ``cabin_top`` x H down to the bottom edge."""
    y, x = _grid(height, width)
    edge = width * (p.cabin_width + p.cabin_slant * (y / max(height - 1, 1) - 1.0))
    from_side = x if p.cabin_side < 0 else (width - 1) - x
    return (from_side <= edge) & (y >= p.cabin_top * height)


def person_mask(p: OwnVesselParams, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A person standing on deck, seen from behind: (the person, the head): head, shoulders, a body widening
    to the bottom edge."""
    y, x = _grid(height, width)
    tall = p.person_height * height
    top = height - tall
    head_r = 0.065 * tall
    cx = p.person_x * width
    head = (x - cx) ** 2 + (y - (top + head_r)) ** 2 <= head_r**2
    body_top = top + 1.9 * head_r
    below = np.clip(y - body_top, 0.0, None)
    half = np.minimum(0.9 * head_r + 0.8 * below, 2.3 * head_r + 0.05 * below)  # neck, shoulders, body
    body = (y >= body_top) & (np.abs(x - cx) <= half)
    return head | body, head


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
    if p.own_deck:
        part |= deck_mask(p, height, width)
    if p.own_cabin:
        part |= cabin_mask(p, height, width)
    if not part.any() and not p.own_person:
        return part
    texture = fractal_noise(rng, height, width, base_cells=4, octaves=3, persistence=0.5)
    shade = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]  # nearer parts lit or shaded
    temp = air_temp_k + p.own_vessel_temp_offset_k + 1.0 * texture + float(rng.uniform(-2, 2)) * shade
    if p.own_deck:  # the gunwale: a rim along the deck's edge, warmer or colder than the deck
        deck = deck_mask(p, height, width)
        k = max(2, height // 60)
        above = np.zeros_like(deck)
        above[k:] = deck[:-k]
        rim = deck & ~above
        temp = np.where(rim, temp + float(rng.uniform(-5, 5)), temp)
    if p.own_person:
        person, head = person_mask(p, height, width)
        clothes = air_temp_k + p.person_temp_offset_k + 0.5 * texture
        temp = np.where(
            person, np.where(head, max(air_temp_k + p.person_temp_offset_k + 3.0, 303.0), clothes), temp
        )
        part |= person
    radiance[part] = physics.planck(temp[part]).astype(np.float32)
    obj |= part
    return part
