"""A video of one synthetic scene: consecutive frames seen by a camera on a rolling, pitching vessel, each
with the exact sea mask and horizon truth of its own pose, and spoilers that hide the line for a while.

Every frame is the still renderer's scene of the same seed (:func:`seaSky.render.pipeline.render_params`)
with the camera's roll and pitch of that instant: sky, sea, weather, coast and objects stay, the swell
travels at its phase speed, the temporal noise is new in every frame and the fixed pattern stays. The mask
and ``y_left``/``y_right`` come from each frame's camera geometry exactly as for a still scene.

Camera motion: roll and pitch are each a sum of three sinusoids (the main period, a faster and a slower
component with random phases) around a mean pose: the scene's roll clipped to ``max_roll_offset_deg``, and
the pitch that puts the horizon at the scene's row clipped into ``horizon_row``. ``camera_height_m``
(not None) puts the camera at a ship's height instead of the scene's.

Spoilers (``spoilers``), at random times:

- ``vessel``: a vessel passing near the camera on a straight course, tall enough to rise over the horizon
  (the mask marks it not-sea, as any vessel; the truth stays the sea-sky horizon behind it);
- ``flare``: a burst of glare from a low sun just above the horizon, its core clipped at full scale;
- ``spray``: water on the lens over the horizon, a blurred blob at the water's temperature that runs down
  and clears.

The lens spoilers change the image only: the mask and the truth are those of the scene behind the lens.
A frame is ``spoiled`` when its spoilers hide the truth line (pixels within 1.5 px of it) in at least
``min_hidden_share`` of the columns where the line is in frame; ``hidden_share`` is that share, and
``spoiler`` names the spoilers in view ("vessel+flare"; "" for none).

Deterministic from the seed; frame k is the same for any number of frames > k.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seaSky.errors import ConfigError
from seaSky.render import geometry, physics, sensor
from seaSky.render.dataset import (
    MARKERS,
    PNG_FAST,
    RenderedKind,
    folder_state,
    install,
    map_chunks,
    remove_stale_temps,
    temp_sibling,
    worker_count,
    write_meta,
)
from seaSky.render.floating import FloatingObject, draw_object, sample_object
from seaSky.render.knobs import Range, SceneConfig
from seaSky.render.noise import fractal_noise
from seaSky.render.params import CameraParams, SceneParams, log_uniform, uniform
from seaSky.render.pipeline import (
    FrameChanges,
    Scene,
    camera_of,
    check_size,
    render_params,
    sample_scene,
    scene_config,
)
from seaSky.video import VideoWriter

SPOILERS = ("vessel", "flare", "spray")
LENS_SPOILERS = ("flare", "spray")
# the sequence's own random streams are seeded (seed, SEQUENCE_STREAM, k), apart from the scene's
SEQUENCE_STREAM = 1001
STREAM_MOTION, STREAM_VESSELS, STREAM_LENS, STREAM_TEMPORAL, STREAM_COAST = range(5)
# the sinusoids of roll and pitch: (amplitude, period) relative to the main one
COMPONENTS = ((1.0, 1.0), (0.35, 0.45), (0.2, 2.1))
PERIOD_JITTER = (0.85, 1.15)
ROLL_VIEW_MARGIN = 1.3  # a rolled frame's corners see this much farther out than its half width
META_FIRST = [
    "frame",
    "stem",
    "timestamp_s",
    "y_left",
    "y_right",
    "roll_deg",
    "pitch_deg",
    "spoiled",
    "spoiler",
    "hidden_share",
    "horizon_angle_deg",
    "horizon_max_dev_px",
    "horizon_kind",
    "horizon_contrast_sigma",
    "polarity",
    "sea_fraction",
]


@dataclass(frozen=True)
class SequenceConfig:
    """Camera motion and spoilers of a sequence (``seq`` in ``conf/render.yaml``, with a comment per knob).

    Ranges are (low, high), drawn uniformly (``vessel_distance_m`` and ``camera_height_m`` log-uniformly).
    """

    roll_amplitude_deg: float = 3.0
    roll_period_s: float = 8.0
    pitch_amplitude_deg: float = 1.0
    pitch_period_s: float = 5.0
    max_roll_offset_deg: float = 2.0
    horizon_row: Range = (0.3, 0.7)
    camera_height_m: Range | None = (4.0, 15.0)
    spoilers: tuple[str, ...] = SPOILERS
    lens_gap_s: Range = (1.0, 3.0)
    flare_s: Range = (0.4, 1.5)
    spray_s: Range = (0.3, 1.0)
    vessel_gap_s: Range = (0.0, 8.0)
    vessel_distance_m: Range = (80.0, 300.0)
    vessel_speed_ms: Range = (8.0, 16.0)
    vessel_length_m: Range = (15.0, 45.0)
    min_hidden_share: float = 0.05

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "spoilers":
                value = (value,) if isinstance(value, str) else tuple(value)
                unknown = sorted(set(value) - set(SPOILERS))
                if unknown:
                    raise ConfigError(f"seq.spoilers: unknown {unknown}; known: {list(SPOILERS)}")
            elif value is None and f.name == "camera_height_m":
                pass
            elif f.type.startswith("Range"):
                value = _range(f.name, value)
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"seq.{f.name}: must be a number, got {value!r}")
            elif value < 0:
                raise ConfigError(f"seq.{f.name}: must be >= 0, got {value!r}")
            object.__setattr__(self, f.name, value)
        positive = ("roll_period_s", "pitch_period_s", "flare_s", "spray_s", "vessel_distance_m")
        positive += ("vessel_speed_ms", "vessel_length_m", "camera_height_m")
        for name in positive:
            value = getattr(self, name)
            if value is not None and min(np.atleast_1d(value)) <= 0:
                raise ConfigError(f"seq.{name}: must be > 0, got {value!r}")
        if not 0.0 <= self.horizon_row[0] <= self.horizon_row[1] <= 1.0:
            raise ConfigError(f"seq.horizon_row: must lie in [0, 1], got {list(self.horizon_row)}")
        if not 0.0 < self.min_hidden_share <= 1.0:
            raise ConfigError(f"seq.min_hidden_share: must lie in (0, 1], got {self.min_hidden_share!r}")

    @classmethod
    def from_dict(cls, values: Mapping | None) -> SequenceConfig:
        """The defaults with ``values`` set; unknown knobs are one error listing them all."""
        values = dict(values or {})
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown sequence knob(s) {unknown}; see conf/render.yaml (seq)")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain dict (lists for ranges), as written into sequence.json."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def _range(name: str, value: object) -> Range:
    ok = isinstance(value, (list, tuple)) and len(value) == 2
    if ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        lo, hi = float(value[0]), float(value[1])
        if 0.0 <= lo <= hi and math.isfinite(hi):
            return lo, hi
    raise ConfigError(f"seq.{name}: must be a [low, high] pair with 0 <= low <= high, got {value!r}")


@dataclass(frozen=True)
class Motion:
    """Roll and pitch over time: each a mean plus sinusoids (amplitude deg, period s, phase rad)."""

    roll_mean_deg: float
    pitch_mean_deg: float
    roll: tuple[tuple[float, float, float], ...]
    pitch: tuple[tuple[float, float, float], ...]

    def pose(self, t: float) -> tuple[float, float]:
        """(roll, pitch) in degrees at time t (s)."""

        def wave(parts: tuple[tuple[float, float, float], ...]) -> float:
            return sum(a * math.sin(2 * math.pi * t / p + phase) for a, p, phase in parts)

        return self.roll_mean_deg + wave(self.roll), self.pitch_mean_deg + wave(self.pitch)


def sample_motion(
    rng: np.random.Generator, seq: SequenceConfig, roll_mean: float, pitch_mean: float
) -> Motion:
    """Random periods (jittered) and phases of the motion's sinusoids."""

    def parts(amplitude: float, period: float) -> tuple[tuple[float, float, float], ...]:
        return tuple(
            (
                amplitude * a,
                period * p * float(rng.uniform(*PERIOD_JITTER)),
                float(rng.uniform(0, 2 * math.pi)),
            )
            for a, p in COMPONENTS
        )

    roll = parts(seq.roll_amplitude_deg, seq.roll_period_s)
    return Motion(roll_mean, pitch_mean, roll, parts(seq.pitch_amplitude_deg, seq.pitch_period_s))


@dataclass(frozen=True)
class VesselPassage:
    """A vessel crossing the view from left to right on a straight course ``closest_m`` ahead of the
    camera at ``speed_ms``; ``vessel`` is its shape (broadside, bow to the right), in view from start_s
    to end_s and nearest half way."""

    start_s: float
    end_s: float
    vessel: FloatingObject
    closest_m: float
    speed_ms: float

    def at(self, t: float) -> FloatingObject | None:
        """The vessel where it is at time t (s); None outside the passage."""
        if not self.start_s <= t <= self.end_s:
            return None
        x = self.speed_ms * (t - 0.5 * (self.start_s + self.end_s))
        return dataclasses.replace(
            self.vessel,
            dist_m=math.hypot(x, self.closest_m),
            az_deg=math.degrees(math.atan2(x, self.closest_m)),
        )


def sample_passage(
    rng: np.random.Generator, seq: SequenceConfig, params: SceneParams, start_s: float
) -> VesselPassage:
    """A passing vessel starting to enter the view at start_s. Where needed its hull is raised (a
    high-sided ship) to rise over the horizon at its closest: a camera h above the water sees the
    waterline of a vessel at distance d below the horizon by h (1 - d / D_h) / d rad."""
    cam = params.camera
    closest = log_uniform(rng, seq.vessel_distance_m)
    speed = uniform(rng, seq.vessel_speed_ms)
    length = uniform(rng, seq.vessel_length_m)
    t_air, t_sea = params.atmosphere.air_temp_k, params.sea.sea_temp_k
    obj = sample_object(rng, "vessel", closest, 0.0, t_air, t_sea, length)
    horizon_m = geometry.Camera(2, 2, cam.hfov_deg, cam.camera_height_m, 0.0, 0.0, 0.0).horizon_distance_m
    needed = 1.2 * cam.camera_height_m * max(0.0, 1.0 - closest / horizon_m) + 1.0
    hull_h = max(obj.hull_h, needed)
    obj = dataclasses.replace(
        obj,
        length_m=max(length, 3.0 * hull_h),
        hull_h=hull_h,
        height_m=obj.height_m + hull_h - obj.hull_h,
        moving=True,
        heading_deg=90.0,
    )
    half_view = min(math.radians(cam.hfov_deg / 2) * ROLL_VIEW_MARGIN, math.radians(80.0))
    extent = closest * math.tan(half_view) + obj.length_m
    return VesselPassage(start_s, start_s + 2 * extent / speed, obj, closest, speed)


@dataclass(frozen=True)
class LensEvent:
    """A flare or spray on the lens from start_s to end_s.

    x_frac / y_frac: its centre (column / (W - 1); for spray also row / (H - 1), fixed on the lens where
    the horizon was at the start; a flare follows the sun, ``offset`` sigmas above the horizon).
    size_frac: the flare's sigma, the spray's radius, / W. strength: the flare's peak over the headroom to
    full scale (> 1: a clipped core); the spray's opacity at its peak. temp_offset_k: the spray's water
    temperature minus the sea's. shape_seed: the spray's ragged outline. See :class:`Lens` for the
    counts and where each hides the scene.
    """

    kind: str
    start_s: float
    end_s: float
    x_frac: float
    size_frac: float
    strength: float
    offset: float = 0.0
    y_frac: float = 0.0
    temp_offset_k: float = 0.0
    shape_seed: int = 0

    def phase(self, t: float) -> float:
        """0 at the start, 1 at the end."""
        return (t - self.start_s) / (self.end_s - self.start_s)

    def weight(self, t: float, horizon_rows: np.ndarray, height: int) -> np.ndarray:
        """(H, W) float32 at time t: the flare's gain (in units of the headroom to full scale) or the
        spray's opacity; ``horizon_rows``: the frame's horizon row per column (the flare follows it)."""
        width = len(horizon_rows)
        u = min(max(self.phase(t), 0.0), 1.0)
        xc = self.x_frac * (width - 1)
        size = self.size_frac * width
        if self.kind == "flare":
            yc = float(np.interp(xc, np.arange(width), horizon_rows)) - self.offset * size
            r2 = _radius2(height, width, xc, yc)
            lobe = np.exp(-r2 / (2 * size * size)) + 0.3 * np.exp(-r2 / (18 * size * size))
            return (self.strength * math.sin(math.pi * u) ** 2 * lobe).astype(np.float32)
        yc = self.y_frac * (height - 1) + 0.5 * size * u  # runs down the lens
        ragged = fractal_noise(np.random.default_rng(self.shape_seed), height, width, 3, 3)
        r2 = _radius2(height, width, xc, yc) / (size * size)
        blob = np.clip(1.6 * (1.0 - r2 - 0.3 * ragged), 0.0, 1.0).astype(np.float32)
        envelope = min(1.0, u / 0.1) * (1.0 - u) ** 0.7  # splashes on, then clears
        return (self.strength * envelope * sensor.blur(blob, 0.15 * size)).astype(np.float32)


def _radius2(height: int, width: int, xc: float, yc: float) -> np.ndarray:
    y = np.arange(height, dtype=np.float32)[:, None] - np.float32(yc)
    x = np.arange(width, dtype=np.float32)[None, :] - np.float32(xc)
    return x * x + y * y


def sample_lens_event(rng: np.random.Generator, seq: SequenceConfig, kind: str, start_s: float) -> LensEvent:
    """A flare or spray starting at start_s (a spray's y_frac is set by :func:`plan_sequence`)."""
    if kind == "flare":
        end_s = start_s + uniform(rng, seq.flare_s)
        # keyword order = draw order
        return LensEvent(
            kind,
            start_s,
            end_s,
            x_frac=uniform(rng, (0.15, 0.85)),
            size_frac=uniform(rng, (0.04, 0.1)),
            strength=uniform(rng, (1.2, 2.5)),
            offset=uniform(rng, (0.0, 1.0)),
        )
    end_s = start_s + uniform(rng, seq.spray_s)
    return LensEvent(
        kind,
        start_s,
        end_s,
        x_frac=uniform(rng, (0.2, 0.8)),
        size_frac=uniform(rng, (0.12, 0.3)),
        strength=uniform(rng, (0.8, 1.0)),
        offset=uniform(rng, (-0.4, 0.4)),
        temp_offset_k=uniform(rng, (-1.0, 1.0)),
        shape_seed=int(rng.integers(2**31)),
    )


@dataclass(frozen=True)
class SequencePlan:
    """Everything a sequence's frames share: the scene, the camera at rest, its motion and the spoilers."""

    seed: int
    n: int
    width: int
    height: int
    fps: float
    scene: SceneConfig
    config: SequenceConfig
    camera: CameraParams  # at rest: the sequence's camera height, mean roll and pitch
    motion: Motion
    vessels: tuple[VesselPassage, ...]
    lens_events: tuple[LensEvent, ...]

    def time_s(self, index: int) -> float:
        """Timestamp of frame ``index`` (s)."""
        return index / self.fps

    def camera_at(self, t: float) -> CameraParams:
        """The camera's parameters at time t (s)."""
        roll, pitch = self.motion.pose(t)
        return dataclasses.replace(self.camera, roll_deg=roll, pitch_deg=pitch)

    def events(self) -> list[dict]:
        """The spoilers as plain dicts (for sequence.json)."""
        out = [
            {
                "kind": "vessel",
                "start_s": v.start_s,
                "end_s": v.end_s,
                "closest_m": v.closest_m,
                "speed_ms": v.speed_ms,
                "length_m": v.vessel.length_m,
                "height_m": v.vessel.height_m,
            }
            for v in self.vessels
        ]
        return sorted(out + [dataclasses.asdict(e) for e in self.lens_events], key=lambda e: e["start_s"])


def plan_sequence(
    seed: int,
    n: int,
    width: int = 320,
    height: int = 256,
    scene: SceneConfig | None = None,
    config: SequenceConfig | None = None,
    fps: float = 25.0,
) -> SequencePlan:
    """Plan a sequence of n frames of scene ``seed`` at ``fps``: the camera at rest, its motion and the
    spoilers, each from a random stream of its own (so frame k does not depend on n)."""
    check_size(width, height)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (math.isfinite(fps) and fps > 0):
        raise ConfigError(f"fps must be a number > 0, got {fps!r}")
    cfg = scene_config(scene)
    seq = SequenceConfig() if config is None else config
    if not isinstance(seq, SequenceConfig):
        raise ConfigError(f"config must be a SequenceConfig, got {type(seq).__name__}")
    params = sample_scene(seed, width, height, cfg)[0]
    rng = _stream(seed, STREAM_MOTION)
    cam = params.camera
    height_m = cam.camera_height_m if seq.camera_height_m is None else log_uniform(rng, seq.camera_height_m)
    row = float(np.clip(cam.horizon_row_target, *seq.horizon_row))
    roll = float(np.clip(cam.roll_deg, -seq.max_roll_offset_deg, seq.max_roll_offset_deg))
    pitch = geometry.pitch_for_horizon_row(width, height, cam.hfov_deg, height_m, row)
    rest = dataclasses.replace(
        cam, camera_height_m=height_m, horizon_row_target=row, roll_deg=roll, pitch_deg=pitch
    )
    motion = sample_motion(rng, seq, roll, pitch)
    params = dataclasses.replace(params, camera=rest)
    duration = n / fps
    vessels = []
    if "vessel" in seq.spoilers:
        rng = _stream(seed, STREAM_VESSELS)
        t = uniform(rng, seq.vessel_gap_s)
        while t < duration:
            vessels.append(sample_passage(rng, seq, params, t))
            t = vessels[-1].end_s + uniform(rng, seq.vessel_gap_s)
    plan = SequencePlan(seed, int(n), width, height, float(fps), cfg, seq, rest, motion, tuple(vessels), ())
    kinds = [k for k in LENS_SPOILERS if k in seq.spoilers]
    lens = []
    if kinds:
        rng = _stream(seed, STREAM_LENS)
        t = uniform(rng, seq.lens_gap_s)
        turn = int(rng.integers(len(kinds)))
        while t < duration:
            event = sample_lens_event(rng, seq, kinds[turn % len(kinds)], t)
            if event.kind == "spray":  # on the lens where the horizon is when it hits
                start = dataclasses.replace(params, camera=plan.camera_at(t))
                rows = geometry.horizon_rows(camera_of(start, width, height))
                y = float(np.interp(event.x_frac * (width - 1), np.arange(width), rows))
                y += event.offset * event.size_frac * width
                event = dataclasses.replace(event, y_frac=y / (height - 1))
            lens.append(event)
            t = event.end_s + uniform(rng, seq.lens_gap_s)
            turn += 1
    return dataclasses.replace(plan, lens_events=tuple(lens))


def _stream(seed: int, k: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, SEQUENCE_STREAM, k, *more])


def render_frame(plan: SequencePlan, index: int) -> Scene:
    """Frame ``index`` of a planned sequence: the scene with the camera's pose at its time, the passing
    vessels and lens spoilers of that instant; meta adds frame, stem, timestamp_s, spoiled, spoiler and
    hidden_share (see the module docstring)."""
    t = plan.time_s(index)
    params, rng, streams = sample_scene(plan.seed, plan.width, plan.height, plan.scene)
    params = dataclasses.replace(params, camera=plan.camera_at(t))
    cam = camera_of(params, plan.width, plan.height)
    vessels = [o for o in (v.at(t) for v in plan.vessels) if o is not None]
    events = [e for e in plan.lens_events if e.start_s <= t < e.end_s]
    lens = None
    if events:
        rows = geometry.horizon_rows(cam)
        lens = Lens([(e, e.weight(t, rows, plan.height)) for e in events], params)
    frame = FrameChanges(
        time_s=t,
        objects=tuple(vessels),
        coast_rng=_stream(plan.seed, STREAM_COAST),
        temporal_rng=_stream(plan.seed, STREAM_TEMPORAL, index),
        lens=lens,
    )
    scene = render_params(params, plan.width, plan.height, plan.scene, rng, streams, frame)
    hiding = {}
    if vessels:
        hiding["vessel"] = _vessel_pixels(cam, vessels) & (scene.object_mask == 1)
    if lens is not None:
        hiding.update(lens.hidden)
    hiding = {k: hiding[k] for k in SPOILERS if k in hiding and hiding[k].any()}
    meta = scene.meta
    share = 0.0
    if hiding:
        share = hidden_share(np.logical_or.reduce(list(hiding.values())), meta["y_left"], meta["y_right"])
    scene.meta = {
        "frame": index,
        "stem": f"{index:06d}",
        "timestamp_s": t,
        "spoiled": int(share >= plan.config.min_hidden_share),
        "spoiler": "+".join(hiding),
        "hidden_share": share,
        **meta,
    }
    return scene


def render_sequence(
    seed: int,
    n: int,
    width: int = 320,
    height: int = 256,
    scene: SceneConfig | None = None,
    config: SequenceConfig | None = None,
    fps: float = 25.0,
) -> Iterator[Scene]:
    """The n frames of a sequence in order (see :func:`plan_sequence` and :func:`render_frame`)."""
    plan = plan_sequence(seed, n, width, height, scene, config, fps)
    return (render_frame(plan, i) for i in range(n))


def hidden_share(hidden: np.ndarray, y_left: float | None, y_right: float | None) -> float:
    """Share of the columns with the line (y_left, y_right) in frame where ``hidden`` (H, W) covers a
    pixel within 1.5 px of it; 0 without a line in view."""
    if y_left is None or y_right is None:
        return 0.0
    h, w = hidden.shape
    x = np.arange(w)
    y = y_left + (y_right - y_left) * x / (w - 1)
    inside = (y > 0) & (y < h - 1)
    if not inside.any():
        return 0.0
    x, y = x[inside], y[inside]
    hit = np.zeros(x.size, bool)
    for k in range(-2, 4):
        r = np.floor(y).astype(np.intp) + k
        near = (np.abs(r - y) <= 1.5) & (r >= 0) & (r < h)
        hit |= near & hidden[np.clip(r, 0, h - 1), x]
    return float(hit.mean())


def _vessel_pixels(cam: geometry.Camera, vessels: list[FloatingObject]) -> np.ndarray:
    """Where the vessels stand in the frame (before anything nearer hides them)."""
    elev, az = geometry.pixel_grid_angles(cam)
    pixels = np.zeros(elev.shape, bool)
    scratch = np.zeros(elev.shape, np.float32)
    for obj in vessels:
        draw_object(
            elev, az, scratch, pixels, cam.height_m, cam.dip_rad, cam.horizon_distance_m, obj, 0.0, 1e12
        )
    return pixels


class Lens:
    """The lens spoilers of one frame (:attr:`FrameChanges.lens`): changes the noise-free counts, and
    records in ``hidden`` (kind -> (H, W) bool) where each hides the scene.

    A flare adds its weight x the headroom from the frame's median to full scale; it hides the scene
    where it adds more than the scene's own spread (its 1st to 99th percentile of counts): there the
    camera's AGC shows mostly flare. A spray mixes in a black body at its water's temperature by its
    opacity (counts as the pipeline maps radiance, without vignetting); it hides the scene where it is
    half opaque or more.
    """

    def __init__(self, weights: list[tuple[LensEvent, np.ndarray]], params: SceneParams) -> None:
        self.weights = weights
        self.params = params
        self.hidden: dict[str, np.ndarray] = {}

    def __call__(self, clean: np.ndarray) -> np.ndarray:
        sens, atm = self.params.sensor, self.params.atmosphere
        low, median, high = np.percentile(clean[::2, ::2], [1, 50, 99])
        for event, weight in self.weights:
            if event.kind == "flare":
                added = weight * np.float32(max(sensor.MAX_COUNTS - median, 0.0))
                clean = clean + added
                hidden = added > max(high - low, 1.0)
            else:
                gain = sens.counts_per_k / physics.dplanck_dt(atm.air_temp_k)
                water = float(physics.planck(self.params.sea.sea_temp_k + event.temp_offset_k))
                drop = sens.offset_counts + gain * (water - float(physics.planck(atm.air_temp_k)))
                clean = clean + weight * (np.float32(drop) - clean)
                hidden = weight >= 0.5
            self.hidden[event.kind] = self.hidden.get(event.kind, False) | hidden
        return clean.astype(np.float32, copy=False)


def _render_frames(
    indices: list[int], tmp_dir: str, plan_args: dict, bit_depth: int, display: bool
) -> list[tuple[dict, np.ndarray | None]]:
    """Render and write some frames of a sequence; (meta row, the 8-bit frame when ``display``) each."""
    plan = plan_sequence(
        **{
            **plan_args,
            "scene": SceneConfig.from_dict(plan_args["scene"]),
            "config": SequenceConfig.from_dict(plan_args["config"]),
        }
    )
    out = []
    for i in indices:
        scene = render_frame(plan, i)
        stem = scene.meta["stem"]
        frame = scene.display() if display or bit_depth == 8 else None
        img = scene.image if bit_depth == 16 else frame
        for sub, arr in (("images", img), ("masks", scene.mask * np.uint8(255))):
            if not cv2.imwrite(os.path.join(tmp_dir, sub, stem + ".png"), arr, PNG_FAST):
                raise OSError(f"could not write {sub}/{stem}.png in {tmp_dir}")
        out.append((scene.meta, frame if display else None))
    return out


SEQUENCE = RenderedKind(
    "a sequence",
    "sequence.json",
    MARKERS["sequence.json"][0],
    frozenset({"images", "masks", "meta.csv", "sequence.json", "clip.mp4", "clip.avi"}),
    flags=frozenset({"video"}),  # sequence.json records the clip's name, or None
)


def sequence_params(plan: SequencePlan, bit_depth: int, video: bool) -> dict:
    """The parameters of a sequence, as its sequence.json records them (``video`` as on/off)."""
    if bit_depth not in (8, 16):
        raise ConfigError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    params = {
        "n": plan.n,
        "seed": int(plan.seed),
        "fps": plan.fps,
        "width": int(plan.width),
        "height": int(plan.height),
        "bit_depth": int(bit_depth),
        "scene": plan.scene.to_dict(),
        "seq": plan.config.to_dict(),
        "video": bool(video),
    }
    return json.loads(json.dumps(params))  # as read back: lists, not tuples


def write_sequence(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    scene: SceneConfig | None = None,
    config: SequenceConfig | None = None,
    width: int = 320,
    height: int = 256,
    fps: float = 25.0,
    bit_depth: int = 16,
    video: bool = False,
    workers: int | None = None,
    progress: bool = True,
    *,
    overwrite: bool = False,
) -> Path:
    """Render a sequence into out_dir (images/, masks/, meta.csv, sequence.json and, with ``video``,
    the 8-bit frames as clip.mp4), atomically. A sequence already there with the same parameters is kept
    (nothing rendered); one with other parameters is refused, or with ``overwrite`` replaced once the new
    one is complete; anything else there (a file, a folder that is not a rendered sequence) is a
    ConfigError and is never touched (:func:`seaSky.render.dataset.folder_state`)."""
    from tqdm import tqdm

    plan = plan_sequence(seed, n, width, height, scene, config, fps)  # validates, in this process
    params = sequence_params(plan, bit_depth, video)
    out = Path(out_dir)
    if folder_state(out, SEQUENCE, params, overwrite) == "keep":
        return out
    remove_stale_temps(out)
    tmp = temp_sibling(out, "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("images", "masks"):
        (tmp / sub).mkdir(parents=True)
    plan_args = {
        "seed": seed,
        "n": n,
        "width": width,
        "height": height,
        "scene": plan.scene.to_dict(),
        "config": plan.config.to_dict(),
        "fps": plan.fps,
    }
    job = functools.partial(
        _render_frames, tmp_dir=str(tmp), plan_args=plan_args, bit_depth=bit_depth, display=video
    )
    writer = VideoWriter(tmp / "clip.mp4", plan.fps) if video else None
    rows: list[dict] = []
    try:
        with tqdm(total=n, desc=f"render {out.name}", unit="frame", disable=not progress) as bar:
            for part in map_chunks(job, n, worker_count(workers)):
                for row, frame in part:
                    rows.append(row)
                    if writer is not None:
                        writer.write(frame)
                bar.update(len(part))
        clip = writer.close() if writer is not None else None
        write_meta(tmp / "meta.csv", rows, META_FIRST)
        info = {
            "n": n,
            "seed": seed,
            "fps": plan.fps,
            "width": width,
            "height": height,
            "bit_depth": bit_depth,
            "scene": plan.scene.to_dict(),
            "seq": plan.config.to_dict(),
            "camera_at_rest": dataclasses.asdict(plan.camera),
            "motion": dataclasses.asdict(plan.motion),
            "spoilers": plan.events(),
            "n_spoiled": sum(r["spoiled"] for r in rows),
            "video": clip.name if clip is not None else None,
            "mask": "255 = sea, 0 = not sea",
            "generator": SEQUENCE.generator,
        }
        (tmp / "sequence.json").write_text(json.dumps(info, indent=2))
        install(tmp, out, SEQUENCE, params, overwrite)
    finally:
        if writer is not None:
            writer.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return out
