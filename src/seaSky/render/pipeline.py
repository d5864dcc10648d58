"""Render one synthetic infrared scene: 14-bit counts, the exact sea mask and the horizon ground truth.

The stages, in order: sample the parameters, camera geometry, sky, coast, sea (with the air path),
floating objects, sensor, then the ground truth. The model and its sources: :mod:`seaSky.render`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from seaSky.errors import ConfigError
from seaSky.render import geometry, harbour, own_vessel, physics, sensor, shore, surfaces, truth
from seaSky.render.camera import camera_output
from seaSky.render.coast import calm_water, coast_mirror, haze_foot, paint_coast
from seaSky.render.floating import FloatingObject, behind_coast, draw_object, sample_objects
from seaSky.render.knobs import SceneConfig
from seaSky.render.params import CameraPipelineParams, SceneParams, Streams, sample_scene_params

MIN_SIZE, MAX_SIZE = 16, 8192


@dataclass
class Scene:
    """One rendered scene: 14-bit counts, sea mask (1 = sea), object mask, and all sampled parameters;
    :meth:`display` is the 8-bit frame the camera ships."""

    image: np.ndarray
    mask: np.ndarray
    meta: dict
    object_mask: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0), np.uint8))
    pipeline: CameraPipelineParams | None = field(repr=False, default=None)

    def display(self) -> np.ndarray:
        """The camera's 8-bit frame (its AGC, DDE, gamma, palette, compression); a plain linear AGC when
        the scene has no pipeline parameters."""
        if self.pipeline is None:
            return sensor.to_8bit(self.image)
        return camera_output(self.image, self.pipeline)


def check_size(width: int, height: int) -> None:
    """Raise ConfigError unless width and height are integers in [MIN_SIZE, MAX_SIZE]."""
    for name, value in (("width", width), ("height", height)):
        if (
            not isinstance(value, (int, np.integer))
            or isinstance(value, bool)
            or not MIN_SIZE <= value <= MAX_SIZE
        ):
            raise ConfigError(f"{name} must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {value!r}")


@dataclass(frozen=True)
class FrameChanges:
    """What one frame of a sequence (:mod:`seaSky.render.sequence`) changes in its scene; the defaults
    change nothing (a still scene).

    Args:
        time_s: the waves' clock (s): the swell travels at its deep-water phase speed.
        objects: vessels or buoys added to the scene's own (e.g. one passing by).
        coast_rng: random stream of the coast's textures, whose draws depend on which ridges are in view
            (a sequence gives them a stream of their own, the same in every frame, so that the draws after
            them do not change with the camera's pose); None: the scene's stream.
        temporal_rng: random stream of the temporal noise (a sequence draws it anew every frame; the fixed
            pattern stays); None: the scene's stream.
        lens: changes the noise-free counts (H, W float32) before the noise is added: glare or spray on
            the lens. The mask and the horizon truth stay those of the scene behind it.
    """

    time_s: float = 0.0
    objects: tuple[FloatingObject, ...] = ()
    coast_rng: np.random.Generator | None = None
    temporal_rng: np.random.Generator | None = None
    lens: Callable[[np.ndarray], np.ndarray] | None = None


def scene_config(scene: SceneConfig | None) -> SceneConfig:
    """``scene``, or the default preset for None; ConfigError for anything else."""
    cfg = SceneConfig.from_dict({}) if scene is None else scene
    if not isinstance(cfg, SceneConfig):
        raise ConfigError(f"scene must be a SceneConfig, got {type(cfg).__name__}")
    return cfg


def camera_of(params: SceneParams, width: int, height: int) -> geometry.Camera:
    """The geometry of the scene's camera in a frame of ``width`` x ``height`` px."""
    camera = params.camera
    return geometry.Camera(
        width,
        height,
        camera.hfov_deg,
        camera.camera_height_m,
        camera.roll_deg,
        camera.pitch_deg,
        camera.distortion_k1,
    )


def sample_scene(
    seed: int, width: int, height: int, cfg: SceneConfig
) -> tuple[SceneParams, np.random.Generator, Streams]:
    """Scene ``seed``'s parameters, and its random streams as they stand after drawing them (the rest of
    the scene draws from them while rendering)."""
    rng = np.random.default_rng(seed)
    streams = Streams.of(seed)
    return sample_scene_params(rng, cfg, width, height, streams), rng, streams


def render_scene(seed: int, width: int = 320, height: int = 256, scene: SceneConfig | None = None) -> Scene:
    """Render one scene: 14-bit counts (uint16), sea mask (uint8, 1 = sea) and the sampled parameters.

    ``scene`` None: the default preset.
    """
    check_size(width, height)
    cfg = scene_config(scene)
    params, rng, streams = sample_scene(seed, width, height, cfg)
    return render_params(params, width, height, cfg, rng, streams)


def _coast_water(
    params: SceneParams,
    cam: geometry.Camera,
    elev: np.ndarray,
    az: np.ndarray,
    plane: geometry.WaterPlane,
    sky: np.ndarray,
    coast_mask: np.ndarray,
    e_front: float,
    reflected,
    top: int = 0,
) -> tuple:
    """Haze over the coast's foot (in ``sky``, in place), and the calm water in front of a near coast with
    its mirror of the coast: (mirror or None, calm or None), both for the rows ``top``.. of the frame (those
    of ``plane``; ``elev`` and ``az`` are the whole frame's)."""
    c, atm = params.coast, params.atmosphere
    d_front = c.land_distance_factor * cam.horizon_distance_m
    if c.haze_depth > 0:
        beta = max(-e_front - cam.dip_rad, 1.0 / cam.focal_px)
        b_path = float(physics.planck(atm.air_temp_k if atm.fog else atm.atm_temp_k))
        dist = min(d_front, cam.horizon_distance_m)
        target = surfaces.water_brightness(params.sea, beta, reflected, dist, atm.extinction_per_m, b_path)
        haze_foot(sky, coast_mask, elev, e_front, c, target)
    if c.calm_width <= 0 or e_front >= -cam.dip_rad:
        return None, None
    calm = calm_water(c, az[top:], plane.dist, d_front)
    return coast_mirror(sky, coast_mask, cam, elev[top:], plane.dist, d_front, calm, top), calm


def row_bands(sea_geom: np.ndarray) -> tuple[int, int]:
    """(top, end): the sea (of the geometry: below the horizon) lies on the rows top.. (at least the last
    row), the sky on the rows ..end (at least the first row). Each is rendered there only."""
    height = sea_geom.shape[0]
    sea = np.flatnonzero(sea_geom.any(axis=1))
    sky = np.flatnonzero(~sea_geom.all(axis=1))
    top = min(int(sea[0]) if sea.size else height, height - 1)
    end = max(int(sky[-1]) + 1 if sky.size else 0, 1)
    return top, end


def render_params(
    params: SceneParams,
    width: int,
    height: int,
    cfg: SceneConfig,
    rng: np.random.Generator,
    streams: Streams,
    frame: FrameChanges | None = None,
) -> Scene:
    """Render a scene of sampled ``params`` (see :func:`sample_scene`; a sequence changes the camera's pose
    in them), drawing the rest from ``rng`` and ``streams``; ``frame``: a sequence frame's changes."""
    frame = FrameChanges() if frame is None else frame
    atm, sea_params, sens = params.atmosphere, params.sea, params.sensor
    cam = camera_of(params, width, height)
    elev, az = geometry.pixel_grid_angles(cam)
    sea_sky_rows = geometry.horizon_rows(cam)
    sea_geom = np.arange(height, dtype=np.float64)[:, None] > sea_sky_rows[None, :]
    floating = sample_objects(rng, cfg, params, cam.horizon_distance_m) + list(frame.objects)

    # the water is rendered on the rows that hold sea only, the sky on those that show some (below them,
    # sea, or a coast or quay painted over the sky), unless calm water may mirror a coast (its mirror looks
    # the sky up anywhere): every step there is per pixel, the noise fields are drawn for the whole frame,
    # so the pixels hold the same numbers as when rendering every row
    top, sky_end = row_bands(sea_geom)
    if params.coast.land and params.coast.calm_width > 0:
        sky_end = height
    band = slice(top, None)
    sky, reflected = surfaces.sky_radiance(rng, atm, elev[:sky_end], az[:sky_end], cam.focal_px)
    if sky_end < height:  # rows no pixel shows, but the coast and quays are painted into
        sky = np.concatenate([sky, np.zeros((height - sky_end, width), sky.dtype)])
    b_atm = float(physics.planck(atm.atm_temp_k))
    obj = np.zeros((height, width), bool)
    # air path between camera and water: clear-air extinction plus fog, emitting like the lower atmosphere
    k_ext = atm.extinction_per_m
    b_path = np.float32(float(physics.planck(atm.air_temp_k)) if atm.fog else b_atm)
    plane = geometry.water_plane(cam, elev[band], az[band])
    front_waterline, mirror, calm = None, None, None
    if params.coast.land:
        coast_rng = rng if frame.coast_rng is None else frame.coast_rng
        front_waterline = paint_coast(coast_rng, params.coast, atm, cam, elev, az, sky, obj, b_atm)
        if front_waterline is not None:
            floating = [o for o in floating if not behind_coast(o, params.coast, cam.horizon_distance_m)]
            mirror, calm = _coast_water(
                params, cam, elev, az, plane, sky, obj, front_waterline, reflected, top
            )
    coast = obj.copy()
    structures = []
    if params.harbour.harbour:
        harbour_scene = harbour.HarbourScene.sample(streams.harbour, cfg, params, b_path)
        structures = harbour_scene.draw(cam, elev, az, sky, obj)
        floating = harbour_scene.with_moored_boats(streams.harbour, params, floating)
        mirror = harbour_scene.mirror(az[band], plane.dist)
    surf = beach = None
    if params.shore.shore:
        surf, beach_band = shore.surf_foam(streams.shore, params.shore, plane.gx, plane.gz, plane.fz, top)
        beach = np.zeros((height, width), bool)
        beach[band] = beach_band & sea_geom[band]
        floating = [o for o in floating if not shore.on_beach(o, params.shore)]
    sea = surfaces.sea_radiance(
        rng, sea_params, cam, elev[band], az[band], reflected, floating, plane, surf, params.glare, mirror,
        frame.time_s, streams.texture, calm, params.coast.calm_wind, top,
    )  # fmt: skip
    if beach is not None:
        sand = shore.beach_radiance(
            streams.shore, params.shore, atm.air_temp_k, reflected, (height, width), top
        )
        sea = np.where(beach[band], sand, sea)
    tau = np.exp(-plane.dist * np.float32(k_ext))
    sea = tau * sea + (1 - tau) * b_path
    radiance = sky.astype(np.float32)  # a copy
    radiance[band] = np.where(sea_geom[band] & ~obj[band], sea, sky[band])
    if beach is not None:
        obj |= beach
    for o in floating:
        draw_object(
            elev, az, radiance, obj, cam.height_m, cam.dip_rad, cam.horizon_distance_m, o, b_atm, 1.0 / k_ext
        )
    own_part = None
    if params.own_vessel.own_vessel:
        own_part = own_vessel.paint(streams.own_vessel, params.own_vessel, atm.air_temp_k, radiance, obj)
    mask = (sea_geom & ~obj).astype(np.uint8)

    # sensor: optics, fog scattering blur, vignetting, gain, noise
    if atm.fog:
        far = np.ones((height, width), np.float32)  # above the sea's rows, as (1 - tau) * 0 + 1
        far[band] = (1 - tau) * sea_geom[band] + (~sea_geom[band]) * np.float32(1.0)
        radiance = radiance + far * (sensor.blur(radiance, 2.0 + 4.0 / atm.fog_visibility_km) - radiance)
    radiance = sensor.blur(radiance, math.hypot(sens.optics_blur_px, sens.defocus_px))
    if sens.motion_blur_px > 0:
        radiance = sensor.motion_blur(radiance, sens.motion_blur_px, sens.motion_blur_angle_deg)
    b_air = float(physics.planck(atm.air_temp_k))
    gain = sens.counts_per_k / physics.dplanck_dt(atm.air_temp_k)
    vig = sensor.vignetting(height, width, sens.vignetting)
    clean = np.float32(sens.offset_counts) + np.float32(gain) * (radiance * vig - np.float32(b_air))
    if frame.lens is not None:
        clean = frame.lens(clean)
    noisy = sensor.add_noise(
        rng, clean, sens.noise_sigma_counts, sens.column_fpn, sens.row_fpn, frame.temporal_rng
    )
    image = sensor.quantize(rng, noisy, sens.dead_pixel_rate)

    meta = {
        **params.to_meta(),
        "n_objects": len(floating),
        "horizon_distance_km": cam.horizon_distance_m / 1000,
        "dip_deg": math.degrees(cam.dip_rad),
    }
    # ground truth: the upper boundary of the sea (the sea-sky horizon, or the waterline of a near coast
    # or quay that hides it)
    waterlines = []
    if front_waterline is not None and front_waterline < -cam.dip_rad:  # a near coast
        waterlines.append((geometry.horizon_rows(cam, elevation_rad=front_waterline), coast))
    waterlines += harbour.quay_waterlines(structures, cam)
    rows, kind = truth.horizon_truth(sea_sky_rows, waterlines)
    meta.update(kind)
    # no sea in view (e.g. hidden by a quay whose waterline is below the frame): no horizon in view
    meta.update(geometry.horizon_chord(rows, height) if mask.any() else geometry.NO_CHORD)
    meta.update(truth.horizon_contrast(clean, mask, obj, rows, sens.noise_sigma_counts))
    meta["sea_fraction"] = float(mask.mean())
    meta["coast_fraction"] = float(coast.mean())
    meta["beach_fraction"] = float(beach.mean()) if beach is not None else 0.0
    meta["harbour_fraction"] = float(sum(pixels.mean() for _, pixels in structures))
    meta["own_vessel_fraction"] = float(own_part.mean()) if own_part is not None else 0.0
    meta["saturated_fraction"] = float((image >= sensor.MAX_COUNTS).mean())
    return Scene(
        image=image, mask=mask, meta=meta, object_mask=obj.astype(np.uint8), pipeline=params.pipeline
    )
