"""Synthetic infrared (LWIR, 8-14 um) maritime scenes with exact sea masks and horizon ground truth.

The project's built-in data set: a procedural, physically motivated renderer, so that a U-Net trained
only on it transfers to real thermal cameras. Mask: 1 = sea (water surface), 0 = everything else.

Physics modelled (numbers and sources in the ``scene`` modules):
- Geometry (scene/geometry.py): pinhole camera with horizontal FOV, height above the sea, roll, pitch
  and slight barrel distortion. The horizon lies sqrt(2h/R) below the horizontal (R = 6371 km, times
  0.92 for standard refraction); a pixel is sea iff its (undistorted) ray points below it, so the mask
  is exact per pixel and the horizon may be a gentle curve. Distance to the water along a ray at
  depression beta below the horizon: D = 1 / (tan(beta)/h + 1/D_h) (flat earth near, D_h at the horizon).
- Radiance (scene/physics.py): Planck band radiance over 8-14 um from a lookup table.
  Sky: eps(theta) = 1 - (1 - eps_zenith)^(1/cos theta) times B(T_atm), coldest at the zenith and
  brightening towards the horizon; fractal clouds on a cloud layer in perspective, warm (low) or cold
  (high), attenuated by the path to them. Sea: eps(theta') B(T_sea) + (1 - eps) L_sky(reflected), with
  eps from the Fresnel equations for water at ~10 um (n = 1.218 + 0.051i, Hale & Querry 1973; 0.99 at
  nadir), averaged over Cox-Munk wind slopes like Masuda et al. (1988), so the sea emissivity drops at
  grazing angles and sea and sky radiance converge at the horizon. Swell and wind waves live on the
  water plane (so they shrink in perspective, filtered against aliasing); the local slope tilts the
  view angle, changing emissivity and the reflected sky. Foam (emissivity ~0.99) as streaks parallel
  to the horizon, vessel wakes, sun/sky glint (sometimes saturating), slicks (calm patches with a lower
  grazing emissivity). Air path: extinction over the
  horizontal path (clear-air LWIR 15-60 km, fog down to a few hundred metres) mixing in B(T_atm);
  fog also blurs the far field, flattening the horizon.
- Polarity: the sign of sea minus horizon sky follows T_sea - T_atm (plus clouds, glint, fog); cold water
  under a humid/overcast sky inverts it, so "bright means sea" is not a rule.
- Objects (scene/objects.py): coasts of one to three ragged ridges, far ones fading into the haze, up to
  12 degrees high, either near (their waterline below the horizon, hiding the sea behind them) or beyond
  the horizon, with kelvins of thermal texture, sun-warmed patches and a waterline strip (beach, quay,
  buildings); where a near coast covers 3/4 of the width, the horizon ground truth is its waterline,
  the sea's upper boundary (meta ``horizon_kind``, ``near_coast_cover``); vessels behind it are hidden.
  Vessels (hull, superstructure, hot exhaust; some on the horizon, partly hidden by the earth's
  curvature), buoys.
- Sensor (scene/sensor.py): optics blur, occasional defocus / motion blur, vignetting, gain to 14-bit
  counts (30-90 counts/K), temporal noise from NETD 30-80 mK, column/row fixed-pattern noise,
  dead/hot pixels, and an AGC (percentile stretch with clipping) for 8-bit output.

CLI (Hydra): ``python -m seaSky.data.synthetic out_dir=DIR n=2000 seed=0 preset=default``
(``preview=true`` for a contact sheet, ``stats=true`` for data-set statistics).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import multiprocessing as mp
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.scene import geometry, objects, physics, sensor, surfaces
from seaSky.data.scene.noise import fractal_noise, noise_1d
from seaSky.data.scene.sensor import to_8bit

__all__ = [
    "Scene",
    "SceneConfig",
    "compute_stats",
    "contact_sheet",
    "load_preset",
    "render_scene",
    "to_8bit",
    "write_dataset",
]

PRESET_DIR = Path(__file__).parents[3] / "conf" / "preset"
Range = tuple[float, float]


@dataclass
class SceneConfig:
    """Every knob of the scene distribution: (low, high) ranges sampled uniformly, *_prob probabilities.

    The defaults are the preset ``default`` (conf/preset/default.yaml).
    """

    # camera
    hfov_deg: Range = (24.0, 60.0)
    camera_height_m: Range = (3.0, 40.0)
    roll_std_deg: float = 4.0
    large_roll_prob: float = 0.05
    roll_max_deg: float = 30.0
    horizon_row: Range = (0.12, 0.88)
    out_of_view_prob: float = 0.05
    distortion_k1: Range = (0.0, 0.04)
    # atmosphere and sky
    air_temp_k: Range = (272.0, 305.0)
    sky_temp_offset_k: Range = (-6.0, 0.0)
    sky_emissivity_zenith: Range = (0.25, 0.55)
    humid_prob: float = 0.25
    humid_sky_temp_offset_k: Range = (-3.0, 2.0)
    humid_sky_emissivity_zenith: Range = (0.6, 0.9)
    extinction_km: Range = (15.0, 60.0)
    haze_layer_m: Range = (300.0, 1500.0)
    fog_prob: float = 0.06
    fog_visibility_km: Range = (0.3, 4.0)
    cloud_prob: float = 0.6
    cloud_cover: Range = (0.1, 0.8)
    cloud_base_m: Range = (300.0, 3000.0)
    cloud_temp_offset_k: Range = (-25.0, -1.0)
    cloud_emissivity: Range = (0.6, 1.0)
    # sea
    sea_air_diff_k: Range = (-4.0, 4.0)
    wind_ms: Range = (1.0, 12.0)
    swell_wavelength_m: Range = (20.0, 150.0)
    swell_slope: Range = (0.02, 0.1)
    skin_temp_var_k: Range = (0.02, 0.15)
    slick_prob: float = 0.3
    slick_cover: Range = (0.1, 0.5)
    foam_prob: float = 0.3
    foam_cover: Range = (0.005, 0.05)
    glint_prob: float = 0.2
    glint_strength_k: Range = (3.0, 60.0)
    sun_elevation_deg: Range = (2.0, 35.0)
    # objects
    land_prob: float = 0.45
    land_width_deg: Range = (5.0, 150.0)
    land_height_deg: Range = (0.3, 12.0)
    land_distance_factor: Range = (0.25, 3.0)
    land_temp_offset_k: Range = (-4.0, 10.0)
    land_texture_k: Range = (0.5, 4.0)
    land_max_layers: int = 3
    land_sunlit_k: Range = (0.0, 8.0)
    land_strip_deg: Range = (0.05, 0.6)
    land_strip_k: Range = (-3.0, 12.0)
    vessel_prob: float = 0.4
    max_vessels: int = 3
    vessel_length_m: Range = (6.0, 200.0)
    vessel_distance_m: Range = (150.0, 30000.0)
    buoy_prob: float = 0.15
    buoy_distance_m: Range = (40.0, 2000.0)
    # sensor
    netd_mk: Range = (30.0, 80.0)
    counts_per_k: Range = (30.0, 90.0)
    offset_counts: Range = (5000.0, 10000.0)
    column_fpn: Range = (0.1, 0.8)
    row_fpn: Range = (0.0, 0.4)
    vignetting: Range = (0.0, 0.015)
    dead_pixel_rate: Range = (0.0, 3e-5)
    optics_blur_px: Range = (0.4, 0.9)
    defocus_prob: float = 0.07
    defocus_px: Range = (1.0, 2.5)
    motion_blur_prob: float = 0.05
    motion_blur_px: Range = (2.0, 6.0)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "Range":
                if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                    raise ValueError(f"scene knob {f.name!r} must be a [low, high] pair, got {value!r}")
                lo, hi = float(value[0]), float(value[1])
                if lo > hi:
                    raise ValueError(f"scene knob {f.name!r}: low {lo} > high {hi}")
                setattr(self, f.name, (lo, hi))
            elif f.name.endswith("_prob") and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"scene knob {f.name!r} is a probability, got {value!r}")
        if self.max_vessels < 0:
            raise ValueError(f"scene knob 'max_vessels' must be >= 0, got {self.max_vessels}")
        if self.land_max_layers < 1:
            raise ValueError(f"scene knob 'land_max_layers' must be >= 1, got {self.land_max_layers}")
        for name in LOG_UNIFORM_KNOBS:
            if getattr(self, name)[0] <= 0:
                raise ValueError(f"scene knob {name!r} is sampled log-uniformly: its low must be > 0")

    @classmethod
    def from_dict(cls, values: Mapping) -> SceneConfig:
        """Build from a preset's values; unknown knobs are one clear error listing them all."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"unknown scene knob(s) {unknown}; see SceneConfig or conf/preset/default.yaml")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain dict (lists for ranges), as written into dataset.json."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


LOG_UNIFORM_KNOBS = (
    "camera_height_m", "extinction_km", "fog_visibility_km", "cloud_base_m", "swell_wavelength_m",
    "land_height_deg", "land_distance_factor", "land_strip_deg", "vessel_length_m", "vessel_distance_m",
    "buoy_distance_m",
)  # fmt: skip


@dataclass
class Scene:
    """One rendered scene: 14-bit counts, sea mask (1 = sea), object mask, and all sampled parameters."""

    image: np.ndarray
    mask: np.ndarray
    meta: dict
    object_mask: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0), np.uint8))


def load_preset(name: str) -> SceneConfig:
    """SceneConfig of conf/preset/<name>.yaml (following its ``defaults`` list)."""
    valid = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
    if name not in valid:
        raise ValueError(f"unknown preset {name!r}; valid presets: {valid} (in {PRESET_DIR})")
    return SceneConfig.from_dict(_read_preset(name))


def _read_preset(name: str) -> dict:
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(PRESET_DIR / f"{name}.yaml"))
    merged: dict = {}
    for entry in cfg.pop("defaults", []):
        if entry == "_self_":
            merged.update(cfg)
            cfg = {}
        else:
            merged.update(_read_preset(str(entry)))
    merged.update(cfg)
    return merged


# ----------------------------------------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------------------------------------


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def _lu(rng: np.random.Generator, r: Range) -> float:
    """Log-uniform in [low, high] (both > 0)."""
    return float(math.exp(rng.uniform(math.log(r[0]), math.log(r[1])))) if r[1] > r[0] else float(r[0])


def _sample_params(rng: np.random.Generator, cfg: SceneConfig, width: int, height: int) -> dict:
    p: dict = {}
    p["hfov_deg"] = _u(rng, cfg.hfov_deg)
    p["camera_height_m"] = _lu(rng, cfg.camera_height_m)
    if rng.random() < cfg.large_roll_prob:
        p["roll_deg"] = float(rng.uniform(-cfg.roll_max_deg, cfg.roll_max_deg))
    else:
        p["roll_deg"] = float(np.clip(rng.normal(0, cfg.roll_std_deg), -cfg.roll_max_deg, cfg.roll_max_deg))
    if rng.random() < cfg.out_of_view_prob:
        row = rng.uniform(-1.0, -0.2) if rng.random() < 0.5 else rng.uniform(1.2, 2.0)
    else:
        row = _u(rng, cfg.horizon_row)
    p["horizon_row_target"] = float(row)
    p["pitch_deg"] = geometry.pitch_for_horizon_row(width, height, p["hfov_deg"], p["camera_height_m"], row)
    p["distortion_k1"] = _u(rng, cfg.distortion_k1)

    p["air_temp_k"] = _u(rng, cfg.air_temp_k)
    p["sea_temp_k"] = p["air_temp_k"] + _u(rng, cfg.sea_air_diff_k)
    p["humid_sky"] = bool(rng.random() < cfg.humid_prob)
    if p["humid_sky"]:
        p["atm_temp_k"] = p["air_temp_k"] + _u(rng, cfg.humid_sky_temp_offset_k)
        p["sky_emissivity_zenith"] = _u(rng, cfg.humid_sky_emissivity_zenith)
    else:
        p["atm_temp_k"] = p["air_temp_k"] + _u(rng, cfg.sky_temp_offset_k)
        p["sky_emissivity_zenith"] = _u(rng, cfg.sky_emissivity_zenith)
    p["extinction_km"] = _lu(rng, cfg.extinction_km)
    p["haze_layer_m"] = _u(rng, cfg.haze_layer_m)
    p["fog"] = bool(rng.random() < cfg.fog_prob)
    p["fog_visibility_km"] = _lu(rng, cfg.fog_visibility_km) if p["fog"] else 0.0
    p["clouds"] = bool(rng.random() < cfg.cloud_prob)
    p["cloud_cover"] = _u(rng, cfg.cloud_cover) if p["clouds"] else 0.0
    p["cloud_base_m"] = _lu(rng, cfg.cloud_base_m)
    # low clouds are warm (close to air temperature), high ones cold
    frac = (math.log(p["cloud_base_m"]) - math.log(cfg.cloud_base_m[0])) / max(
        math.log(cfg.cloud_base_m[1] / cfg.cloud_base_m[0]), 1e-6
    )
    lo, hi = cfg.cloud_temp_offset_k
    p["cloud_temp_k"] = p["air_temp_k"] + hi - (hi - lo) * float(np.clip(frac + rng.normal(0, 0.15), 0, 1))
    p["cloud_emissivity"] = _u(rng, cfg.cloud_emissivity)

    p["wind_ms"] = _u(rng, cfg.wind_ms)
    p["swell_wavelength_m"] = _lu(rng, cfg.swell_wavelength_m)
    p["swell_slope"] = _u(rng, cfg.swell_slope)
    p["swell_dir_deg"] = float(rng.uniform(-90, 90))
    p["skin_temp_var_k"] = _u(rng, cfg.skin_temp_var_k)
    p["slick_cover"] = _u(rng, cfg.slick_cover) if rng.random() < cfg.slick_prob else 0.0
    p["foam"] = bool(rng.random() < cfg.foam_prob)
    p["foam_cover"] = _u(rng, cfg.foam_cover) if p["foam"] else 0.0
    p["glint"] = bool(rng.random() < cfg.glint_prob)
    p["glint_strength_k"] = _u(rng, cfg.glint_strength_k) if p["glint"] else 0.0
    p["sun_elevation_deg"] = _u(rng, cfg.sun_elevation_deg)
    p["sun_azimuth_deg"] = float(rng.uniform(-0.6, 0.6) * p["hfov_deg"])

    p["land"] = bool(rng.random() < cfg.land_prob)
    p["land_width_deg"] = _u(rng, cfg.land_width_deg)
    p["land_centre_deg"] = float(rng.uniform(-0.7, 0.7) * p["hfov_deg"])
    p["land_height_deg"] = _lu(rng, cfg.land_height_deg)
    p["land_distance_factor"] = _lu(rng, cfg.land_distance_factor)
    p["land_temp_k"] = p["air_temp_k"] + _u(rng, cfg.land_temp_offset_k)
    p["land_texture_k"] = _u(rng, cfg.land_texture_k)
    p["land_layers"] = int(rng.integers(1, cfg.land_max_layers + 1))
    p["land_sunlit_k"] = _u(rng, cfg.land_sunlit_k)
    p["land_strip_deg"] = _lu(rng, cfg.land_strip_deg)
    p["land_strip_k"] = _u(rng, cfg.land_strip_k)

    p["n_vessels"] = (
        int(rng.integers(1, cfg.max_vessels + 1)) if cfg.max_vessels and rng.random() < cfg.vessel_prob else 0
    )
    p["n_buoys"] = int(rng.integers(1, 3)) if rng.random() < cfg.buoy_prob else 0

    p["netd_mk"] = _u(rng, cfg.netd_mk)
    p["counts_per_k"] = _u(rng, cfg.counts_per_k)
    p["offset_counts"] = _u(rng, cfg.offset_counts)
    p["noise_sigma_counts"] = p["netd_mk"] / 1000 * p["counts_per_k"]
    p["column_fpn"] = _u(rng, cfg.column_fpn)
    p["row_fpn"] = _u(rng, cfg.row_fpn)
    p["vignetting"] = _u(rng, cfg.vignetting) * (1 if rng.random() < 0.8 else -1)
    p["dead_pixel_rate"] = _u(rng, cfg.dead_pixel_rate)
    p["optics_blur_px"] = _u(rng, cfg.optics_blur_px)
    p["defocus_px"] = _u(rng, cfg.defocus_px) if rng.random() < cfg.defocus_prob else 0.0
    p["motion_blur_px"] = _u(rng, cfg.motion_blur_px) if rng.random() < cfg.motion_blur_prob else 0.0
    p["motion_blur_angle_deg"] = float(rng.uniform(0, 180))
    return p


def _sample_floating(rng: np.random.Generator, cfg: SceneConfig, p: dict, horizon_m: float) -> list[dict]:
    objs = []
    half = 0.55 * p["hfov_deg"]
    dmax = min(cfg.vessel_distance_m[1], 1.4 * horizon_m)
    for _ in range(p["n_vessels"]):
        dist = _lu(rng, (min(cfg.vessel_distance_m[0], dmax), dmax))
        objs.append(
            objects.sample_floating(
                rng,
                "vessel",
                dist,
                float(rng.uniform(-half, half)),
                p["air_temp_k"],
                p["sea_temp_k"],
                _lu(rng, cfg.vessel_length_m),
            )
        )
    for _ in range(p["n_buoys"]):
        dist = _lu(rng, (cfg.buoy_distance_m[0], min(cfg.buoy_distance_m[1], horizon_m)))
        objs.append(
            objects.sample_floating(
                rng,
                "buoy",
                dist,
                float(rng.uniform(-half, half)),
                p["air_temp_k"],
                p["sea_temp_k"],
                float(rng.uniform(0.5, 2.0)),
            )
        )
    return objs


def _extinction_per_m(p: dict) -> float:
    """LWIR extinction coefficient (1/m) of the air near the surface: clear air plus fog."""
    fog = 3.0 / (p["fog_visibility_km"] * 1000.0) if p["fog"] else 0.0  # LWIR visibility V: 3 / V
    return 1.0 / (p["extinction_km"] * 1000.0) + fog


def _paint_coast(
    rng: np.random.Generator,
    p: dict,
    cam: geometry.Camera,
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
    layers, e_front = objects.coast_layers(
        rng, elev, az, cam.height_m, cam.dip_rad, cam.horizon_distance_m, p
    )
    h, w = elev.shape
    k_ext = _extinction_per_m(p)
    drawn = False
    for i, (mask, dist_m) in enumerate(layers):
        if not mask.any():
            continue
        drawn = True
        tex = fractal_noise(rng, h, w, base_cells=6, octaves=5, persistence=0.6, aspect=2.5, work_scale=2)
        fine = fractal_noise(rng, h, w, base_cells=40, octaves=3, persistence=0.6, aspect=2.0)
        temp = p["land_temp_k"] + rng.normal(0.0, 1.5) + p["land_texture_k"] * (tex + 0.5 * fine)
        warm = fractal_noise(rng, h, w, base_cells=10, octaves=4, persistence=0.5, aspect=1.5, work_scale=2)
        temp = temp + p["land_sunlit_k"] * np.clip(warm - 1.0, 0.0, None)
        if i == len(layers) - 1:  # the front ridge: a strip along the waterline
            ragged = 1.0 + 0.5 * noise_1d(rng, w, base_cells=8, octaves=4)
            strip_rad = np.radians(p["land_strip_deg"]) * ragged
            strip = (elev - np.float32(e_front)) < strip_rad[None, :].astype(np.float32)
            temp = np.where(strip, temp + p["land_strip_k"], temp)
        tau = math.exp(-dist_m * k_ext)
        radiance[mask] = (tau * physics.planck(temp[mask]) + (1 - tau) * b_atm).astype(np.float32)
        obj |= mask
    return e_front if drawn else None


# ----------------------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------------------


def render_scene(seed: int, width: int = 320, height: int = 256, scene: SceneConfig | None = None) -> Scene:
    """Render one scene: 14-bit counts (uint16), sea mask (uint8, 1 = sea) and the sampled parameters."""
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 16 <= value <= 8192:
            raise ValueError(f"{name} must be an integer in [16, 8192], got {value!r}")
    cfg = SceneConfig() if scene is None else scene
    if not isinstance(cfg, SceneConfig):
        raise TypeError(f"scene must be a SceneConfig, got {type(cfg).__name__}")
    rng = np.random.default_rng(seed)
    p = _sample_params(rng, cfg, width, height)
    cam = geometry.Camera(
        width, height, p["hfov_deg"], p["camera_height_m"], p["roll_deg"], p["pitch_deg"], p["distortion_k1"]
    )
    elev, az = geometry.pixel_grid_angles(cam)
    rows = geometry.horizon_rows(cam)
    sea_geom = np.arange(height, dtype=np.float64)[:, None] > rows[None, :]
    floating = _sample_floating(rng, cfg, p, cam.horizon_distance_m)

    sky, reflected = surfaces.sky_radiance(rng, p, elev, az, cam.focal_px)
    b_atm = float(physics.planck(p["atm_temp_k"]))
    obj = np.zeros((height, width), bool)
    front_waterline = None
    if p["land"]:
        front_waterline = _paint_coast(rng, p, cam, elev, az, sky, obj, b_atm)
        if front_waterline is not None:
            floating = [o for o in floating if not _behind_coast(o, p, cam.horizon_distance_m)]
    coast = obj.copy()
    sea, dist = surfaces.sea_radiance(rng, p, cam, elev, az, reflected, floating)
    # air path between camera and water: clear-air extinction plus fog, emitting like the lower atmosphere
    k_ext = _extinction_per_m(p)
    tau = np.exp(-dist * np.float32(k_ext))
    b_path = np.float32(float(physics.planck(p["air_temp_k"])) if p["fog"] else b_atm)
    sea = tau * sea + (1 - tau) * b_path
    radiance = np.where(sea_geom & ~obj, sea, sky).astype(np.float32)
    for o in floating:
        objects.draw_floating(
            rng,
            elev,
            az,
            radiance,
            obj,
            cam.height_m,
            cam.dip_rad,
            cam.horizon_distance_m,
            o,
            b_atm,
            1.0 / k_ext,
        )
    mask = (sea_geom & ~obj).astype(np.uint8)

    # sensor: optics, fog scattering blur, vignetting, gain, noise
    if p["fog"]:
        far = (1 - tau) * sea_geom + (~sea_geom) * np.float32(1.0)
        radiance = radiance + far * (sensor.blur(radiance, 2.0 + 4.0 / p["fog_visibility_km"]) - radiance)
    radiance = sensor.blur(radiance, math.hypot(p["optics_blur_px"], p["defocus_px"]))
    if p["motion_blur_px"] > 0:
        radiance = sensor.motion_blur(radiance, p["motion_blur_px"], p["motion_blur_angle_deg"])
    b_air = float(physics.planck(p["air_temp_k"]))
    gain = p["counts_per_k"] / physics.dplanck_dt(p["air_temp_k"])
    vig = sensor.vignetting(height, width, p["vignetting"])
    clean = np.float32(p["offset_counts"]) + np.float32(gain) * (radiance * vig - np.float32(b_air))
    noisy = sensor.add_noise(rng, clean, p["noise_sigma_counts"], p["column_fpn"], p["row_fpn"])
    image = sensor.quantize(rng, noisy, p["dead_pixel_rate"])

    meta = {
        **p,
        "n_objects": len(floating),
        "horizon_distance_km": cam.horizon_distance_m / 1000,
        "dip_deg": math.degrees(cam.dip_rad),
    }
    # ground-truth horizon: the upper boundary of the sea, i.e. the sea-sky horizon, or the waterline of a
    # near coast that covers most of the frame's width
    meta["horizon_kind"] = "sea_sky"
    meta["near_coast_cover"] = None
    if front_waterline is not None and front_waterline < -cam.dip_rad:
        waterline = geometry.horizon_rows(cam, elevation_rad=front_waterline)
        cover = _near_coast_cover(coast, waterline)
        meta["near_coast_cover"] = cover
        if cover is not None and cover >= MIN_NEAR_COAST_COVER:
            rows = waterline
            meta["horizon_kind"] = "waterline"
    meta.update(geometry.horizon_chord(rows, height))
    meta.update(_horizon_contrast(clean, mask, obj, rows, p["noise_sigma_counts"]))
    meta["sea_fraction"] = float(mask.mean())
    meta["coast_fraction"] = float(coast.mean())
    meta["saturated_fraction"] = float((image >= sensor.MAX_COUNTS).mean())
    return Scene(image=image, mask=mask, meta=meta, object_mask=obj.astype(np.uint8))


# a near coast's waterline is the horizon truth where the coast covers at least MIN_NEAR_COAST_COVER of
# the columns with the waterline in frame, and these are at least MIN_WATERLINE_IN_FRAME of the width
MIN_NEAR_COAST_COVER = 0.75
MIN_WATERLINE_IN_FRAME = 0.25


def _near_coast_cover(coast: np.ndarray, waterline_rows: np.ndarray) -> float | None:
    """Share of the columns with the waterline in frame where the coast stands right above it; None when
    the waterline is in frame in under MIN_WATERLINE_IN_FRAME of the width."""
    h, w = coast.shape
    cols = np.flatnonzero((waterline_rows > 0) & (waterline_rows < h - 1))
    if cols.size < MIN_WATERLINE_IN_FRAME * w:
        return None
    above = np.ceil(waterline_rows[cols]).astype(np.intp) - 1  # last pixel centre above the waterline
    return float(coast[above, cols].mean())


def _behind_coast(obj: dict, p: dict, horizon_m: float) -> bool:
    """Whether a vessel or buoy lies beyond the coast's front and within its azimuth extent (hidden)."""
    beyond = obj["dist_m"] > p["land_distance_factor"] * horizon_m
    return beyond and abs(obj["az_deg"] - p["land_centre_deg"]) < p["land_width_deg"] / 2


def _horizon_contrast(
    clean: np.ndarray,
    mask: np.ndarray,
    obj: np.ndarray,
    rows: np.ndarray,
    sigma: float,
    band: int = 5,
    segments: int = 8,
) -> dict:
    """Mean |sea - not-sea| in a +-band px strip around the horizon (noise-free counts, in noise sigmas),
    averaged over column segments; polarity from the signs of the segment differences."""
    h, w = mask.shape
    dist = np.arange(h, dtype=np.float32)[:, None] - rows[None, :].astype(np.float32)
    sea_band = (dist > 0) & (dist <= band) & (mask == 1)
    sky_band = (dist < 0) & (dist >= -band) & (mask == 0) & ~obj
    diffs = []
    for cols in np.array_split(np.arange(w), min(segments, w)):
        a, b = sea_band[:, cols], sky_band[:, cols]
        if a.sum() >= 3 and b.sum() >= 3:
            diffs.append(float(clean[:, cols][a].mean() - clean[:, cols][b].mean()))
    if not diffs:
        return {"horizon_contrast_sigma": None, "horizon_diff_sigma": None, "polarity": "none"}
    d = np.array(diffs) / sigma
    pos = float((d > 0).mean())
    polarity = "sea_warmer" if pos >= 0.8 else "sky_warmer" if pos <= 0.2 else "mixed"
    return {
        "horizon_contrast_sigma": float(np.abs(d).mean()),
        "horizon_diff_sigma": float(d.mean()),
        "polarity": polarity,
    }


# ----------------------------------------------------------------------------------------------------------
# data set on disk
# ----------------------------------------------------------------------------------------------------------

PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1]
META_FIRST = [
    "stem",
    "scene_seed",
    "y_left",
    "y_right",
    "horizon_angle_deg",
    "horizon_max_dev_px",
    "horizon_contrast_sigma",
    "polarity",
    "sea_fraction",
    "noise_sigma_counts",
]


def scene_seed(seed: int, index: int) -> int:
    """Seed of scene `index` of a data set: independent of n and of the number of workers."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0])


def _render_chunk(
    indices: list[int], tmp_dir: str, seed: int, cfg: dict, width: int, height: int, bit_depth: int
) -> list[dict]:
    scene_cfg = SceneConfig.from_dict(cfg)
    rows = []
    for i in indices:
        s_seed = scene_seed(seed, i)
        sc = render_scene(s_seed, width, height, scene_cfg)
        stem = f"syn_{i:06d}"
        img = sc.image if bit_depth == 16 else to_8bit(sc.image)
        for sub, arr in (("images", img), ("masks", sc.mask * np.uint8(255))):
            if not cv2.imwrite(os.path.join(tmp_dir, sub, stem + ".png"), arr, PNG_FAST):
                raise OSError(f"could not write {sub}/{stem}.png in {tmp_dir}")
        rows.append({"stem": stem, "scene_seed": s_seed, **sc.meta})
    return rows


def write_dataset(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    scene: SceneConfig | None = None,
    width: int = 320,
    height: int = 256,
    bit_depth: int = 16,
    split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Render n scenes into out_dir (images/, masks/, meta.csv, splits/, dataset.json), atomically."""
    from tqdm import tqdm

    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    if len(split_fractions) != 3 or min(split_fractions) < 0 or not math.isclose(sum(split_fractions), 1.0):
        raise ValueError(
            f"split_fractions must be 3 non-negative numbers summing to 1, got {split_fractions!r}"
        )
    render_scene(0, width, height, scene)  # validates sizes and config early, in this process
    cfg = SceneConfig() if scene is None else scene
    out = Path(out_dir)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("images", "masks", "splits"):
        (tmp / sub).mkdir(parents=True)
    workers = len(os.sched_getaffinity(0)) if workers is None else max(1, int(workers))
    chunk = max(1, min(32, n // (4 * workers) or 1))
    chunks = [list(range(a, min(n, a + chunk))) for a in range(0, n, chunk)]
    job = functools.partial(
        _render_chunk,
        tmp_dir=str(tmp),
        seed=seed,
        cfg=cfg.to_dict(),
        width=width,
        height=height,
        bit_depth=bit_depth,
    )
    rows: list[dict] = []
    try:
        with tqdm(total=n, desc=f"render {out.name}", unit="img", disable=not progress) as bar:
            if workers == 1:
                for c in chunks:
                    rows += job(c)
                    bar.update(len(c))
            else:
                # Spawned, not forked: the caller (e.g. a training process) may run threads whose locks a
                # forked child would inherit held. An executor, not a Pool: a worker that dies raises
                # BrokenProcessPool instead of leaving the parent waiting forever. One cv2 thread per
                # worker, as the workers already fill the cores.
                with ProcessPoolExecutor(
                    workers, mp_context=mp.get_context("spawn"), initializer=cv2.setNumThreads, initargs=(1,)
                ) as pool:
                    for part in pool.map(job, chunks):
                        rows += part
                        bar.update(len(part))
        rows.sort(key=lambda r: r["stem"])
        _write_meta(tmp / "meta.csv", rows)
        perm = np.random.default_rng(seed).permutation(n)
        n_train = round(split_fractions[0] * n)
        n_val = round(split_fractions[1] * n)
        parts = {
            "train": perm[:n_train],
            "val": perm[n_train : n_train + n_val],
            "test": perm[n_train + n_val :],
        }
        for name, idx in parts.items():
            (tmp / "splits" / f"{name}.txt").write_text("".join(f"syn_{i:06d}\n" for i in sorted(idx)))
        info = {
            "n": n,
            "seed": seed,
            "width": width,
            "height": height,
            "bit_depth": bit_depth,
            "split_fractions": list(split_fractions),
            "scene": cfg.to_dict(),
            "mask": "255 = sea, 0 = not sea",
            "generator": "seaSky.data.synthetic",
        }
        (tmp / "dataset.json").write_text(json.dumps(info, indent=2))
        if (out / "dataset.json").is_file():
            return out  # another process completed the same set meanwhile: keep it, drop ours
        if out.exists():
            shutil.rmtree(out)  # an incomplete set
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _write_meta(path: Path, rows: list[dict]) -> None:
    keys = META_FIRST + [k for k in rows[0] if k not in META_FIRST]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in keys})


def read_meta(out_dir: str | os.PathLike) -> list[dict]:
    """meta.csv of a rendered set as a list of dicts (strings)."""
    with open(Path(out_dir) / "meta.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------------------------------------
# preview and statistics
# ----------------------------------------------------------------------------------------------------------


def _tile(image: np.ndarray, mask: np.ndarray, meta: dict) -> np.ndarray:
    grey = to_8bit(image)
    tile = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    m = mask.astype(bool)
    edge = np.zeros_like(m)
    edge[1:] |= m[1:] != m[:-1]
    edge[:, 1:] |= m[:, 1:] != m[:, :-1]
    tile[edge] = (60, 220, 60)
    w = image.shape[1]
    yl, yr = meta.get("y_left"), meta.get("y_right")
    if yl not in (None, "") and yr not in (None, ""):
        s = 16
        cv2.line(
            tile,
            (0, round(float(yl) * s)),
            ((w - 1) * s, round(float(yr) * s)),
            (40, 40, 230),
            1,
            cv2.LINE_8,
            shift=4,
        )
    c = meta.get("horizon_contrast_sigma")
    text = f"{meta.get('polarity', '')} {float(c):.1f}s" if c not in (None, "") else "no horizon"
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_8)
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 230, 255), 1, cv2.LINE_8)
    return tile


def contact_sheet(
    out_dir_or_scenes: str | os.PathLike | Sequence[Scene],
    path: str | os.PathLike,
    cols: int = 6,
    max_tiles: int = 24,
) -> Path:
    """Grid of AGC'd scenes with the mask outline (green) and the meta horizon chord (red); returns path."""
    tiles = []
    if isinstance(out_dir_or_scenes, (str, os.PathLike)):
        root = Path(out_dir_or_scenes)
        for row in read_meta(root)[:max_tiles]:
            img = cv2.imread(str(root / "images" / f"{row['stem']}.png"), cv2.IMREAD_UNCHANGED)
            mask = cv2.imread(str(root / "masks" / f"{row['stem']}.png"), cv2.IMREAD_GRAYSCALE) > 127
            tiles.append(_tile(img, mask, row))
    else:
        tiles = [_tile(s.image, s.mask, s.meta) for s in list(out_dir_or_scenes)[:max_tiles]]
    if not tiles:
        raise ValueError("contact_sheet: no scenes to show")
    h, w = tiles[0].shape[:2]
    rows = math.ceil(len(tiles) / cols)
    sheet = np.full((rows * (h + 2), min(cols, len(tiles)) * (w + 2), 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = t
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_palette_png(sheet, path)
    return path


OVERLAY_BGR = ((60, 220, 60), (40, 40, 230), (0, 230, 255), (0, 0, 0))


def _save_palette_png(sheet: np.ndarray, path: Path) -> None:
    """Save a grey-plus-overlay BGR image as an 8-bit palette PNG (~3x smaller than RGB, colours exact)."""
    try:
        from PIL import Image  # Pillow comes with matplotlib
    except ImportError:
        cv2.imwrite(str(path), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        return
    n_grey = 256 - len(OVERLAY_BGR)
    index = (sheet[:, :, 1].astype(np.uint16) * (n_grey - 1) // 255).astype(np.uint8)
    palette = [round(v * 255 / (n_grey - 1)) for v in range(n_grey) for _ in range(3)]
    grey = (sheet[:, :, 0] == sheet[:, :, 1]) & (sheet[:, :, 1] == sheet[:, :, 2])
    for k, bgr in enumerate(OVERLAY_BGR):
        palette += [bgr[2], bgr[1], bgr[0]]
        index[~grey & (np.abs(sheet.astype(np.int16) - bgr).sum(-1) < 60)] = n_grey + k
    img = Image.fromarray(index, mode="P")
    img.putpalette(palette)
    img.save(path, optimize=True)


def _num(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) for r in rows if r.get(key) not in (None, "")], dtype=np.float64)


def compute_stats(out_dir: str | os.PathLike, plot: bool = True) -> dict:
    """Statistics of a rendered set (horizon position/angle, polarity, contrast, coasts); writes
    stats.json/.png."""
    root = Path(out_dir)
    rows = read_meta(root)
    info = json.loads((root / "dataset.json").read_text())
    q = [5, 25, 50, 75, 95]

    def quant(a: np.ndarray) -> dict:
        return {f"p{k}": float(v) for k, v in zip(q, np.percentile(a, q), strict=True)} if len(a) else {}

    with_h = [r for r in rows if r["y_left"] != ""]
    centre = np.array([(float(r["y_left"]) + float(r["y_right"])) / 2 / (info["height"] - 1) for r in with_h])
    angle = _num(with_h, "horizon_angle_deg")
    contrast = _num(with_h, "horizon_contrast_sigma")
    sea = _num(rows, "sea_fraction")
    pol = [r["polarity"] for r in with_h]
    stats = {
        "n": len(rows),
        "horizon_centre_over_height": quant(centre),
        "horizon_angle_deg": quant(angle),
        "horizon_max_dev_px": quant(_num(with_h, "horizon_max_dev_px")),
        "share_no_horizon": 1 - len(with_h) / len(rows),
        "share_all_sea": float(np.mean([r["y_left"] == "" and float(r["sea_fraction"]) > 0 for r in rows])),
        "share_all_sky": float(np.mean([r["y_left"] == "" and float(r["sea_fraction"]) == 0 for r in rows])),
        "share_polarity": {
            k: pol.count(k) / max(len(pol), 1) for k in ("sea_warmer", "sky_warmer", "mixed", "none")
        },
        "share_inverted_polarity": pol.count("sky_warmer") / max(len(pol), 1),
        "horizon_contrast_sigma": quant(contrast),
        "share_contrast_below_3sigma": float((contrast < 3).mean()) if len(contrast) else 0.0,
        "sea_fraction": quant(sea),
        "share_coast_in_view": float(np.mean([float(r.get("coast_fraction") or 0) > 0 for r in rows])),
        "share_waterline_horizon": float(np.mean([r.get("horizon_kind") == "waterline" for r in with_h]))
        if with_h
        else 0.0,
    }
    (root / "stats.json").write_text(json.dumps(stats, indent=2))
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 4, figsize=(16, 3.5))
        axes[0].hist(centre, bins=40)
        axes[0].set_xlabel("horizon centre y / H")
        axes[1].hist(angle, bins=40)
        axes[1].set_xlabel("horizon angle (deg)")
        axes[2].hist(np.log10(np.maximum(contrast, 1e-2)), bins=40)
        axes[2].axvline(np.log10(3), color="r")
        axes[2].set_xlabel("log10 horizon contrast (sigma)")
        axes[3].bar(list(stats["share_polarity"]), list(stats["share_polarity"].values()))
        axes[3].set_xlabel("polarity")
        axes[3].tick_params(axis="x", labelrotation=20, labelsize=8)
        fig.suptitle(f"{root.name}: n={len(rows)}, no horizon {stats['share_no_horizon']:.1%}")
        fig.tight_layout()
        fig.savefig(root / "stats.png", dpi=80)
        plt.close(fig)
    return stats


# ----------------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------------


def run(cfg) -> Path:
    """Do what the CLI config asks: render the set, or only a preview, and/or statistics."""
    from omegaconf import OmegaConf

    scene = SceneConfig.from_dict(OmegaConf.to_container(cfg.preset, resolve=True))
    out = Path(cfg.out_dir)
    if cfg.preview:
        n_prev = int(cfg.preview_n)
        scenes = [render_scene(scene_seed(cfg.seed, i), cfg.width, cfg.height, scene) for i in range(n_prev)]
        path = contact_sheet(scenes, cfg.preview_path or out / "preview.png", max_tiles=n_prev)
        print(f"preview: {path}")
        if not cfg.stats:
            return path
    if not cfg.stats or not (out / "dataset.json").exists():
        write_dataset(
            out,
            cfg.n,
            cfg.seed,
            scene,
            cfg.width,
            cfg.height,
            cfg.bit_depth,
            tuple(cfg.split_fractions),
            cfg.workers,
            cfg.progress,
        )
        print(f"wrote {cfg.n} scenes to {out}")
    if cfg.stats:
        print(json.dumps(compute_stats(out), indent=2))
    return out


def main() -> None:
    """Hydra entry point: python -m seaSky.data.synthetic out_dir=DIR n=2000 preset=default ..."""
    import hydra

    @hydra.main(config_path="../../../conf", config_name="synthetic", version_base="1.3")
    def _main(cfg) -> None:
        run(cfg)

    _main()


if __name__ == "__main__":
    main()
