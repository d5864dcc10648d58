"""Horizon tracking over a video: a steadier line than the per-frame fit, robust to single bad frames.

Two independent constant-velocity Kalman filters (numpy, one per quantity) smooth the horizon's centre
height y_c = (y_left + y_right) / 2 (px of the frame) and its angle (degrees). Units are per frame.

Per frame, :meth:`HorizonTracker.update` takes the fitted line (or None: no horizon in view) and:

1. No track yet (or lost): a measurement starts one ("acquiring"), None keeps it "lost".
2. Predict both filters one frame ahead.
3. Gate: a measurement is accepted when |measured - predicted| is within ``gate_px`` (scaled by the frame
   height / ``ref_height``) for y_c and within ``gate_deg`` for the angle, both gates times the square root
   of the measurement's confidence (a doubtful fit must agree more closely) and widened by ``gate_sigmas``
   standard deviations of the prediction (which grow while the track coasts, so that a line that moved on
   during a spoiled stretch is taken up again). Accepted: Kalman update with a
   measurement noise divided by the confidence; "acquiring" until ``acquire_frames`` were accepted, then
   "tracking".
4. Otherwise the tracker "coasts" on its prediction (glare, a ship on the line, a wave over the lens do not
   move the line). Gated measurements that follow each other and agree with each other (each within the
   gates of the one before) are a real jump (the camera turned): after ``reset_after`` of them the filters
   restart on the last one ("reset").
5. None frames, and fits with a confidence below ``min_confidence``, coast too. After ``max_coast``
   coasted frames in a row the next frame without an accepted measurement is "lost" (no line) until a
   measurement starts a new track.

Example:
    >>> from seaSky.horizon import HorizonLine
    >>> tracker = HorizonTracker()
    >>> out = tracker.update(HorizonLine(100.0, 104.0, 640, 512, 0.9), 640, 512)
    >>> out.state, round(out.centre_y, 1)
    ('acquiring', 102.0)
    >>> tracker.update(None, 640, 512).state
    'coasting'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from seaSky.errors import ConfigError
from seaSky.horizon import HorizonLine

__all__ = ["STATES", "HorizonTracker", "TrackedLine", "TrackerConfig", "step_stats", "track_lines"]

STATES = ("acquiring", "tracking", "coasting", "reset", "lost")
MAX_ANGLE_DEG = 89.0  # a coasting angle is kept below this (the line stays a function y(x))


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings; pixel values hold for a frame ``ref_height`` rows high and scale with the height.

    Args:
        gate_px: largest accepted |innovation| of the centre height (px at ``ref_height`` rows), times the
            square root of the measurement's confidence, plus ``gate_sigmas`` prediction std.
        gate_deg: largest accepted |innovation| of the angle (degrees), likewise.
        reset_after: gated measurements in a row that agree with each other and restart the track on them
            (a real jump: the camera turned). 1 restarts on every gated measurement (no gating).
        max_coast: frames in a row without an accepted measurement that the track coasts through; the
            next one is lost.
        acquire_frames: accepted measurements before a new track is "tracking" (before: "acquiring").
        min_confidence: a fit below this confidence is treated as no horizon.
        process_noise_px: random acceleration of the centre height (px / frame² at ``ref_height``); larger
            follows motion faster with less smoothing.
        process_noise_deg: random angular acceleration (deg / frame²).
        measurement_noise_px: noise of a fit's centre height at confidence 1 (px at ``ref_height``).
        measurement_noise_deg: noise of a fit's angle at confidence 1 (degrees).
        velocity_std_px: velocity uncertainty of a new track (px / frame at ``ref_height``).
        velocity_std_deg: angular velocity uncertainty of a new track (deg / frame).
        ref_height: frame height (px) at which the pixel values above hold.
        gate_sigmas: the gates widen by this many standard deviations of the prediction (px and deg), which
            grow while the track coasts: a line that moved on during a spoiled stretch is taken up again
            instead of rejected until ``reset_after`` frames agree.
    """

    gate_px: float = 10.0
    gate_deg: float = 2.0
    reset_after: int = 5
    max_coast: int = 25
    acquire_frames: int = 3
    min_confidence: float = 0.05
    process_noise_px: float = 0.1
    process_noise_deg: float = 0.005
    measurement_noise_px: float = 0.5
    measurement_noise_deg: float = 0.05
    velocity_std_px: float = 1.0
    velocity_std_deg: float = 0.1
    ref_height: int = 512
    gate_sigmas: float = 3.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            integer = f.name in ("reset_after", "max_coast", "acquire_frames", "ref_height")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"tracker.{f.name}: must be a number, got {value!r}")
            least = 0 if f.name == "max_coast" else 1
            if integer and (value != int(value) or value < least):
                raise ConfigError(f"tracker.{f.name}: must be a whole number >= {least}, got {value!r}")
            zero_ok = f.name == "gate_sigmas"
            if not integer and not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
                sign = ">= 0" if zero_ok else "> 0"
                raise ConfigError(f"tracker.{f.name}: must be a finite number {sign}, got {value!r}")
        if self.min_confidence > 1:
            raise ConfigError(f"tracker.min_confidence: must lie in (0, 1], got {self.min_confidence!r}")


@dataclass(frozen=True)
class TrackedLine:
    """The tracker's output for one frame.

    state: one of :data:`STATES`; line: the tracked horizon (None when "lost"); measured: the fit given
    (scaled to the frame, None if none); accepted: whether that fit updated the track.
    """

    state: str
    line: HorizonLine | None
    measured: HorizonLine | None
    accepted: bool

    @property
    def y_left(self) -> float:
        """Tracked y at x = 0 (NaN when lost)."""
        return self.line.y_left if self.line else math.nan

    @property
    def y_right(self) -> float:
        """Tracked y at x = W - 1 (NaN when lost)."""
        return self.line.y_right if self.line else math.nan

    @property
    def angle_deg(self) -> float:
        """Tracked angle (NaN when lost)."""
        return self.line.angle_deg if self.line else math.nan

    @property
    def centre_y(self) -> float:
        """Tracked centre height (NaN when lost)."""
        return self.line.centre_y if self.line else math.nan

    def endpoints(self) -> tuple[float, float] | None:
        """(y_left, y_right) for :func:`seaSky.viz.overlay_frame`, None when lost."""
        return (self.line.y_left, self.line.y_right) if self.line else None


class _ConstantVelocity:
    """Kalman filter of one quantity with state (value, velocity per frame) and random acceleration."""

    def __init__(self, value: float, value_std: float, velocity_std: float, accel_std: float) -> None:
        self.x = np.array([value, 0.0])
        self.p = np.diag([value_std**2, velocity_std**2])
        self.f = np.array([[1.0, 1.0], [0.0, 1.0]])
        self.q = accel_std**2 * np.array([[0.25, 0.5], [0.5, 1.0]])  # discrete white-noise acceleration

    @property
    def value(self) -> float:
        return float(self.x[0])

    @property
    def std(self) -> float:
        """Standard deviation of the value's estimate."""
        return float(np.sqrt(self.p[0, 0]))

    def predict(self) -> None:
        self.x = self.f @ self.x
        self.p = self.f @ self.p @ self.f.T + self.q

    def correct(self, z: float, noise_std: float) -> None:
        s = self.p[0, 0] + noise_std**2
        gain = self.p[:, 0] / s
        self.x = self.x + gain * (z - self.x[0])
        self.p = self.p - np.outer(gain, self.p[0, :])


class HorizonTracker:
    """Horizon tracking over the frames of one video (see the module docstring for the method).

    Args:
        config: settings (None: the defaults of :class:`TrackerConfig`).
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the track (e.g. before another video)."""
        self._y: _ConstantVelocity | None = None
        self._angle: _ConstantVelocity | None = None
        self._size: tuple[int, int] | None = None
        self._accepted = 0  # measurements accepted since the track started
        self._coasted = 0  # frames in a row without an accepted measurement
        self._confidence = 0.0  # of the last accepted measurement
        self._run: list[HorizonLine] = []  # gated measurements in a row that agree with each other

    def update(self, line: HorizonLine | None, width: int, height: int) -> TrackedLine:
        """Track one frame of ``width`` x ``height`` px; ``line`` is its fitted horizon, None if none.

        A line fitted at another size is scaled to the frame; a frame of another size than the last one
        starts a new track.
        """
        cfg = self.config
        if self._size != (width, height):
            self.reset()
            self._size = (int(width), int(height))
        if line is not None and (line.width, line.height) != (width, height):
            line = line.scaled(width, height)
        measured = line
        if line is not None and line.confidence < cfg.min_confidence:
            line = None
        scale = height / cfg.ref_height
        if self._y is None or self._angle is None:
            if line is None:
                return TrackedLine("lost", None, measured, False)
            self._start(line, scale, accepted=1)
            state = "tracking" if self._accepted >= cfg.acquire_frames else "acquiring"
            return self._output(state, measured, True)
        self._y.predict()
        self._angle.predict()
        if line is None:
            self._run.clear()
            return self._coast(measured)
        conf = line.confidence  # >= min_confidence > 0
        trust = math.sqrt(conf)  # a doubtful fit must agree more closely
        gate_y = cfg.gate_px * scale * trust + cfg.gate_sigmas * self._y.std
        gate_a = cfg.gate_deg * trust + cfg.gate_sigmas * self._angle.std
        if abs(line.centre_y - self._y.value) <= gate_y and abs(line.angle_deg - self._angle.value) <= gate_a:
            self._y.correct(line.centre_y, cfg.measurement_noise_px * scale / conf)
            self._angle.correct(line.angle_deg, cfg.measurement_noise_deg / conf)
            self._accepted += 1
            self._coasted = 0
            self._confidence = line.confidence
            self._run.clear()
            state = "tracking" if self._accepted >= cfg.acquire_frames else "acquiring"
            return self._output(state, measured, True)
        if self._run:
            last = self._run[-1]
            # the same widened gates between outliers: the fixed gates alone (stricter agreement) did a
            # little worse on benchmarks/tracking_synthetic.py's sequences
            if abs(line.centre_y - last.centre_y) > gate_y or abs(line.angle_deg - last.angle_deg) > gate_a:
                self._run.clear()
        self._run.append(line)
        if len(self._run) >= cfg.reset_after:
            self._start(line, scale, accepted=cfg.acquire_frames)
            return self._output("reset", measured, True)
        return self._coast(measured)

    def _start(self, line: HorizonLine, scale: float, accepted: int) -> None:
        """A new track on this measurement, at rest."""
        cfg = self.config
        conf = line.confidence  # >= min_confidence > 0
        self._y = _ConstantVelocity(
            line.centre_y,
            cfg.measurement_noise_px * scale / conf,
            cfg.velocity_std_px * scale,
            cfg.process_noise_px * scale,
        )
        self._angle = _ConstantVelocity(
            line.angle_deg, cfg.measurement_noise_deg / conf, cfg.velocity_std_deg, cfg.process_noise_deg
        )
        self._accepted = accepted
        self._coasted = 0
        self._confidence = line.confidence
        self._run.clear()

    def _coast(self, measured: HorizonLine | None) -> TrackedLine:
        """A frame without an accepted measurement: keep the prediction, or lose the track."""
        self._coasted += 1
        if self._coasted > self.config.max_coast:
            size = self._size
            self.reset()
            self._size = size
            return TrackedLine("lost", None, measured, False)
        return self._output("coasting", measured, False)

    def _output(self, state: str, measured: HorizonLine | None, accepted: bool) -> TrackedLine:
        """The tracked line from the filters' state; its confidence fades while coasting."""
        assert self._y is not None and self._angle is not None and self._size is not None
        width, height = self._size
        angle = min(max(self._angle.value, -MAX_ANGLE_DEG), MAX_ANGLE_DEG)
        half_rise = 0.5 * (width - 1) * math.tan(math.radians(angle))
        fade = 1.0 - self._coasted / (self.config.max_coast + 1)
        line = HorizonLine(
            self._y.value - half_rise,
            self._y.value + half_rise,
            width,
            height,
            float(min(max(self._confidence * fade, 0.0), 1.0)),
        )
        return TrackedLine(state, line, measured, accepted)


def track_lines(
    lines: Iterable[HorizonLine | None], width: int, height: int, config: TrackerConfig | None = None
) -> list[TrackedLine]:
    """Track a whole sequence of fitted lines (frames of ``width`` x ``height`` px) with a new tracker."""
    tracker = HorizonTracker(config)
    return [tracker.update(line, width, height) for line in lines]


def step_stats(values: Sequence[float] | np.ndarray) -> dict:
    """Frame-to-frame |step| of a series (e.g. centre heights): median, p95, max and the std of the signed
    steps, over steps between two finite values; None for each when there is none."""
    steps = np.diff(np.asarray(values, dtype=np.float64))
    steps = steps[np.isfinite(steps)]
    if not len(steps):
        return {"median": None, "p95": None, "max": None, "std": None}
    return {
        "median": float(np.median(np.abs(steps))),
        "p95": float(np.percentile(np.abs(steps), 95)),
        "max": float(np.abs(steps).max()),
        "std": float(steps.std()),
    }
