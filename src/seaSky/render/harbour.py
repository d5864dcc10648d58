"""A harbour seen from a boat: quay walls with buildings on them and bridges on pillars, standing on the
water at tens to hundreds of metres, and their mirror images on the calm harbour water.

A structure stands at a horizontal distance d and spans an azimuth range; it occupies a set of points
(azimuth, height above the water z) (:meth:`Structure.occupies`). A pixel whose ray passes distance d at
height z = d (elevation - e_w) above the structure's waterline elevation e_w (the water model's, as for
vessels) sees the structure there (label 0). Water in front of it mirrors it: a ray that meets the
water at distance D < d and leaves it upwards at the mirrored elevation (tilted by the wave slopes)
reaches the structure at height z = (d - D) tan(elevation); the water there mirrors the structure's
radiance instead of the sky's (label 1: a reflection is water). Structures are grey bodies of their own
temperature and texture, seen through the air path; both views sample the same radiance, so a
reflection matches its structure. Where a quay stands on 3/4 of the columns with its waterline in
frame, that waterline is the horizon truth (the sea's upper boundary), as for a near coast: a quay is
the edge of the land, so no sea is seen behind it even where it is lower than the camera. A bridge's
deck stands above the water, the sea goes on beneath it, and the sea-sky horizon stays the truth.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from seaSky.render import physics
from seaSky.render.floating import FloatingObject, sample_object
from seaSky.render.geometry import Camera, degrees, radians, rows_where
from seaSky.render.knobs import SceneConfig
from seaSky.render.noise import fractal_noise
from seaSky.render.params import HarbourParams, SceneParams, log_uniform, uniform

MAX_OBLIQUE_DEG = 70.0  # a wall is seen up to this angle from its normal


@dataclass(frozen=True)
class Structure:
    """A straight quay wall (with buildings) or bridge: ``dist_m`` from the camera along its normal, which
    points to azimuth ``facing_deg``; it runs from ``t0_m`` to ``t1_m`` along the wall (0 = the foot of
    the normal)."""

    kind: str  # "quay" or "bridge"
    dist_m: float
    facing_deg: float
    t0_m: float
    t1_m: float
    profile_m: np.ndarray  # positions along the wall of the height profile (m)
    top_m: np.ndarray  # quay: top of quay + buildings at each position; bridge: 1 on a pillar, else 0
    deck_m: float = 0.0  # bridge: underside of the deck above the water
    deck_thick_m: float = 0.0
    temp_k: float = 290.0
    texture_k: float = 1.0

    def distance(self, az_deg: np.ndarray) -> np.ndarray:
        """Horizontal distance (m) to the wall along azimuth ``az_deg`` (inf where it is not in view)."""
        off = radians(az_deg - self.facing_deg)
        seen = np.abs(off) < np.radians(MAX_OBLIQUE_DEG)
        return np.where(seen, self.dist_m / np.cos(np.where(seen, off, 0.0)), np.inf).astype(np.float32)

    def along(self, az_deg: np.ndarray) -> np.ndarray:
        """Position along the wall (m) where azimuth ``az_deg`` meets it."""
        off = np.clip(radians(az_deg - self.facing_deg), -1.5, 1.5)
        return (self.dist_m * np.tan(off)).astype(np.float32)

    def spans(self, az_deg: np.ndarray) -> np.ndarray:
        """Whether azimuth ``az_deg`` meets the wall within its extent."""
        t = self.along(az_deg)
        return np.isfinite(self.distance(az_deg)) & (t >= self.t0_m) & (t <= self.t1_m)

    def occupies(self, az_deg: np.ndarray, z_m: np.ndarray) -> np.ndarray:
        """Whether the structure holds the point at azimuth ``az_deg`` and height ``z_m`` above the water."""
        inside = self.spans(az_deg) & (z_m >= 0.0)
        top = np.interp(self.along(az_deg), self.profile_m, self.top_m)
        if self.kind == "quay":
            return inside & (z_m <= top)
        deck = (z_m >= self.deck_m) & (z_m <= self.deck_m + self.deck_thick_m)
        pillar = (top > 0.5) & (z_m <= self.deck_m)
        return inside & (deck | pillar)

    def waterline(self, cam: Camera):
        """Elevation (rad) of the wall's waterline as a function of azimuth (rad), as the water model has
        it (:func:`seaSky.render.geometry.waterline_elevation`)."""

        def elevation(azimuth: np.ndarray) -> np.ndarray:
            d = np.minimum(self.distance(degrees(azimuth)), 0.999 * cam.horizon_distance_m)
            return -cam.dip_rad - np.arctan(cam.height_m * (1.0 / d - 1.0 / cam.horizon_distance_m))

        return elevation


def sample_structures(
    rng: np.random.Generator, cfg: SceneConfig, n: int, hfov_deg: float, air_temp_k: float
) -> list[Structure]:
    """The harbour's ``n`` structures, far to near: at most one quay (one land edge, so that the sea's
    upper boundary is one line: its waterline, or the horizon beside it), the others bridges. A quay runs
    across the whole view or stands in a part of it (the horizon beside it)."""
    out = []
    for _ in range(n):
        dist = log_uniform(rng, cfg.harbour_distance_m)
        bridge = rng.random() < cfg.harbour_bridge_prob or any(s.kind == "quay" for s in out)
        facing = rng.uniform(-25.0, 25.0)
        if not bridge and rng.random() < 0.5:  # across the whole view
            t0, t1 = -dist * 3.0, dist * 3.0
        else:  # in a part of it
            centre = dist * math.tan(math.radians(rng.uniform(-0.5, 0.5) * hfov_deg - facing))
            half = dist * math.radians(hfov_deg) * rng.uniform(0.08, 0.25) * (3.0 if bridge else 1.0)
            t0, t1 = centre - half, centre + half
        grid = np.linspace(t0, t1, 4096)
        if bridge:
            spacing, thick = rng.uniform(15.0, 60.0), rng.uniform(1.5, 4.0)
            top = (((grid - t0) % spacing) < thick).astype(np.float64)
        else:
            top = np.full(grid.shape, rng.uniform(0.5, 3.0))  # the quay wall
            x = t0 + rng.uniform(0.0, 30.0)
            while x < t1:  # buildings, cranes, sheds along the quay
                w = rng.uniform(4.0, 40.0)
                if rng.random() < 0.7:
                    top[(grid >= x) & (grid < x + w)] += rng.uniform(2.0, 28.0)
                x += w + rng.uniform(0.0, 25.0)
        out.append(
            Structure(
                kind="bridge" if bridge else "quay",
                dist_m=dist,
                facing_deg=facing,
                deck_m=rng.uniform(4.0, 25.0) if bridge else 0.0,  # keyword order = draw order
                t0_m=t0,
                t1_m=t1,
                deck_thick_m=rng.uniform(1.0, 3.5) if bridge else 0.0,
                profile_m=grid,
                top_m=top,
                temp_k=air_temp_k + uniform(rng, cfg.harbour_temp_offset_k),
                texture_k=rng.uniform(0.5, 3.0),
            )
        )
    return sorted(out, key=lambda s: -s.dist_m)


class HarbourScene:
    """The structures of one harbour with their radiance as a function of (azimuth, height)."""

    @classmethod
    def sample(
        cls, rng: np.random.Generator, cfg: SceneConfig, params: SceneParams, b_path: float
    ) -> HarbourScene:
        """The harbour of a scene, seen through its air path (``b_path``: the path's band radiance)."""
        atm = params.atmosphere
        n = params.harbour.harbour_structures
        structures = sample_structures(rng, cfg, n, params.camera.hfov_deg, atm.air_temp_k)
        return cls(rng, structures, atm.extinction_per_m, b_path)

    def with_moored_boats(
        self, rng: np.random.Generator, params: SceneParams, floating: list[FloatingObject]
    ) -> list[FloatingObject]:
        """The scene's vessels and buoys not hidden behind a structure, and boats moored at the quays."""
        kept = [o for o in floating if not behind_structure(o, self.structures)]
        temps = (params.atmosphere.air_temp_k, params.sea.sea_temp_k)
        return kept + moored_boats(rng, params.harbour, self.structures, *temps)

    def __init__(self, rng: np.random.Generator, structures: list[Structure], k_ext: float, b_path: float):
        self.structures = structures
        self.k_ext = k_ext
        self.b_path = b_path
        # one texture per structure on a (height, azimuth) grid: 64 x 512 cells over 40 m x its extent
        self.textures = [
            fractal_noise(rng, 64, 512, base_cells=16, octaves=4, aspect=0.5) for _ in structures
        ]

    def _radiance(self, i: int, az_deg: np.ndarray, z_m: np.ndarray) -> np.ndarray:
        s = self.structures[i]
        u = np.clip((s.along(az_deg) - s.t0_m) / max(s.t1_m - s.t0_m, 1e-6), 0.0, 1.0) * 511.0
        v = np.clip(z_m / 40.0, 0.0, 1.0) * 63.0
        tex = bilinear(self.textures[i], v, u)
        temp = np.float32(s.temp_k) + np.float32(s.texture_k) * tex
        tau = np.exp(-s.distance(az_deg) * np.float32(self.k_ext))
        return tau * physics.planck(temp).astype(np.float32) + (1 - tau) * np.float32(self.b_path)

    def draw(
        self, cam: Camera, elev: np.ndarray, az: np.ndarray, radiance: np.ndarray, obj: np.ndarray
    ) -> list[tuple[Structure, np.ndarray]]:
        """Draw the structures (far to near) into radiance and obj; return each with the pixels it shows."""
        az_deg = degrees(az)
        shown = []
        below_horizon = elev < -np.float32(cam.dip_rad)
        for i, s in enumerate(self.structures):
            # height above the water where the ray passes the wall, from its waterline (as for vessels)
            d = s.distance(az_deg)
            z = (elev - s.waterline(cam)(az).astype(np.float32)) * np.where(np.isfinite(d), d, 0.0)
            hit = s.occupies(az_deg, z)
            if s.kind == "quay":  # a quay is the edge of the land: nothing but land behind it
                hit |= below_horizon & (z >= 0) & s.spans(az_deg)
            if hit.any():
                radiance[hit] = self._radiance(i, az_deg[hit], z[hit])
                for _, earlier in shown:
                    earlier &= ~hit  # hidden by this nearer one
            shown.append((s, hit))
        for _, pixels in shown:
            obj |= pixels
        return shown

    def mirror(self, az: np.ndarray, dist: np.ndarray):
        """A function of the mirrored rays' elevation (deg, per water pixel): (radiance the water mirrors,
        where it mirrors a structure rather than the sky). ``dist``: where each ray meets the water (m)."""
        az_deg = degrees(az)

        def reflect(refl_elev_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = np.zeros(az.shape, np.float32)
            hit_any = np.zeros(az.shape, bool)
            tan_e = np.tan(radians(refl_elev_deg))
            for i, s in reversed(list(enumerate(self.structures))):  # near to far: the nearest is seen
                d = s.distance(az_deg)
                z = np.where(np.isfinite(d), d - dist, -1.0) * tan_e
                hit = s.occupies(az_deg, z) & (dist < d) & ~hit_any
                if hit.any():
                    out[hit] = self._radiance(i, az_deg[hit], z[hit])
                    hit_any |= hit
            return out, hit_any

        return reflect


def bilinear(texture: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.map_coordinates(texture, [v, u], order=1, mode="nearest")`` of a float32 texture at
    coordinates inside it, the same numbers (its sum of the four texels times their row, then column
    weights, in float64), without importing scipy (a third of a second at each worker's start)."""
    v64, u64 = np.asarray(v, np.float64), np.asarray(u, np.float64)
    h, w = texture.shape
    if not (np.all((v64 >= 0) & (v64 <= h - 1)) and np.all((u64 >= 0) & (u64 <= w - 1))):
        from scipy import ndimage  # outside (or NaN): its border rules

        return ndimage.map_coordinates(texture, [v, u], order=1, mode="nearest").astype(np.float32)
    v0, u0 = np.floor(v64), np.floor(u64)
    wv0, wu0 = 1.0 - (v64 - v0), 1.0 - (u64 - u0)
    wv1, wu1 = 1.0 - wv0, 1.0 - wu0
    r0, c0 = v0.astype(np.intp), u0.astype(np.intp)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    texels = texture.astype(np.float64)
    out = texels[r0, c0] * wv0 * wu0
    out += texels[r0, c1] * wv0 * wu1
    out += texels[r1, c0] * wv1 * wu0
    out += texels[r1, c1] * wv1 * wu1
    return out.astype(np.float32)


def behind_structure(obj: FloatingObject, structures: list[Structure]) -> bool:
    """Whether a vessel or buoy lies beyond a structure within its extent (hidden; a bridge too, for
    simplicity)."""
    az = np.array([obj.az_deg])
    return any(bool(s.spans(az)[0]) and obj.dist_m > float(s.distance(az)[0]) for s in structures)


def moored_boats(
    rng: np.random.Generator,
    p: HarbourParams,
    structures: list[Structure],
    air_temp_k: float,
    sea_temp_k: float,
) -> list[FloatingObject]:
    """Boats moored along the quays, a few metres in front of them, not moving."""
    quays = [s for s in structures if s.kind == "quay"]
    boats = []
    for _ in range(p.harbour_moored_boats if quays else 0):
        quay = quays[int(rng.integers(len(quays)))]
        t = float(rng.uniform(quay.t0_m, quay.t1_m))
        off = math.atan2(t, quay.dist_m)
        if abs(math.degrees(off)) >= MAX_OBLIQUE_DEG:
            continue
        az = quay.facing_deg + math.degrees(off)
        dist = quay.dist_m / math.cos(off) * float(rng.uniform(0.9, 0.98))
        boat = sample_object(rng, "vessel", dist, az, air_temp_k, sea_temp_k, float(rng.uniform(5.0, 40.0)))
        boats.append(dataclasses.replace(boat, moving=False))
    return boats


def quay_waterlines(
    shown: list[tuple[Structure, np.ndarray]], cam: Camera
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(waterline rows per column, pixels) of the quays: like a near coast, a quay hides the sea behind it."""
    return [(rows_where(cam, s.waterline(cam)), pixels) for s, pixels in shown if s.kind == "quay"]
