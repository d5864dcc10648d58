"""The knobs of the scene distribution and the presets that set them (``conf/preset/*.yaml``).

``conf/preset/default.yaml`` is the one source of default knob values (with a comment per knob); the
other presets start from it. :class:`SceneConfig` holds the knobs with their types, validates them, and
fails at once on an unknown name.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seaSky.errors import ConfigError
from seaSky.paths import PRESET_DIR

Range = tuple[float, float]

LOG_UNIFORM_KNOBS = (
    "camera_height_m", "extinction_km", "fog_visibility_km", "cloud_base_m", "swell_wavelength_m",
    "land_height_deg", "land_distance_factor", "land_strip_deg", "vessel_length_m", "vessel_distance_m",
    "buoy_distance_m", "agc_plateau", "display_gamma", "shore_camera_height_m", "shore_waterline_m",
    "surf_width_m", "glare_width_deg", "harbour_distance_m", "coast_calm_width", "faint_extinction_km",
    "agc_span",
)  # fmt: skip


@dataclass
class SceneConfig:
    """Every knob of the scene distribution: (low, high) ranges sampled per scene (uniformly, or
    log-uniformly for ``LOG_UNIFORM_KNOBS``), ``*_prob`` probabilities. Their meaning and default values:
    ``conf/preset/default.yaml``; build one with :meth:`from_dict` or :func:`load_preset`.
    """

    # camera
    hfov_deg: Range
    camera_height_m: Range
    roll_std_deg: float
    large_roll_prob: float
    roll_max_deg: float
    horizon_row: Range
    out_of_view_prob: float
    distortion_k1: Range
    # atmosphere and sky
    air_temp_k: Range
    sky_temp_offset_k: Range
    sky_emissivity_zenith: Range
    humid_prob: float
    humid_sky_temp_offset_k: Range
    humid_sky_emissivity_zenith: Range
    extinction_km: Range
    haze_layer_m: Range
    fog_prob: float
    fog_visibility_km: Range
    cloud_prob: float
    cloud_cover: Range
    cloud_base_m: Range
    cloud_temp_offset_k: Range
    cloud_emissivity: Range
    # sea
    sea_air_diff_k: Range
    wind_ms: Range
    swell_wavelength_m: Range
    swell_slope: Range
    skin_temp_var_k: Range
    slick_prob: float
    slick_cover: Range
    foam_prob: float
    foam_cover: Range
    glint_prob: float
    glint_strength_k: Range
    sun_elevation_deg: Range
    # coast and floating objects
    land_prob: float
    land_width_deg: Range
    land_height_deg: Range
    land_distance_factor: Range
    land_temp_offset_k: Range
    land_texture_k: Range
    land_max_layers: int
    land_sunlit_k: Range
    land_strip_deg: Range
    land_strip_k: Range
    vessel_prob: float
    max_vessels: int
    vessel_length_m: Range
    vessel_distance_m: Range
    buoy_prob: float
    buoy_distance_m: Range
    # glare: a low sun or bright sky over a large patch of water
    glare_prob: float
    glare_strength_k: Range
    glare_width_deg: Range
    glare_elevation_deg: Range
    # own vessel in the foreground
    own_vessel_prob: float
    own_bow_prob: float
    own_railing_prob: float
    own_vessel_temp_offset_k: Range
    own_deck_prob: float
    own_cabin_prob: float
    own_person_prob: float
    person_temp_offset_k: Range
    # water at the foot of a near coast, haze over the foot of the hills
    coast_calm_prob: float
    coast_calm_width: Range
    coast_calm_wind: Range
    coast_haze_prob: float
    coast_haze_depth: Range
    coast_haze_height: Range
    # faint horizons: a humid marine layer at the sea's temperature
    faint_horizon_prob: float
    faint_shore_prob: float
    faint_step_k: Range
    faint_extinction_km: Range
    # texture of sea and clouds
    sea_streak_prob: float
    sea_streak_slope: Range
    sea_streak_aspect: Range
    soft_cloud_prob: float
    cloud_softness: Range
    soft_cloud_emissivity: Range
    # water-only views: the camera pitched down, strong brightness gradients
    water_only_prob: float
    water_only_vignetting: Range
    water_only_glitter_prob: float
    water_only_glitter_k: Range
    water_only_side_k: Range
    # harbour seen from a boat: quays, buildings, bridges, moored boats, reflections
    harbour_prob: float
    harbour_camera_height_m: Range
    harbour_wind_ms: Range
    harbour_structures: Range
    harbour_distance_m: Range
    harbour_bridge_prob: float
    harbour_temp_offset_k: Range
    harbour_moored_boats: Range
    # shore view: surf zone and beach
    shore_prob: float
    shore_camera_height_m: Range
    shore_waterline_m: Range
    shore_runup_m: Range
    surf_width_m: Range
    surf_bands: Range
    surf_foam: Range
    shore_angle_deg: Range
    beach_temp_offset_k: Range
    beach_texture_k: Range
    # time of day: dusk and night
    dusk_prob: float
    night_prob: float
    dusk_cooling: Range
    night_sea_warming_k: Range
    night_surface_offset_k: Range
    # sensor
    netd_mk: Range
    counts_per_k: Range
    offset_counts: Range
    column_fpn: Range
    row_fpn: Range
    vignetting: Range
    dead_pixel_rate: Range
    optics_blur_px: Range
    defocus_prob: float
    defocus_px: Range
    motion_blur_prob: float
    motion_blur_px: Range
    # camera video pipeline (the 8-bit frames of bit_depth=8)
    agc_plateau_prob: float
    agc_plateau: Range
    agc_linear_share: Range
    agc_tail_pct: Range
    dde_prob: float
    dde_gain: Range
    dde_sigma_px: Range
    display_gamma: Range
    black_hot_prob: float
    jpeg_prob: float
    jpeg_quality: Range
    agc_span_prob: float
    agc_span: Range
    sensor_sizes: list  # [height, width] pairs; empty: the render size

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "Range":
                if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                    raise ConfigError(f"scene knob {f.name!r} must be a [low, high] pair, got {value!r}")
                lo, hi = float(value[0]), float(value[1])
                if lo > hi:
                    raise ConfigError(f"scene knob {f.name!r}: low {lo} > high {hi}")
                setattr(self, f.name, (lo, hi))
            elif f.name.endswith("_prob") and not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"scene knob {f.name!r} is a probability, got {value!r}")
        if self.dusk_prob + self.night_prob > 1.0:
            raise ConfigError(
                f"scene knobs 'dusk_prob' + 'night_prob' must be <= 1, got {self.dusk_prob + self.night_prob}"
            )
        self.sensor_sizes = [_sensor_size(size) for size in self.sensor_sizes]
        if self.max_vessels < 0:
            raise ConfigError(f"scene knob 'max_vessels' must be >= 0, got {self.max_vessels}")
        if self.land_max_layers < 1:
            raise ConfigError(f"scene knob 'land_max_layers' must be >= 1, got {self.land_max_layers}")
        for name in LOG_UNIFORM_KNOBS:
            if getattr(self, name)[0] <= 0:
                raise ConfigError(f"scene knob {name!r} is sampled log-uniformly: its low must be > 0")

    @classmethod
    def from_dict(cls, values: Mapping) -> SceneConfig:
        """The default preset's knobs with ``values`` set; unknown knobs are one error listing them all."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown scene knob(s) {unknown}; see {PRESET_DIR / 'default.yaml'}")
        complete = len(values) == len(dataclasses.fields(cls))  # every knob given: no file to read
        return cls(**{**({} if complete else _read_preset("default")), **values})

    def to_dict(self) -> dict:
        """Plain dict (lists for ranges and sizes), as written into dataset.json."""
        plain = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
        plain["sensor_sizes"] = [list(size) for size in self.sensor_sizes]
        return plain


def _sensor_size(size: object) -> tuple[int, int]:
    """A [height, width] pair of ints in [16, 8192], or ConfigError."""
    ok = isinstance(size, Sequence) and not isinstance(size, str) and len(size) == 2
    if ok and all(isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 8192 for v in size):
        return int(size[0]), int(size[1])
    raise ConfigError(
        f"scene knob 'sensor_sizes' holds [height, width] pairs of ints in [16, 8192], got {size!r}"
    )


def preset_names() -> list[str]:
    """The presets in conf/preset."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> SceneConfig:
    """SceneConfig of conf/preset/<name>.yaml (following its ``defaults`` list)."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}; valid presets: {preset_names()} (in {PRESET_DIR})")
    return SceneConfig.from_dict(_read_preset(name))


@functools.cache
def _read_preset_cached(name: str) -> tuple:
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
    return tuple(merged.items())


def _read_preset(name: str) -> dict:
    """The knob values a preset file sets (a fresh dict: callers may change it)."""
    return dict(_read_preset_cached(name))
