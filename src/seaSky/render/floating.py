"""Vessels and buoys on the water: their random shapes and temperatures, and drawing them.

Every object is drawn in angular camera coordinates (azimuth, elevation of each pixel), so roll, pitch
and lens distortion apply to it exactly like to the horizon; its pixels are returned as a boolean mask.
Sizes: vessels 6-200 m long (boats to freighters), buoys 0.5-2 m wide; hull temperatures a few K
around air temperature (sun-heated decks warmer), engine exhausts tens of K above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seaSky.render.geometry import waterline_elevation
from seaSky.render.knobs import SceneConfig
from seaSky.render.params import CoastParams, SceneParams, log_uniform
from seaSky.render.physics import planck


@dataclass(frozen=True)
class FloatingObject:
    """One vessel or buoy: where it floats, its size and temperatures; the vessel's shape in metres."""

    kind: str  # "vessel" or "buoy"
    dist_m: float
    az_deg: float
    length_m: float
    height_m: float
    temp_k: float
    deck_warm_k: float = 0.0
    moving: bool = False
    heading_deg: float = 0.0
    exhaust_k: float = 0.0
    # vessel shape: hull height, bow rake, superstructure position/width/height, funnel position, mast
    hull_h: float = 0.0
    rake: float = 0.0
    sup_x: float = 0.0
    sup_w: float = 0.0
    sup_h: float = 0.0
    fun_x: float = 0.0
    mast_h: float = 0.0


def sample_object(
    rng: np.random.Generator,
    kind: str,
    dist_m: float,
    az_deg: float,
    t_air: float,
    t_sea: float,
    length_m: float,
) -> FloatingObject:
    """Random shape and temperatures of one vessel or buoy."""
    if kind == "buoy":
        return FloatingObject(
            kind=kind,
            dist_m=dist_m,
            az_deg=az_deg,
            length_m=length_m,
            height_m=length_m * rng.uniform(1.2, 2.5),
            temp_k=t_sea + rng.uniform(-2.0, 8.0),
        )
    hull_h = 0.06 * length_m + rng.uniform(0.5, 2.0)
    sup_h = hull_h * rng.uniform(0.4, 1.6)
    # keyword order = draw order
    return FloatingObject(
        kind=kind,
        dist_m=dist_m,
        az_deg=az_deg,
        length_m=length_m * rng.uniform(0.35, 1.0),
        hull_h=hull_h,
        rake=rng.uniform(0.5, 3.0),
        sup_x=rng.uniform(-0.35, 0.3),
        sup_w=rng.uniform(0.15, 0.5),
        sup_h=sup_h,
        fun_x=rng.uniform(-0.4, 0.4),
        mast_h=rng.uniform(0.0, 1.5) * sup_h,
        height_m=hull_h + 2.5 * sup_h,
        temp_k=t_air + rng.uniform(-1.5, 5.0),
        deck_warm_k=rng.uniform(-1.0, 4.0),
        exhaust_k=rng.uniform(10.0, 80.0),
        moving=bool(rng.random() < 0.7),
        heading_deg=rng.uniform(0, 360),
    )


def sample_objects(
    rng: np.random.Generator, cfg: SceneConfig, params: SceneParams, horizon_m: float
) -> list[FloatingObject]:
    """The scene's vessels (within 1.4 x the horizon distance) and buoys (within it), at random azimuths."""
    objs = []
    half = 0.55 * params.camera.hfov_deg
    t_air, t_sea = params.atmosphere.air_temp_k, params.sea.sea_temp_k
    dmax = min(cfg.vessel_distance_m[1], 1.4 * horizon_m)
    for _ in range(params.floating.n_vessels):
        dist = log_uniform(rng, (min(cfg.vessel_distance_m[0], dmax), dmax))
        az = float(rng.uniform(-half, half))
        objs.append(
            sample_object(rng, "vessel", dist, az, t_air, t_sea, log_uniform(rng, cfg.vessel_length_m))
        )
    for _ in range(params.floating.n_buoys):
        dist = log_uniform(rng, (cfg.buoy_distance_m[0], min(cfg.buoy_distance_m[1], horizon_m)))
        az = float(rng.uniform(-half, half))
        objs.append(sample_object(rng, "buoy", dist, az, t_air, t_sea, float(rng.uniform(0.5, 2.0))))
    return objs


def behind_coast(obj: FloatingObject, coast: CoastParams, horizon_m: float) -> bool:
    """Whether a vessel or buoy lies beyond the coast's front and within its azimuth extent (hidden)."""
    beyond = obj.dist_m > coast.land_distance_factor * horizon_m
    return beyond and abs(obj.az_deg - coast.land_centre_deg) < coast.land_width_deg / 2


def vessel_shape(u: np.ndarray, v: np.ndarray, obj: FloatingObject) -> tuple[np.ndarray, np.ndarray]:
    """(body, hot) masks of a vessel in local metres: u along the horizon, v up from the waterline."""
    length, hull_h = obj.length_m, obj.hull_h
    half = length / 2
    bow = np.clip((hull_h - v) * obj.rake, 0, None)
    hull = (v >= 0) & (v <= hull_h) & (u >= -half) & (u <= half - bow)
    sx, sw, sh = obj.sup_x * length, obj.sup_w * length, obj.sup_h
    sup = (v > hull_h) & (v <= hull_h + sh) & (np.abs(u - sx) <= sw / 2)
    fx, fw, fh = sx + obj.fun_x * sw, max(0.04 * length, 0.8), 0.5 * sh
    fun = (v > hull_h + sh) & (v <= hull_h + sh + fh) & (np.abs(u - fx) <= fw / 2)
    mast = (v > hull_h + sh) & (v <= hull_h + sh + obj.mast_h) & (np.abs(u - sx + 0.3 * sw) <= 0.3)
    return hull | sup | fun | mast, fun


def draw_object(
    elev: np.ndarray,
    az: np.ndarray,
    radiance: np.ndarray,
    obj_mask: np.ndarray,
    cam_height_m: float,
    dip_rad: float,
    horizon_m: float,
    obj: FloatingObject,
    path_radiance: float,
    extinction_m: float,
) -> None:
    """Draw one vessel or buoy into radiance (seen through the air path) and obj_mask."""
    d = obj.dist_m
    e_w, hidden = waterline_elevation(d, cam_height_m, dip_rad, horizon_m)
    top = obj.height_m + 2.0
    a0 = np.radians(obj.az_deg)
    rows = np.any((elev >= e_w - 1e-3) & (elev <= e_w + top / d + 1e-3), axis=1)
    cols = np.any(np.abs(az - a0) <= obj.length_m / d + 1e-3, axis=0)
    if not rows.any() or not cols.any():
        return
    r0, r1 = np.flatnonzero(rows)[[0, -1]]
    c0, c1 = np.flatnonzero(cols)[[0, -1]]
    sl = (slice(r0, r1 + 1), slice(c0, c1 + 1))
    u = (az[sl] - np.float32(a0)) * np.float32(d)
    v = (elev[sl] - np.float32(e_w)) * np.float32(d) + np.float32(hidden)
    if obj.kind == "buoy":
        w = obj.length_m
        body = (
            (v >= 0) & (v <= obj.height_m) & (np.abs(u) <= w / 2 * np.clip(1.3 - v / obj.height_m, 0.15, 1))
        )
        hot = np.zeros_like(body)
    else:
        body, hot = vessel_shape(u, v, obj)
    if not body.any():
        return
    tau = float(np.exp(-d / extinction_m))
    shade = np.clip(v / max(obj.height_m, 1e-3), 0, 1) * obj.deck_warm_k
    temp = obj.temp_k + shade + np.where(hot, obj.exhaust_k, 0.0)
    value = tau * planck(temp).astype(np.float32) + (1 - tau) * path_radiance
    radiance[sl][body] = value[body]
    obj_mask[sl] |= body
