"""One scene's sampled parameters, typed and grouped by the stage of the pipeline that uses them.

:func:`sample_scene_params` draws them from a :class:`~seaSky.render.knobs.SceneConfig`. The order of
the random draws is part of every data set: changing it changes every rendered scene. The field names
are the column names of a data set's ``meta.csv``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from seaSky.render import geometry
from seaSky.render.knobs import Range, SceneConfig


@dataclass(frozen=True)
class CameraParams:
    """Where the camera is and how it looks at the sea (geometry stage)."""

    hfov_deg: float
    camera_height_m: float
    roll_deg: float
    horizon_row_target: float  # horizon row in the centre column / (H - 1) that the pitch was set for
    pitch_deg: float
    distortion_k1: float
    water_only: bool = False  # pitched down: only water in view, no horizon (see apply_water_only)


@dataclass(frozen=True)
class AtmosphereParams:
    """Air, sky, clouds and the air path (sky stage, and the haze over water, coast and objects)."""

    air_temp_k: float
    humid_sky: bool
    atm_temp_k: float  # effective temperature of the lower atmosphere that the sky radiates at
    sky_emissivity_zenith: float
    extinction_km: float
    haze_layer_m: float
    fog: bool
    fog_visibility_km: float  # 0 without fog
    clouds: bool
    cloud_cover: float  # 0 without clouds
    cloud_base_m: float
    cloud_temp_k: float
    cloud_emissivity: float
    cloud_softness: float = 0.8  # width of the clouds' edges in texture std (soft clouds: wider)
    faint: bool = False  # a humid marine layer at the sea's temperature (see apply_faint_horizon)

    @property
    def extinction_per_m(self) -> float:
        """LWIR extinction coefficient (1/m) of the air near the surface: clear air plus fog."""
        fog = 3.0 / (self.fog_visibility_km * 1000.0) if self.fog else 0.0  # LWIR visibility V: 3 / V
        return 1.0 / (self.extinction_km * 1000.0) + fog


@dataclass(frozen=True)
class SeaParams:
    """The water surface: temperature, waves, films, foam and the sun's glint (sea stage)."""

    sea_temp_k: float
    wind_ms: float
    swell_wavelength_m: float
    swell_slope: float
    swell_dir_deg: float
    skin_temp_var_k: float
    slick_cover: float  # 0: no slicks
    foam: bool
    foam_cover: float  # 0 without foam
    glint: bool
    glint_strength_k: float  # 0 without glint
    sun_elevation_deg: float
    sun_azimuth_deg: float
    streaks: bool = False  # wind ripples as fine horizontal streaks in perspective
    streak_slope: float = 0.0  # their rms slope / the Cox-Munk slope
    streak_aspect: float = 10.0  # length / height of a streak
    side_k: float = 0.0  # brightness-temperature fall of the water towards one side (water-only views)
    side_sign: int = 1  # +1: the right side darker, -1: the left


@dataclass(frozen=True)
class CoastParams:
    """A coast of one to three ridges (coast stage); drawn only when ``land`` is true."""

    land: bool
    land_width_deg: float
    land_centre_deg: float
    land_height_deg: float
    land_distance_factor: float  # front ridge distance / horizon distance (< 1: a near coast)
    land_temp_k: float
    land_texture_k: float
    land_layers: int
    land_sunlit_k: float
    land_strip_deg: float
    land_strip_k: float
    calm_width: float = 0.0  # width of the calm water in front of a near coast / its distance; 0: none
    calm_wind: float = 1.0  # wind over the calm water / the scene's wind
    haze_depth: float = 0.0  # share of the land's contrast to the water the haze takes at the foot; 0: none
    haze_height: float = 0.5  # height over which the haze thins out / the land's height


@dataclass(frozen=True)
class FloatingParams:
    """How many vessels and buoys float on the water (their shapes are drawn later, per object)."""

    n_vessels: int
    n_buoys: int


@dataclass(frozen=True)
class ShoreParams:
    """A shore view (see :mod:`seaSky.render.shore`); drawn from a random stream of its own."""

    shore: bool
    shore_camera_height_m: float
    waterline_m: float
    runup_m: float
    surf_width_m: float
    surf_bands: int
    surf_foam: float
    shore_angle_deg: float
    beach_temp_offset_k: float  # wet sand minus air temperature
    beach_texture_k: float


@dataclass(frozen=True)
class HarbourParams:
    """A harbour seen from a boat (see :mod:`seaSky.render.harbour`); its own random stream (which also
    draws the structures and moored boats while rendering)."""

    harbour: bool
    harbour_camera_height_m: float
    harbour_wind_ms: float
    harbour_structures: int
    harbour_moored_boats: int


@dataclass(frozen=True)
class GlareParams:
    """A bright source (low sun, bright sky) mirrored by a large area of water; its own random stream."""

    glare: bool
    glare_strength_k: float
    glare_width_deg: float
    glare_elevation_deg: float
    glare_azimuth_deg: float


@dataclass(frozen=True)
class OwnVesselParams:
    """Parts of the camera's own vessel in the foreground, in image fractions; its own random stream."""

    own_vessel: bool
    own_bow: bool
    own_railing: bool
    own_vessel_temp_offset_k: float
    bow_centre: float  # x of the stem / W
    bow_width: float  # width at the bottom edge / W
    bow_height: float  # height above the bottom edge / H
    railing_row: float  # the top rail's height above the bottom edge / H
    railing_tilt: float  # the rail's rise across the frame / H
    railing_posts: int
    own_deck: bool = False
    deck_side: int = -1  # -1: from the lower left corner, +1: the lower right
    deck_bottom: float = 0.5  # where the deck's edge meets the bottom edge, from the corner / W
    deck_side_height: float = 0.3  # where it meets the side edge, above the bottom / H
    deck_sheer: float = 0.0  # bend of the edge (the gunwale's sheer) / H
    own_cabin: bool = False
    cabin_side: int = 1  # -1: from the left edge, +1: from the right
    cabin_width: float = 0.2  # / W at the bottom edge
    cabin_top: float = 0.2  # row of the cabin's top / H (below 0: above the frame)
    cabin_slant: float = 0.0  # the edge's run across its height / W
    own_person: bool = False
    person_x: float = 0.5  # / W
    person_height: float = 0.5  # from the bottom edge to the top of the head / H
    person_temp_offset_k: float = 5.0  # clothes minus air temperature


@dataclass(frozen=True)
class LightParams:
    """Time of day (its own random stream): dusk and night have no sun; surfaces cool by ``cooling`` of
    the way from their day temperatures to their night ones (see :func:`after_sunset`)."""

    time_of_day: str  # "day", "dusk" or "night"
    cooling: float  # 0 by day, 1 at night
    night_sea_warming_k: float
    night_surface_offset_k: float


@dataclass(frozen=True)
class SensorParams:
    """The thermal camera core: gain, noise, fixed pattern, optics (sensor stage)."""

    netd_mk: float
    counts_per_k: float
    offset_counts: float
    noise_sigma_counts: float
    column_fpn: float
    row_fpn: float
    vignetting: float
    dead_pixel_rate: float
    optics_blur_px: float
    defocus_px: float  # 0: in focus
    motion_blur_px: float  # 0: no motion blur
    motion_blur_angle_deg: float


@dataclass(frozen=True)
class CameraPipelineParams:
    """How the camera maps its 14-bit counts to the 8-bit frames it ships (see :mod:`seaSky.render.camera`);
    drawn from a random stream of its own, so it never changes the 14-bit image."""

    agc: str  # "linear" or "plateau" (plateau / histogram equalisation)
    agc_plateau: float  # histogram clip in units of the mean bin count (plateau AGC)
    agc_linear_share: float  # linear stretch mixed into the equalised mapping (plateau AGC)
    agc_tail_pct: float  # tail rejection at each end (%)
    dde_gain: float  # detail enhancement gain; 0: no DDE
    dde_sigma_px: float  # spatial scale of DDE's base filter
    gamma: float
    black_hot: bool
    jpeg_quality: int  # 0: no compression
    sensor_height: int  # the sensor's native size, where the pipeline runs; 0: the render size
    sensor_width: int
    output_low: float = 0.0  # the grey levels the AGC maps to (apply_agc_span); 0-255: the full range
    output_high: float = 255.0


@dataclass(frozen=True)
class SceneParams:
    """All sampled parameters of one scene, by stage."""

    camera: CameraParams
    atmosphere: AtmosphereParams
    sea: SeaParams
    coast: CoastParams
    floating: FloatingParams
    shore: ShoreParams
    harbour: HarbourParams
    glare: GlareParams
    own_vessel: OwnVesselParams
    light: LightParams
    sensor: SensorParams
    pipeline: CameraPipelineParams

    def to_meta(self) -> dict:
        """Flat dict of every parameter by its field name (the ``meta.csv`` columns), stage by stage."""
        meta: dict = {}
        for group in dataclasses.fields(self):
            meta.update(_fields(getattr(self, group.name)))
        return meta


def _fields(group) -> dict:
    """``dataclasses.asdict(group)``, without its deep copies where every value is a plain scalar."""
    values = {f.name: getattr(group, f.name) for f in dataclasses.fields(group)}
    if all(v is None or isinstance(v, (bool, int, float, str)) for v in values.values()):
        return values
    return dataclasses.asdict(group)


@dataclass(frozen=True)
class Streams:
    """The random streams of the elements added after the first renderer, each seeded by (scene seed, its
    number) apart from the scene's own stream: turning one element on or off leaves every other draw,
    and so the rest of the scene, as it was."""

    pipeline: np.random.Generator
    shore: np.random.Generator
    glare: np.random.Generator
    own_vessel: np.random.Generator
    harbour: np.random.Generator
    light: np.random.Generator
    coast_water: np.random.Generator
    faint: np.random.Generator
    texture: np.random.Generator
    water_only: np.random.Generator
    own_vessel_extras: np.random.Generator
    agc_span: np.random.Generator  # new streams go last: the numbers of the others stay as they were

    @classmethod
    def of(cls, seed: int) -> Streams:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: np.random.default_rng([seed, k + 1]) for k, name in enumerate(names)})


def uniform(rng: np.random.Generator, r: Range) -> float:
    """Uniform in [low, high]; low when the range is empty (no draw then)."""
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def log_uniform(rng: np.random.Generator, r: Range) -> float:
    """Log-uniform in [low, high] (both > 0); low when the range is empty (no draw then)."""
    return float(math.exp(rng.uniform(math.log(r[0]), math.log(r[1])))) if r[1] > r[0] else float(r[0])


def _cloud_temperature(rng: np.random.Generator, cfg: SceneConfig, air_temp_k: float, base_m: float) -> float:
    """Low clouds are warm (close to air temperature), high ones cold: the offset follows the base's
    place in the log range of cloud bases, with some scatter."""
    low, high = cfg.cloud_base_m
    frac = (math.log(base_m) - math.log(low)) / max(math.log(high / low), 1e-6)
    lo, hi = cfg.cloud_temp_offset_k
    return air_temp_k + hi - (hi - lo) * float(np.clip(frac + rng.normal(0, 0.15), 0, 1))


def sample_pipeline_params(rng: np.random.Generator, cfg: SceneConfig) -> CameraPipelineParams:
    """Draw the camera's video pipeline (from its own random stream)."""
    plateau = rng.random() < cfg.agc_plateau_prob
    return CameraPipelineParams(
        agc="plateau" if plateau else "linear",
        agc_plateau=log_uniform(rng, cfg.agc_plateau),
        agc_linear_share=uniform(rng, cfg.agc_linear_share),
        agc_tail_pct=uniform(rng, cfg.agc_tail_pct),
        dde_gain=uniform(rng, cfg.dde_gain) if rng.random() < cfg.dde_prob else 0.0,
        dde_sigma_px=uniform(rng, cfg.dde_sigma_px),
        gamma=log_uniform(rng, cfg.display_gamma),
        black_hot=bool(rng.random() < cfg.black_hot_prob),
        jpeg_quality=round(uniform(rng, cfg.jpeg_quality)) if rng.random() < cfg.jpeg_prob else 0,
        **_sensor_size(rng, cfg),
    )


def _sensor_size(rng: np.random.Generator, cfg: SceneConfig) -> dict:
    """One of the sensor formats (no draw when there are none: the render size)."""
    if not cfg.sensor_sizes:
        return {"sensor_height": 0, "sensor_width": 0}
    height, width = cfg.sensor_sizes[int(rng.integers(len(cfg.sensor_sizes)))]
    return {"sensor_height": height, "sensor_width": width}


def sample_light_params(rng: np.random.Generator, cfg: SceneConfig) -> LightParams:
    """Draw the time of day (from its own random stream)."""
    draw = rng.random()
    time_of_day = (
        "dusk" if draw < cfg.dusk_prob else "night" if draw < cfg.dusk_prob + cfg.night_prob else "day"
    )
    cooling = uniform(rng, cfg.dusk_cooling)
    return LightParams(
        time_of_day=time_of_day,
        cooling={"day": 0.0, "dusk": cooling, "night": 1.0}[time_of_day],
        night_sea_warming_k=uniform(rng, cfg.night_sea_warming_k),
        night_surface_offset_k=uniform(rng, cfg.night_surface_offset_k),
    )


def after_sunset(params: SceneParams) -> SceneParams:
    """The scene at dusk or night: no sun (no glint, glare or sun-warmed land); land, beach and own-vessel
    surfaces move ``cooling`` of the way from their day offsets to the night offset below the air; the
    sea, slow to cool, gains ``cooling`` x the night warming over the air. Day scenes are returned as
    they are."""
    light = params.light
    if light.time_of_day == "day":
        return params
    c, air = light.cooling, params.atmosphere.air_temp_k

    def cooled(day_offset_k: float) -> float:
        return (1.0 - c) * day_offset_k + c * light.night_surface_offset_k

    coast = params.coast
    return dataclasses.replace(
        params,
        sea=dataclasses.replace(
            params.sea,
            sea_temp_k=params.sea.sea_temp_k + c * light.night_sea_warming_k,
            glint=False,
            glint_strength_k=0.0,
        ),
        coast=dataclasses.replace(
            coast, land_temp_k=air + cooled(coast.land_temp_k - air), land_sunlit_k=0.0
        ),
        shore=dataclasses.replace(params.shore, beach_temp_offset_k=cooled(params.shore.beach_temp_offset_k)),
        glare=dataclasses.replace(params.glare, glare=False),
        own_vessel=dataclasses.replace(
            params.own_vessel, own_vessel_temp_offset_k=cooled(params.own_vessel.own_vessel_temp_offset_k)
        ),
    )


def sample_shore_params(rng: np.random.Generator, cfg: SceneConfig) -> ShoreParams:
    """Draw a shore view (from its own random stream); ``shore`` false in 1 - shore_prob of the scenes."""
    return ShoreParams(
        shore=bool(rng.random() < cfg.shore_prob),
        shore_camera_height_m=log_uniform(rng, cfg.shore_camera_height_m),
        waterline_m=log_uniform(rng, cfg.shore_waterline_m),
        runup_m=uniform(rng, cfg.shore_runup_m),
        surf_width_m=log_uniform(rng, cfg.surf_width_m),
        surf_bands=int(rng.integers(round(cfg.surf_bands[0]), round(cfg.surf_bands[1]) + 1)),
        surf_foam=uniform(rng, cfg.surf_foam),
        shore_angle_deg=uniform(rng, cfg.shore_angle_deg),
        beach_temp_offset_k=uniform(rng, cfg.beach_temp_offset_k),
        beach_texture_k=uniform(rng, cfg.beach_texture_k),
    )


def sample_harbour_params(rng: np.random.Generator, cfg: SceneConfig) -> HarbourParams:
    """Draw a harbour view (from its own random stream)."""
    return HarbourParams(
        harbour=bool(rng.random() < cfg.harbour_prob),
        harbour_camera_height_m=log_uniform(rng, cfg.harbour_camera_height_m),
        harbour_wind_ms=uniform(rng, cfg.harbour_wind_ms),
        harbour_structures=int(
            rng.integers(round(cfg.harbour_structures[0]), round(cfg.harbour_structures[1]) + 1)
        ),
        harbour_moored_boats=int(
            rng.integers(round(cfg.harbour_moored_boats[0]), round(cfg.harbour_moored_boats[1]) + 1)
        ),
    )


def sample_glare_params(rng: np.random.Generator, cfg: SceneConfig, hfov_deg: float) -> GlareParams:
    """Draw glare (from its own random stream)."""
    return GlareParams(
        glare=bool(rng.random() < cfg.glare_prob),
        glare_strength_k=uniform(rng, cfg.glare_strength_k),
        glare_width_deg=log_uniform(rng, cfg.glare_width_deg),
        glare_elevation_deg=uniform(rng, cfg.glare_elevation_deg),
        glare_azimuth_deg=float(rng.uniform(-0.5, 0.5) * hfov_deg),
    )


def sample_own_vessel_params(
    rng: np.random.Generator, cfg: SceneConfig, extras_rng: np.random.Generator | None = None
) -> OwnVesselParams:
    """Draw the own vessel's foreground parts (from their own random stream; the deck, cabin and person
    from ``extras_rng``, so that the bow and railing, and the texture painted from ``rng`` after these
    draws, are those of the renderer before them)."""
    present = bool(rng.random() < cfg.own_vessel_prob)
    bow = bool(rng.random() < cfg.own_bow_prob)
    railing = bool(rng.random() < cfg.own_railing_prob) or not bow
    return OwnVesselParams(
        own_vessel=present,
        own_bow=present and bow,
        own_railing=present and railing,
        own_vessel_temp_offset_k=uniform(rng, cfg.own_vessel_temp_offset_k),
        bow_centre=float(rng.uniform(0.3, 0.7)),
        bow_width=float(rng.uniform(0.3, 1.2)),
        bow_height=float(rng.uniform(0.08, 0.35)),
        railing_row=float(rng.uniform(0.05, 0.3)),
        railing_tilt=float(rng.uniform(-0.08, 0.08)),
        railing_posts=int(rng.integers(2, 9)),
        **_own_vessel_extras(rng if extras_rng is None else extras_rng, cfg, present),
    )


def _own_vessel_extras(rng: np.random.Generator, cfg: SceneConfig, present: bool) -> dict:
    """Draw the deck, cabin and person of an own-vessel scene (every value drawn in every scene)."""
    return {
        "own_deck": present and bool(rng.random() < cfg.own_deck_prob),
        "deck_side": -1 if rng.random() < 0.5 else 1,
        "deck_bottom": float(rng.uniform(0.25, 1.1)),
        "deck_side_height": float(rng.uniform(0.1, 0.6)),
        "deck_sheer": float(rng.uniform(-0.05, 0.08)),
        "own_cabin": present and bool(rng.random() < cfg.own_cabin_prob),
        "cabin_side": -1 if rng.random() < 0.5 else 1,
        "cabin_width": float(rng.uniform(0.08, 0.4)),
        "cabin_top": float(rng.uniform(-0.2, 0.6)),
        "cabin_slant": float(rng.uniform(-0.08, 0.08)),
        "own_person": present and bool(rng.random() < cfg.own_person_prob),
        "person_x": float(rng.uniform(0.1, 0.9)),
        "person_height": float(rng.uniform(0.25, 0.75)),
        "person_temp_offset_k": uniform(rng, cfg.person_temp_offset_k),
    }


def sample_scene_params(
    rng: np.random.Generator,
    cfg: SceneConfig,
    width: int,
    height: int,
    streams: Streams,
) -> SceneParams:
    """Draw one scene's parameters (the sea temperature is drawn right after the air's, as it follows it);
    the camera pipeline's, shore view's, harbour's, glare's, own vessel's and time of day's each from a
    stream of its own (a shore view puts the camera at ``shore_camera_height_m``; a harbour view, not in
    a shore view, at ``harbour_camera_height_m`` over calm water)."""
    u, lu = uniform, log_uniform

    hfov_deg = u(rng, cfg.hfov_deg)
    camera_height_m = lu(rng, cfg.camera_height_m)  # drawn in every scene: the stream stays the same
    shore = sample_shore_params(streams.shore, cfg)
    harbour = sample_harbour_params(streams.harbour, cfg)
    if shore.shore:
        camera_height_m = shore.shore_camera_height_m
        harbour = dataclasses.replace(harbour, harbour=False)
    elif harbour.harbour:
        camera_height_m = harbour.harbour_camera_height_m
    if rng.random() < cfg.large_roll_prob:
        roll_deg = float(rng.uniform(-cfg.roll_max_deg, cfg.roll_max_deg))
    else:
        roll_deg = float(np.clip(rng.normal(0, cfg.roll_std_deg), -cfg.roll_max_deg, cfg.roll_max_deg))
    if rng.random() < cfg.out_of_view_prob:
        row = rng.uniform(-1.0, -0.2) if rng.random() < 0.5 else rng.uniform(1.2, 2.0)
    else:
        row = u(rng, cfg.horizon_row)
    camera = CameraParams(
        hfov_deg=hfov_deg,
        camera_height_m=camera_height_m,
        roll_deg=roll_deg,
        horizon_row_target=float(row),
        pitch_deg=geometry.pitch_for_horizon_row(width, height, hfov_deg, camera_height_m, row),
        distortion_k1=u(rng, cfg.distortion_k1),
    )

    air_temp_k = u(rng, cfg.air_temp_k)
    sea_temp_k = air_temp_k + u(rng, cfg.sea_air_diff_k)
    humid_sky = bool(rng.random() < cfg.humid_prob)
    if humid_sky:
        sky_temp_offset_k, sky_emissivity = cfg.humid_sky_temp_offset_k, cfg.humid_sky_emissivity_zenith
    else:
        sky_temp_offset_k, sky_emissivity = cfg.sky_temp_offset_k, cfg.sky_emissivity_zenith
    # keyword order = draw order (fog and clouds draw their visibility or cover only when present)
    atmosphere = AtmosphereParams(
        air_temp_k=air_temp_k,
        humid_sky=humid_sky,
        atm_temp_k=air_temp_k + u(rng, sky_temp_offset_k),
        sky_emissivity_zenith=u(rng, sky_emissivity),
        extinction_km=lu(rng, cfg.extinction_km),
        haze_layer_m=u(rng, cfg.haze_layer_m),
        fog=(fog := bool(rng.random() < cfg.fog_prob)),
        fog_visibility_km=lu(rng, cfg.fog_visibility_km) if fog else 0.0,
        clouds=(clouds := bool(rng.random() < cfg.cloud_prob)),
        cloud_cover=u(rng, cfg.cloud_cover) if clouds else 0.0,
        cloud_base_m=(cloud_base_m := lu(rng, cfg.cloud_base_m)),
        cloud_temp_k=_cloud_temperature(rng, cfg, air_temp_k, cloud_base_m),
        cloud_emissivity=u(rng, cfg.cloud_emissivity),
    )

    # keyword order = draw order (foam and glint draw their cover or strength only when present)
    sea = SeaParams(
        sea_temp_k=sea_temp_k,
        wind_ms=u(rng, cfg.wind_ms),
        swell_wavelength_m=lu(rng, cfg.swell_wavelength_m),
        swell_slope=u(rng, cfg.swell_slope),
        swell_dir_deg=float(rng.uniform(-90, 90)),
        skin_temp_var_k=u(rng, cfg.skin_temp_var_k),
        slick_cover=u(rng, cfg.slick_cover) if rng.random() < cfg.slick_prob else 0.0,
        foam=(foam := bool(rng.random() < cfg.foam_prob)),
        foam_cover=u(rng, cfg.foam_cover) if foam else 0.0,
        glint=(glint := bool(rng.random() < cfg.glint_prob)),
        glint_strength_k=u(rng, cfg.glint_strength_k) if glint else 0.0,
        sun_elevation_deg=u(rng, cfg.sun_elevation_deg),
        sun_azimuth_deg=float(rng.uniform(-0.6, 0.6) * hfov_deg),
    )

    coast = CoastParams(
        land=bool(rng.random() < cfg.land_prob),
        land_width_deg=u(rng, cfg.land_width_deg),
        land_centre_deg=float(rng.uniform(-0.7, 0.7) * hfov_deg),
        land_height_deg=lu(rng, cfg.land_height_deg),
        land_distance_factor=lu(rng, cfg.land_distance_factor),
        land_temp_k=air_temp_k + u(rng, cfg.land_temp_offset_k),
        land_texture_k=u(rng, cfg.land_texture_k),
        land_layers=int(rng.integers(1, cfg.land_max_layers + 1)),
        land_sunlit_k=u(rng, cfg.land_sunlit_k),
        land_strip_deg=lu(rng, cfg.land_strip_deg),
        land_strip_k=u(rng, cfg.land_strip_k),
    )
    with_vessels = cfg.max_vessels and rng.random() < cfg.vessel_prob
    floating = FloatingParams(
        n_vessels=int(rng.integers(1, cfg.max_vessels + 1)) if with_vessels else 0,
        n_buoys=int(rng.integers(1, 3)) if rng.random() < cfg.buoy_prob else 0,
    )

    netd_mk = u(rng, cfg.netd_mk)
    counts_per_k = u(rng, cfg.counts_per_k)
    sensor = SensorParams(
        netd_mk=netd_mk,
        counts_per_k=counts_per_k,
        offset_counts=u(rng, cfg.offset_counts),
        noise_sigma_counts=netd_mk / 1000 * counts_per_k,
        column_fpn=u(rng, cfg.column_fpn),
        row_fpn=u(rng, cfg.row_fpn),
        vignetting=u(rng, cfg.vignetting) * (1 if rng.random() < 0.8 else -1),
        dead_pixel_rate=u(rng, cfg.dead_pixel_rate),
        optics_blur_px=u(rng, cfg.optics_blur_px),
        defocus_px=u(rng, cfg.defocus_px) if rng.random() < cfg.defocus_prob else 0.0,
        motion_blur_px=u(rng, cfg.motion_blur_px) if rng.random() < cfg.motion_blur_prob else 0.0,
        motion_blur_angle_deg=float(rng.uniform(0, 180)),
    )
    glare = sample_glare_params(streams.glare, cfg, hfov_deg)
    own_vessel = sample_own_vessel_params(streams.own_vessel, cfg, streams.own_vessel_extras)
    light = sample_light_params(streams.light, cfg)
    pipeline = sample_pipeline_params(streams.pipeline, cfg)
    if harbour.harbour:  # calm harbour water; the quay is the land (no coast beside it)
        sea = dataclasses.replace(sea, wind_ms=harbour.harbour_wind_ms)
        coast = dataclasses.replace(coast, land=False)
    params = after_sunset(
        SceneParams(
            camera,
            atmosphere,
            sea,
            coast,
            floating,
            shore,
            harbour,
            glare,
            own_vessel,
            light,
            sensor,
            pipeline,
        )
    )
    params = apply_texture(streams.texture, cfg, params)
    params = apply_coast_water(streams.coast_water, cfg, params)
    params = apply_water_only(streams.water_only, cfg, params, width, height)
    params = apply_faint_horizon(streams.faint, cfg, params)
    return apply_agc_span(streams.agc_span, cfg, params)


def apply_agc_span(rng: np.random.Generator, cfg: SceneConfig, params: SceneParams) -> SceneParams:
    """In ``agc_span_prob`` of the scenes (from its own random stream), the 8-bit frame spans only
    ``agc_span`` grey levels, placed anywhere in 0-255: an AGC at its gain limit on a dull scene, display
    headroom, limited-range video. The frame only: counts, mask and horizon truth stay."""
    on = bool(rng.random() < cfg.agc_span_prob)
    span = log_uniform(rng, cfg.agc_span)
    low = float(rng.uniform(0.0, 255.0 - span))
    if not on:
        return params
    pipeline = dataclasses.replace(params.pipeline, output_low=low, output_high=low + span)
    return dataclasses.replace(params, pipeline=pipeline)


def apply_texture(rng: np.random.Generator, cfg: SceneConfig, params: SceneParams) -> SceneParams:
    """Draw the sea's streak texture and soft clouds (from their own random stream)."""
    streaks = bool(rng.random() < cfg.sea_streak_prob)
    slope, aspect = uniform(rng, cfg.sea_streak_slope), uniform(rng, cfg.sea_streak_aspect)
    soft = bool(rng.random() < cfg.soft_cloud_prob)
    softness, thin = uniform(rng, cfg.cloud_softness), uniform(rng, cfg.soft_cloud_emissivity)
    atm = params.atmosphere
    if soft and atm.clouds:
        atm = dataclasses.replace(atm, cloud_softness=softness, cloud_emissivity=atm.cloud_emissivity * thin)
    sea = dataclasses.replace(params.sea, streaks=streaks, streak_slope=slope, streak_aspect=aspect)
    return dataclasses.replace(params, atmosphere=atm, sea=sea)


def apply_coast_water(rng: np.random.Generator, cfg: SceneConfig, params: SceneParams) -> SceneParams:
    """Draw the calm water in front of a near coast and the haze over its foot (their own stream)."""
    calm = bool(rng.random() < cfg.coast_calm_prob)
    width, wind = log_uniform(rng, cfg.coast_calm_width), uniform(rng, cfg.coast_calm_wind)
    haze = bool(rng.random() < cfg.coast_haze_prob)
    depth, height = uniform(rng, cfg.coast_haze_depth), uniform(rng, cfg.coast_haze_height)
    coast = params.coast
    if not coast.land:
        return params
    near = coast.land_distance_factor < 1.0
    coast = dataclasses.replace(
        coast,
        calm_width=width if calm and near else 0.0,
        calm_wind=wind,
        haze_depth=depth if haze else 0.0,
        haze_height=height,
    )
    return dataclasses.replace(params, coast=coast)


def apply_faint_horizon(rng: np.random.Generator, cfg: SceneConfig, params: SceneParams) -> SceneParams:
    """A faint horizon (from its own random stream): a humid marine layer brings the lower atmosphere to the
    sea's temperature (within ``faint_step_k``) and shortens the extinction length, so the near-horizon
    sky (emissivity ~1 there) and the far sea (grazing emissivity falling, mirroring that sky, seen
    through the haze) are nearly equally bright. In ``faint_horizon_prob`` of the open views and
    ``faint_shore_prob`` of the shore views (a beach camera: the surf's bright foam bands below a horizon
    that only texture tells); not in harbour or water-only views."""
    on = bool(rng.random() < cfg.faint_horizon_prob)
    step, extinction_km = uniform(rng, cfg.faint_step_k), log_uniform(rng, cfg.faint_extinction_km)
    if params.shore.shore:
        on = bool(rng.random() < cfg.faint_shore_prob)  # drawn last: the other scenes keep their numbers
    if not on or params.harbour.harbour or params.camera.water_only:
        return params
    atm = dataclasses.replace(
        params.atmosphere,
        atm_temp_k=params.sea.sea_temp_k - step,
        extinction_km=min(params.atmosphere.extinction_km, extinction_km),
        faint=True,
    )
    return dataclasses.replace(params, atmosphere=atm)


def apply_water_only(
    rng: np.random.Generator, cfg: SceneConfig, params: SceneParams, width: int, height: int
) -> SceneParams:
    """A water-only view (from its own random stream): the camera pitched down until the horizon is above
    the frame in every column (not in shore or harbour views; no coast), with strong vignetting, a sun-glitter
    patch in view by day, and the water darker towards one side."""
    on = bool(rng.random() < cfg.water_only_prob)
    lift = float(rng.uniform(0.05, 0.8))  # the horizon's height above the top edge / (H - 1)
    vignetting = uniform(rng, cfg.water_only_vignetting)
    glitter = bool(rng.random() < cfg.water_only_glitter_prob)
    glitter_k = uniform(rng, cfg.water_only_glitter_k)
    glitter_row, glitter_az = float(rng.uniform(0.15, 0.85)), float(rng.uniform(-0.4, 0.4))
    side_k, side_sign = uniform(rng, cfg.water_only_side_k), 1 if rng.random() < 0.5 else -1
    if not on or params.shore.shore or params.harbour.harbour:
        return params
    camera = _pitched_down(params.camera, width, height, lift)
    cam = geometry.Camera(
        width, height, camera.hfov_deg, camera.camera_height_m, camera.roll_deg, camera.pitch_deg,
        camera.distortion_k1,
    )  # fmt: skip
    elev = float(geometry.ray_angles(cam, np.array((width - 1) / 2), np.array(glitter_row * (height - 1)))[0])
    day = params.light.time_of_day == "day"
    sea = dataclasses.replace(
        params.sea,
        glint=glitter and day,
        glint_strength_k=glitter_k if glitter and day else 0.0,
        sun_elevation_deg=float(np.clip(-math.degrees(elev + cam.dip_rad), 1.0, 80.0)),
        sun_azimuth_deg=glitter_az * camera.hfov_deg,
        side_k=side_k,
        side_sign=side_sign,
    )
    return dataclasses.replace(
        params,
        camera=camera,
        sea=sea,
        coast=dataclasses.replace(params.coast, land=False),
        glare=dataclasses.replace(params.glare, glare=False),
        sensor=dataclasses.replace(params.sensor, vignetting=vignetting),
    )


def _pitched_down(camera: CameraParams, width: int, height: int, lift: float) -> CameraParams:
    """The camera pitched so that the horizon lies ``lift`` x (H - 1) or more above the top edge in every
    column (roll and distortion included)."""
    row = -lift
    while True:
        pitch = geometry.pitch_for_horizon_row(width, height, camera.hfov_deg, camera.camera_height_m, row)
        cam = geometry.Camera(
            width,
            height,
            camera.hfov_deg,
            camera.camera_height_m,
            camera.roll_deg,
            pitch,
            camera.distortion_k1,
        )
        if geometry.horizon_rows(cam).max() < -1.0:
            return dataclasses.replace(camera, horizon_row_target=row, pitch_deg=pitch, water_only=True)
        row -= 0.25
