"""Things that are not sea: a coast (near, or on the horizon), vessels and buoys on the water.

Every object is drawn in angular camera coordinates (azimuth, elevation of each pixel), so roll, pitch
and lens distortion apply to it exactly like to the horizon; its pixels are returned as a boolean mask.
Sizes: vessels 6-200 m long (boats to freighters), buoys 0.5-2 m wide; hull temperatures a few K
around air temperature (sun-heated decks warmer), engine exhausts tens of K above it.
"""

from __future__ import annotations

import numpy as np

from seaSky.data.scene.geometry import EARTH_RADIUS_M, REFRACTION_K
from seaSky.data.scene.noise import noise_1d
from seaSky.data.scene.physics import planck


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


def coast_layers(
    rng: np.random.Generator,
    elev: np.ndarray,
    az: np.ndarray,
    cam_height_m: float,
    dip_rad: float,
    horizon_m: float,
    p: dict,
) -> tuple[list[tuple[np.ndarray, float]], float]:
    """Masks of a coast's ridges, far to near, each with its distance (m); and the front waterline elevation.

    The front ridge stands on its waterline at ``land_distance_factor`` x the horizon distance: below the
    horizon for a near coast (it then hides the sea behind it), on the horizon for one beyond it (its foot
    hidden by the earth's curvature). Ridges behind it are farther away (so more hazed by the caller) and
    usually taller. Within the front ridge's azimuth extent they stand on the land behind its shore;
    beyond it, on their own, farther waterline: a coastline receding into the distance. Every ridge is a
    ragged fractal profile rising to at most ``land_height_deg`` above the front waterline.
    """
    d_front = p["land_distance_factor"] * horizon_m
    e_front = waterline_elevation(d_front, cam_height_m, dip_rad, horizon_m)[0]
    top = np.radians(p["land_height_deg"])
    grid = np.linspace(-0.5, 0.5, 512)
    az_deg = np.degrees(az)
    in_front = np.abs(az_deg - p["land_centre_deg"]) < p["land_width_deg"] / 2
    n = p["land_layers"]
    layers = []
    for k in range(n - 1, -1, -1):  # back to front
        d_k = d_front * (1.0 + k * rng.uniform(0.3, 1.5))
        level = (k + 1) / n if n > 1 else 1.0
        base = rng.uniform(0.35, 0.7) * level
        rough = noise_1d(rng, 512, base_cells=int(rng.integers(2, 6)), octaves=6, persistence=0.65)
        profile = np.clip(base + 0.3 * level * rough, 0.03, 1.0)
        width = p["land_width_deg"] * (rng.uniform(0.5, 1.5) if k else 1.0)
        centre = p["land_centre_deg"] + (rng.uniform(-0.5, 0.5) * width if k else 0.0)
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


def vessel_shape(u: np.ndarray, v: np.ndarray, length: float, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """(body, hot) masks of a vessel in local metres: u along the horizon, v up from the waterline."""
    hull_h = params["hull_h"]
    half = length / 2
    bow = np.clip((hull_h - v) * params["rake"], 0, None)
    hull = (v >= 0) & (v <= hull_h) & (u >= -half) & (u <= half - bow)
    sx, sw, sh = params["sup_x"] * length, params["sup_w"] * length, params["sup_h"]
    sup = (v > hull_h) & (v <= hull_h + sh) & (np.abs(u - sx) <= sw / 2)
    fx, fw, fh = sx + params["fun_x"] * sw, max(0.04 * length, 0.8), 0.5 * sh
    fun = (v > hull_h + sh) & (v <= hull_h + sh + fh) & (np.abs(u - fx) <= fw / 2)
    mast = (v > hull_h + sh) & (v <= hull_h + sh + params["mast_h"]) & (np.abs(u - sx + 0.3 * sw) <= 0.3)
    return hull | sup | fun | mast, fun


def draw_floating(
    rng: np.random.Generator,
    elev: np.ndarray,
    az: np.ndarray,
    radiance: np.ndarray,
    obj_mask: np.ndarray,
    cam_height_m: float,
    dip_rad: float,
    horizon_m: float,
    obj: dict,
    path_radiance: float,
    extinction_m: float,
) -> None:
    """Draw one vessel or buoy (kind, dist_m, az_deg, length_m, temp_k, ...) into radiance and obj_mask."""
    d = obj["dist_m"]
    e_w, hidden = waterline_elevation(d, cam_height_m, dip_rad, horizon_m)
    top = obj["height_m"] + 2.0
    a0 = np.radians(obj["az_deg"])
    rows = np.any((elev >= e_w - 1e-3) & (elev <= e_w + top / d + 1e-3), axis=1)
    cols = np.any(np.abs(az - a0) <= obj["length_m"] / d + 1e-3, axis=0)
    if not rows.any() or not cols.any():
        return
    r0, r1 = np.flatnonzero(rows)[[0, -1]]
    c0, c1 = np.flatnonzero(cols)[[0, -1]]
    sl = (slice(r0, r1 + 1), slice(c0, c1 + 1))
    u = (az[sl] - np.float32(a0)) * np.float32(d)
    v = (elev[sl] - np.float32(e_w)) * np.float32(d) + np.float32(hidden)
    if obj["kind"] == "buoy":
        w = obj["length_m"]
        body = (
            (v >= 0)
            & (v <= obj["height_m"])
            & (np.abs(u) <= w / 2 * np.clip(1.3 - v / obj["height_m"], 0.15, 1))
        )
        hot = np.zeros_like(body)
    else:
        body, hot = vessel_shape(u, v, obj["length_m"], obj)
    if not body.any():
        return
    tau = float(np.exp(-d / extinction_m))
    shade = np.clip(v / max(obj["height_m"], 1e-3), 0, 1) * obj.get("deck_warm_k", 0.0)
    temp = obj["temp_k"] + shade + np.where(hot, obj.get("exhaust_k", 0.0), 0.0)
    value = tau * planck(temp).astype(np.float32) + (1 - tau) * path_radiance
    radiance[sl][body] = value[body]
    obj_mask[sl] |= body


def sample_floating(
    rng: np.random.Generator,
    kind: str,
    dist_m: float,
    az_deg: float,
    t_air: float,
    t_sea: float,
    length_m: float,
) -> dict:
    """Random shape and temperatures of one vessel or buoy."""
    if kind == "buoy":
        return {
            "kind": kind,
            "dist_m": dist_m,
            "az_deg": az_deg,
            "length_m": length_m,
            "height_m": length_m * rng.uniform(1.2, 2.5),
            "temp_k": t_sea + rng.uniform(-2.0, 8.0),
            "deck_warm_k": 0.0,
            "moving": False,
            "heading_deg": 0.0,
        }
    hull_h = 0.06 * length_m + rng.uniform(0.5, 2.0)
    sup_h = hull_h * rng.uniform(0.4, 1.6)
    return {
        "kind": kind,
        "dist_m": dist_m,
        "az_deg": az_deg,
        "length_m": length_m * rng.uniform(0.35, 1.0),
        "hull_h": hull_h,
        "rake": rng.uniform(0.5, 3.0),
        "sup_x": rng.uniform(-0.35, 0.3),
        "sup_w": rng.uniform(0.15, 0.5),
        "sup_h": sup_h,
        "fun_x": rng.uniform(-0.4, 0.4),
        "mast_h": rng.uniform(0.0, 1.5) * sup_h,
        "height_m": hull_h + 2.5 * sup_h,
        "temp_k": t_air + rng.uniform(-1.5, 5.0),
        "deck_warm_k": rng.uniform(-1.0, 4.0),
        "exhaust_k": rng.uniform(10.0, 80.0),
        "moving": bool(rng.random() < 0.7),
        "heading_deg": rng.uniform(0, 360),
    }
