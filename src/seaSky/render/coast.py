"""A coast: one to three ragged ridges, near (its waterline below the horizon, hiding the sea behind it)
or beyond the horizon, far ridges fading into the haze, with thermal texture, sun-warmed patches and a
strip along the waterline (beach, quay, buildings).

Drawn in angular camera coordinates (azimuth, elevation of each pixel), so roll, pitch and lens
distortion apply to it exactly like to the horizon.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from seaSky.render import physics
from seaSky.render.geometry import Camera, degrees, radians, waterline_elevation
from seaSky.render.noise import fractal_noise, noise_1d
from seaSky.render.params import AtmosphereParams, CoastParams


def coast_layers(
    rng: np.random.Generator,
    elev: np.ndarray,
    az: np.ndarray,
    cam_height_m: float,
    dip_rad: float,
    horizon_m: float,
    coast: CoastParams,
) -> tuple[list[tuple[np.ndarray, float]], float]:
    """Masks of a coast's ridges, far to near, each with its distance (m); and the front waterline elevation.

    The front ridge stands on its waterline at ``land_distance_factor`` x the horizon distance: below the
    horizon for a near coast (it then hides the sea behind it), on the horizon for one beyond it (its foot
    hidden by the earth's curvature). Ridges behind it are farther away (so more hazed by the caller) and
    usually taller. Within the front ridge's azimuth extent they stand on the land behind its shore;
    beyond it, on their own, farther waterline: a coastline receding into the distance. Every ridge is a
    ragged fractal profile rising to at most ``land_height_deg`` above the front waterline.
    """
    d_front = coast.land_distance_factor * horizon_m
    e_front = waterline_elevation(d_front, cam_height_m, dip_rad, horizon_m)[0]
    top = np.radians(coast.land_height_deg)
    grid = np.linspace(-0.5, 0.5, 512)
    az_deg = degrees(az)
    in_front = np.abs(az_deg - coast.land_centre_deg) < coast.land_width_deg / 2
    n = coast.land_layers
    layers = []
    for k in range(n - 1, -1, -1):  # back to front
        d_k = d_front * (1.0 + k * rng.uniform(0.3, 1.5))
        level = (k + 1) / n if n > 1 else 1.0
        base = rng.uniform(0.35, 0.7) * level
        rough = noise_1d(rng, 512, base_cells=int(rng.integers(2, 6)), octaves=6, persistence=0.65)
        profile = np.clip(base + 0.3 * level * rough, 0.03, 1.0)
        width = coast.land_width_deg * (rng.uniform(0.5, 1.5) if k else 1.0)
        centre = coast.land_centre_deg + (rng.uniform(-0.5, 0.5) * width if k else 0.0)
        taper = np.clip((0.5 - np.abs(grid)) / rng.uniform(0.03, 0.25), 0, 1)
        summit = e_front + top * profile * np.sqrt(taper)  # elevation of the ridge line
        foot = e_front
        if k:
            foot = np.where(
                in_front,
                np.float32(e_front),
                np.float32(waterline_elevation(d_k, cam_height_m, dip_rad, horizon_m)[0]),
            )
        cand = (elev >= foot) & (elev <= np.float32(summit.max()))
        mask = np.zeros(elev.shape, bool)
        if cand.any():
            rel = (az_deg[cand] - centre) / width
            mask[cand] = (np.abs(rel) < 0.5) & (elev[cand] <= np.interp(rel, grid, summit))
        layers.append((mask, d_k))
    return layers, e_front


def paint_coast(
    rng: np.random.Generator,
    coast: CoastParams,
    atmosphere: AtmosphereParams,
    cam: Camera,
    elev: np.ndarray,
    az: np.ndarray,
    radiance: np.ndarray,
    obj: np.ndarray,
    b_atm: float,
) -> float | None:
    """Paint the coast's ridges (far to near) into radiance and obj; the front waterline elevation or None.

    Each ridge: land temperature + fractal texture (stretched along the horizon like terraces and strata)
    + sun-warmed patches (bare slopes, settlements), seen through the air path to its distance, so farther
    ridges fade towards the atmosphere. The front ridge gets a strip along its waterline (beach, quay,
    buildings) warmer or colder than the land above it.
    """
    layers, e_front = coast_layers(rng, elev, az, cam.height_m, cam.dip_rad, cam.horizon_distance_m, coast)
    h, w = elev.shape
    k_ext = atmosphere.extinction_per_m
    drawn = False
    for i, (mask, dist_m) in enumerate(layers):
        if not mask.any():
            continue
        drawn = True
        tex = fractal_noise(rng, h, w, base_cells=6, octaves=5, persistence=0.6, aspect=2.5, work_scale=2)
        fine = fractal_noise(rng, h, w, base_cells=40, octaves=3, persistence=0.6, aspect=2.0)
        temp = coast.land_temp_k + rng.normal(0.0, 1.5) + coast.land_texture_k * (tex + 0.5 * fine)
        warm = fractal_noise(rng, h, w, base_cells=10, octaves=4, persistence=0.5, aspect=1.5, work_scale=2)
        temp = temp + coast.land_sunlit_k * np.clip(warm - 1.0, 0.0, None)
        if i == len(layers) - 1:  # the front ridge: a strip along the waterline
            ragged = 1.0 + 0.5 * noise_1d(rng, w, base_cells=8, octaves=4)
            strip_rad = np.radians(coast.land_strip_deg) * ragged
            strip = (elev - np.float32(e_front)) < strip_rad[None, :].astype(np.float32)
            temp = np.where(strip, temp + coast.land_strip_k, temp)
        tau = math.exp(-dist_m * k_ext)
        radiance[mask] = (tau * physics.planck(temp[mask]) + (1 - tau) * b_atm).astype(np.float32)
        obj |= mask
    return e_front if drawn else None


def haze_foot(
    radiance: np.ndarray,
    coast_mask: np.ndarray,
    elev: np.ndarray,
    e_front: float,
    coast: CoastParams,
    target: float,
) -> None:
    """A low haze over the foot of the hills (in place): the land's radiance moves ``haze_depth`` of the way
    to ``target`` (the water's brightness at the waterline) at the foot, less and less higher up (e-folding
    over ``haze_height`` x the land's height), so the foot blends into the water."""
    scale = np.float32(coast.haze_height * math.radians(coast.land_height_deg))
    above = np.maximum(elev[coast_mask] - np.float32(e_front), np.float32(0.0))
    weight = np.float32(coast.haze_depth) * np.exp(-above / scale)
    radiance[coast_mask] += weight * (np.float32(target) - radiance[coast_mask])


def calm_water(coast: CoastParams, az: np.ndarray, dist: np.ndarray, d_front: float) -> np.ndarray:
    """0..1 per pixel: the calm water in the lee of a near coast, 1 from its waterline out to 0.7 x
    ``calm_width`` x its distance, fading out by ``calm_width`` x its distance, within the coast's azimuth
    extent (soft at its ends)."""
    width_m = np.float32(coast.calm_width * d_front)
    out_front = np.maximum(np.float32(d_front) - dist, np.float32(0.0))
    along = np.abs(degrees(az) - np.float32(coast.land_centre_deg)) / np.float32(0.5 * coast.land_width_deg)
    inside = np.clip((1.0 - along) * 5.0, 0.0, 1.0)
    fade = np.clip((width_m - out_front) / (np.float32(0.3) * width_m), 0.0, 1.0)
    return (fade * fade * (3 - 2 * fade) * inside).astype(np.float32)


def coast_mirror(
    land: np.ndarray,
    coast_mask: np.ndarray,
    cam: Camera,
    elev: np.ndarray,
    dist: np.ndarray,
    d_front: float,
    calm: np.ndarray,
    top: int = 0,
):
    """The water's mirror image of a near coast, as a function of the mirrored rays' elevation (deg) giving
    (radiance, hit) like a harbour's mirror: a ray leaving the water at ``dist`` at that elevation meets the
    coast's plane at ``d_front`` at a height whose elevation seen from the camera is looked up in the
    painted ``land`` radiance, shifted up the frame (roll included) from the water pixel. Only the calm water
    (``calm`` > 0.5) mirrors it: rough water smears the image into the mean it has with the sky.
    ``elev``, ``dist`` and ``calm`` (and the mirror's argument) may hold the rows ``top``.. of the frame
    only; ``land`` and ``coast_mask`` are the whole frame's."""
    height, width = elev.shape
    ys, xs = np.mgrid[top : top + height, 0:width].astype(np.float32)
    roll = math.radians(cam.roll_deg)
    sin_r, cos_r = np.float32(math.sin(roll)), np.float32(math.cos(roll))
    front = (dist < np.float32(d_front)) & (calm > 0.5)
    run = np.maximum(np.float32(d_front) - dist, np.float32(0.0))
    solid = coast_mask.astype(np.float32)

    def mirror(refl_elev_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rise = run * np.tan(radians(refl_elev_deg)) - np.float32(cam.height_m)
        up = (np.arctan(rise / np.float32(d_front)) - elev) * np.float32(cam.focal_px)
        map_x, map_y = xs - sin_r * up, ys - cos_r * up
        radiance = cv2.remap(land, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        hit = cv2.remap(solid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return radiance, (hit > 0.5) & front

    return mirror
