"""Radiance of the open scene: the sky (clear-sky path emission, clouds in perspective, haze/fog) and the
sea surface (Fresnel emissivity with wind roughening, reflected sky, swell and wind waves on the water
plane, foam, wakes, sun glint). See the docstring of seaSky.render for the model and sources.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from seaSky.render import physics
from seaSky.render.floating import FloatingObject
from seaSky.render.geometry import Camera, WaterPlane, degrees
from seaSky.render.noise import frame_noise, periodic_noise, quantile
from seaSky.render.params import AtmosphereParams, GlareParams, SeaParams

GRAVITY = 9.81  # m/s^2


def _remap(tex: np.ndarray, u: np.ndarray, v: np.ndarray, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Sample a periodic texture at float texel coordinates (u, v) with wrap-around."""
    n = np.float32(tex.shape[0])
    u = u - np.floor(u / n) * n  # fold first: cv2.remap keeps coordinates in 16-bit fixed point
    v = v - np.floor(v / n) * n
    return cv2.remap(
        tex,
        u.astype(np.float32, copy=False),
        v.astype(np.float32, copy=False),
        interp,
        borderMode=cv2.BORDER_WRAP,
    )


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def sky_radiance(
    rng: np.random.Generator, atm: AtmosphereParams, elev: np.ndarray, az: np.ndarray, focal: float
) -> tuple:
    """Sky radiance per pixel (clear sky + clouds + haze/fog); also the clear-sky function for reflections."""
    b_atm = float(physics.planck(atm.atm_temp_k))
    eps_z = atm.sky_emissivity_zenith

    def clear(zenith_deg: np.ndarray) -> np.ndarray:
        return physics.sky_emissivity(zenith_deg, eps_z) * np.float32(b_atm)

    e = np.maximum(elev, np.float32(1e-4))
    zen = np.float32(90.0) - degrees(e)
    sky = clear(zen)
    ext_m = atm.extinction_km * 1000.0
    b_cloud = float(physics.planck(atm.cloud_temp_k))
    if atm.clouds:
        tex = periodic_noise(rng, 256, slope=2.8, k_min=1.0)
        thr = quantile(tex, 1 - atm.cloud_cover)
        texel = rng.uniform(40.0, 120.0) * (atm.cloud_base_m / 1000.0) ** 0.5
        tan_e = np.tan(e)
        r = np.minimum(np.float32(atm.cloud_base_m) / tan_e, np.float32(200e3))
        cloud_tex = _remap(tex, r * np.sin(az) / texel, r * np.cos(az) / texel + 37.0, cv2.INTER_CUBIC)
        cov = _smoothstep((cloud_tex - thr) / np.float32(atm.cloud_softness))
        footprint = r * r / (atm.cloud_base_m * focal) / texel
        att = np.exp(-0.5 * (footprint / 3.0) ** 2)
        cov = att * cov + (1 - att) * np.float32(atm.cloud_cover)
        tau_c = np.exp(-r / np.float32(ext_m))
        # the cloud replaces the sky above it: L = L_clear + tau_below * eps_c * (B_cloud - L_above), with
        # L_above ~ (1 - q) L_clear, q = share of the water-vapour column (scale height 2 km) below the cloud
        q = 1.0 - math.exp(-atm.cloud_base_m / 2000.0)
        delta = np.float32(b_cloud) - np.float32(1.0 - q) * sky
        sky = sky + cov * tau_c * np.float32(atm.cloud_emissivity) * delta
    # haze / fog: a near-surface layer at air temperature
    b_air = float(physics.planck(atm.air_temp_k))
    path = np.minimum(np.float32(atm.haze_layer_m) / np.sin(e), np.float32(300e3))
    if atm.fog:
        tau = np.exp(-path * np.float32(3.0 / (atm.fog_visibility_km * 1000.0)))
        sky = tau * sky + (1 - tau) * np.float32(b_air)
    mean_cloud = atm.cloud_cover * 0.5 * atm.cloud_emissivity

    def reflected(zenith_deg: np.ndarray) -> np.ndarray:
        c = clear(zenith_deg)
        return c + np.float32(mean_cloud) * (np.float32(b_cloud) - c) * (np.float32(90.0) - zenith_deg) / 90.0

    return sky, reflected


def sea_radiance(
    rng: np.random.Generator,
    sea: SeaParams,
    cam: Camera,
    elev: np.ndarray,
    az: np.ndarray,
    reflected,
    floating: list[FloatingObject],
    plane: WaterPlane,
    surf: np.ndarray | None = None,
    glare: GlareParams | None = None,
    mirror=None,
    time_s: float = 0.0,
    texture_rng: np.random.Generator | None = None,
    calm: np.ndarray | None = None,
    calm_wind: float = 1.0,
    top: int = 0,
) -> np.ndarray:
    """Sea radiance per pixel (meaningful below the horizon) on the water ``plane``; ``surf``: the foam
    cover of a surf zone (:mod:`seaSky.render.shore`), or None; ``glare``: a broad bright source mirrored
    by the water (drawn when ``glare.glare``); ``mirror``: a function of the mirrored rays' elevation
    (deg) giving (radiance, hit) of structures the water mirrors instead of the sky, or None; ``time_s``:
    the swell's clock (each component travels at its deep-water phase speed, omega = sqrt(g k));
    ``texture_rng``: the stream of the perspective streaks (``sea.streaks``); ``calm``: 0..1 per pixel, water
    calmed in the lee of a coast (smaller slopes, the emissivity of ``calm_wind`` x the wind), or
    None; ``top``: the per-pixel arrays hold the rows ``top``.. of the frame (its noise fields are drawn
    for the whole frame, so the rows hold the same numbers as when rendering all of it)."""
    dip, d_h = cam.dip_rad, cam.horizon_distance_m
    beta = np.maximum(-elev - np.float32(dip), np.float32(0.0))
    gx, gz, fz, fx = plane.gx, plane.gz, plane.fz, plane.fx
    # resolved slopes: swell components (antialiased by the pixel footprint) + wind-wave texture
    s_view = np.zeros_like(elev)
    s_cross = np.zeros_like(elev)
    for j in range(3):
        lam = sea.swell_wavelength_m * (1.0, 0.55, 0.3)[j] * rng.uniform(0.8, 1.2)
        k = 2 * math.pi / lam
        phi = math.radians(sea.swell_dir_deg + rng.normal(0, 25))
        amp = sea.swell_slope * (0.8, 0.5, 0.35)[j]
        kx, kz = k * math.sin(phi), k * math.cos(phi)
        att = np.exp(-0.5 * ((kx * fx) ** 2 + (kz * fz) ** 2))
        phase = rng.uniform(0, 2 * math.pi) - math.sqrt(GRAVITY * k) * time_s
        wave = np.cos(gx * np.float32(kx) + gz * np.float32(kz) + np.float32(phase)) * att
        s_view += np.float32(amp * math.cos(phi)) * wave
        s_cross += np.float32(amp * math.sin(phi)) * wave
    cm_sigma = math.sqrt(0.5 * (0.003 + 0.00512 * sea.wind_ms))
    texel = 0.15 + 0.05 * sea.wind_ms
    tex = periodic_noise(rng, 128, slope=2.0, k_min=4.0)
    att_t = np.exp(-0.5 * (fz / (3 * texel)) ** 2)
    s_view += np.float32(0.6 * cm_sigma) * _remap(tex, gx / (2.5 * texel), gz / texel) * att_t
    # unresolved roughness near the horizon: streaks parallel to it
    if sea.streaks and texture_rng is not None:
        streak = perspective_streaks(texture_rng, beta * np.float32(cam.focal_px), az, cam.focal_px, sea)
        s_view += np.float32(sea.streak_slope * cm_sigma) * streak * (1 - att_t)
    else:
        streak = frame_noise(
            rng, elev.shape, top, base_cells=2, octaves=6, persistence=0.7, aspect=6.0, work_scale=2
        )
        s_view += np.float32(0.25 * cm_sigma) * streak * (1 - att_t)
    if calm is not None:
        s_view *= 1 - np.float32(0.95) * calm
        s_cross *= 1 - np.float32(0.95) * calm
    tilt = degrees(np.arctan(s_view))
    beta_deg = degrees(beta)
    theta_inc = np.float32(90.0) - beta_deg
    eps = physics.sea_emissivity(np.clip(theta_inc - tilt, 0, 90), sea.wind_ms)
    if calm is not None:
        still = physics.sea_emissivity(np.clip(theta_inc - tilt, 0, 90), calm_wind * sea.wind_ms)
        eps = eps + calm * (still - eps)
    if sea.slick_cover > 0:
        # slicks: surface films damp the short wind waves in patches stretched across the line of sight;
        # the calmer water there has a lower grazing-angle emissivity and mirrors the sky better (bands in
        # perspective)
        stex = periodic_noise(rng, 128, slope=2.6, k_min=1.0)
        thr = quantile(stex, 1 - sea.slick_cover)
        scale = rng.uniform(30.0, 150.0)  # metres per texel
        slick = _smoothstep((_remap(stex, gx / (4 * scale), gz / scale) - thr) / 0.5)
        att_s = np.exp(-0.5 * (fz / (3 * scale)) ** 2)
        slick = att_s * slick + (1 - att_s) * np.float32(sea.slick_cover)
        calm = physics.sea_emissivity(np.clip(theta_inc - 0.5 * tilt, 0, 90), 0.25 * sea.wind_ms)
        eps = eps + slick * (calm - eps)
    refl_elev = np.clip(beta_deg + 2 * tilt, 0.0, 90.0)
    b_sea = float(physics.planck(sea.sea_temp_k))
    skin = frame_noise(rng, elev.shape, top, base_cells=3, octaves=4, aspect=4.0, work_scale=4)
    b_skin = np.float32(b_sea) + np.float32(physics.dplanck_dt(sea.sea_temp_k) * sea.skin_temp_var_k) * skin
    if sea.side_k > 0:  # a cooler current or upwelling at one side of the view
        side = np.tanh(az * np.float32(sea.side_sign / math.radians(0.3 * cam.hfov_deg)))
        b_skin = b_skin - np.float32(0.5 * physics.dplanck_dt(sea.sea_temp_k) * sea.side_k) * (side + 1)
    mirrored = reflected(np.float32(90.0) - refl_elev)
    if mirror is not None:
        structure, hit = mirror(refl_elev)
        mirrored = np.where(hit, structure, mirrored)
    radiance = eps * b_skin + (1 - eps) * mirrored
    # foam: whitecaps / breaking bands (elongated along the crests) + vessel wakes
    foam = np.zeros_like(elev)
    if sea.foam:
        ftex = periodic_noise(rng, 128, slope=2.2, k_min=2.0)
        thr = quantile(ftex, 1 - sea.foam_cover)
        fs = rng.uniform(0.3, 1.2)
        raw = _smoothstep((_remap(ftex, gx / (5 * fs), gz / fs) - thr) / 0.6)
        att_f = np.exp(-0.5 * (fz / (2 * fs)) ** 2)
        foam = att_f * raw + (1 - att_f) * np.float32(sea.foam_cover * 0.6)
    for obj in floating:
        if obj.kind == "vessel" and obj.moving and obj.dist_m < 0.8 * d_h:
            x0 = obj.dist_m * math.sin(math.radians(obj.az_deg))
            z0 = obj.dist_m * math.cos(math.radians(obj.az_deg))
            hd = math.radians(obj.heading_deg)
            along = -(
                (gx - np.float32(x0)) * np.float32(math.sin(hd))
                + (gz - np.float32(z0)) * np.float32(math.cos(hd))
            )
            cross = (gx - np.float32(x0)) * np.float32(math.cos(hd)) - (gz - np.float32(z0)) * np.float32(
                math.sin(hd)
            )
            length = obj.length_m
            wake = (along > 0) & (np.abs(cross) < 0.25 * length + 0.12 * along) & (along < 12 * length)
            decay = np.exp(-np.clip(along, 0, None) / np.float32(4 * length))
            foam = np.maximum(foam, np.where(wake, decay * np.float32(0.9), np.float32(0.0)))
    if surf is not None:
        foam = np.maximum(foam, surf)
    foam_l = np.float32(0.99 * physics.planck(sea.sea_temp_k + 0.3))
    radiance = radiance + foam * (foam_l - radiance)
    # glint of the sun (and bright sky) on the facets: a glitter path of patches below the sun
    if sea.glint or (glare is not None and glare.glare):
        refl_az = degrees(az) + 2 * degrees(np.arctan(s_cross))
    if sea.glint:
        sig = max(math.degrees(cm_sigma) * 0.7, 1.0)
        gain = float(physics.planck(sea.sea_temp_k + sea.glint_strength_k) - b_sea)
        radiance = radiance + _mirrored_source(
            refl_elev, refl_az, sea.sun_elevation_deg, sea.sun_azimuth_deg, gain, np.float32(2 * sig * sig)
        )
    if glare is not None and glare.glare:
        # the facets that mirror the source: a wide patch of the water, broken up by the wave slopes
        gain = float(physics.planck(sea.sea_temp_k + glare.glare_strength_k) - b_sea)
        width = np.float32(glare.glare_width_deg)
        radiance = radiance + _mirrored_source(
            refl_elev, refl_az, glare.glare_elevation_deg, glare.glare_azimuth_deg, gain,
            np.float32(2.0) * width * width,
        )  # fmt: skip
    return radiance


def perspective_streaks(
    rng: np.random.Generator, below_px: np.ndarray, az: np.ndarray, focal: float, sea: SeaParams
) -> np.ndarray:
    """Unit-std slopes of the unresolved wind ripples: horizontal streaks about 1.5 px tall at the horizon
    (``below_px``: px below it), growing in perspective below it (height h0 (1 + b / b1), b1 = 0.15 focal),
    ``sea.streak_aspect`` times longer than tall; two octaves."""
    tex = periodic_noise(rng, 128, slope=1.0, k_min=3.0)
    b1 = np.float32(0.15 * focal)
    grow = np.float32(1.0) + below_px / b1
    x_px = az * np.float32(focal)
    out = np.zeros_like(below_px)
    for h0, weight, shift in ((1.5, 1.0, 0.0), (4.5, 0.6, 61.0)):
        rows = np.log1p(below_px / b1) * (b1 / np.float32(h0))  # texels down from the horizon
        along = x_px / (np.float32(sea.streak_aspect * h0) * grow)
        out += np.float32(weight) * _remap(tex, along + np.float32(shift), rows + np.float32(shift))
    return out / np.float32(math.hypot(1.0, 0.6))


def _mirrored_source(
    refl_elev: np.ndarray,
    refl_az: np.ndarray,
    elevation_deg: float,
    azimuth_deg: float,
    gain: float,
    denominator: np.float32,
) -> np.ndarray:
    """Radiance the wave facets add by mirroring a bright source (the sun's glint, glare): a Gaussian
    lobe around the source's direction in the mirrored rays' (elevation, azimuth), ``denominator`` =
    2 x its angular width squared (deg^2)."""
    d2 = (refl_elev - elevation_deg) ** 2 + (
        (refl_az - azimuth_deg) * math.cos(math.radians(elevation_deg))
    ) ** 2
    return np.float32(gain) * np.exp(-d2 / denominator)


def water_brightness(
    sea: SeaParams, beta_rad: float, reflected, dist_m: float, k_ext: float, b_path: float
) -> float:
    """Mean radiance of the open water seen at depression ``beta_rad`` below the horizon at ``dist_m``
    (no texture): emission at the wind-roughened emissivity, the mirrored sky, the air path."""
    beta_deg = np.float32(math.degrees(beta_rad))
    eps = float(physics.sea_emissivity(np.array([90.0 - beta_deg], np.float32), sea.wind_ms)[0])
    sky = float(reflected(np.array([90.0 - beta_deg], np.float32))[0])
    water = eps * float(physics.planck(sea.sea_temp_k)) + (1.0 - eps) * sky
    tau = math.exp(-dist_m * k_ext)
    return tau * water + (1.0 - tau) * b_path
