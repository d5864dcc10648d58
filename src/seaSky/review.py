"""The review page of a run: ``python -m seaSky.review RUN_DIR`` writes ``RUN_DIR/review.html``.

One HTML file that opens from disk with no network (plotly.js is inlined) and can be mailed. It shows what
the run dir holds (:func:`run_kinds`; a folder with the outputs of two commands gets both):

- a sequence of ``seaSky.predict`` (a video, or a folder with ``sequence=true``; horizon.csv with a row per
  frame): the overlay video and below it a timeline of the horizon (height, angle, confidence, tracker
  state) with the suspect frames marked (jumps, low confidence, lost) and shown as thumbnails; a click on
  the timeline or on a thumbnail seeks the video;
- still frames of ``seaSky.predict`` (horizon.csv with a row per image): a grid of the overlays, the lowest
  confidence first;
- ``seaSky.evaluate``: the metrics, the per-image table (a click on a column sorts it) and worst.png (the
  error maps of the worst images);
- ``seaSky.check_footage``: its measures (footage.md), a per-frame timeline and worst.png.

No browser plays the codecs of predict's overlay.mp4 (MPEG-4 part 2) or overlay.avi (MJPG), so the page
plays a preview: the overlay re-encoded as VP8 WebM, at most ``video_width`` px wide and ``video_fps``
frames per second (every frame of a slower video). A preview of up to ``embed_video_mb`` MB is embedded in
the page; a larger one is written beside it as ``review.webm`` (the page says so; the timeline and the
thumbnails work without it). Thumbnails are JPEGs, :data:`IMAGE_BUDGET` bytes at most in all.

``review.html`` and ``review.webm`` are seaSky's outputs (named in the folder's manifest, written
atomically). The page is a view of the run dir's files, so ``seaSky.review`` writes it again whenever it is
run, without ``overwrite=true``; a ``review.html`` or ``review.webm`` that seaSky did not write is refused
(ConfigError), always. Plotly is imported only while a page is built: the commands that call
:func:`review_after_run` start as fast as before.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import logging
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import hydra
import numpy as np
from omegaconf import DictConfig

from seaSky.cli import run_cli, typed_text
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.io import atomic_write, earlier_outputs, record_outputs, recorded_outputs
from seaSky.paths import CONFIG_DIR

log = logging.getLogger(__name__)

PAGE = "review.html"
PREVIEW = "review.webm"
OUTPUTS = (PAGE, PREVIEW)  # all that seaSky.review writes into RUN_DIR
KINDS = ("video", "frames", "evaluate", "footage")
# the tracker's states (seaSky.tracker.STATES), from following to lost: the timeline's state axis
STATE_ORDER = ("tracking", "acquiring", "coasting", "reset", "lost")
SUSPECT_KINDS = ("jump", "low confidence", "lost")
SUSPECT_COLOURS = {"jump": "#d62728", "low confidence": "#ff7f0e", "lost": "#7f7f7f"}
MAX_POINTS = 20_000  # points per timeline trace; a longer run keeps each bucket's lowest and highest
MAX_MARKERS = 1_000  # suspect events marked on a timeline (the most severe)
MAX_TABLE_ROWS = 5_000  # rows of the per-image table
IMAGE_BUDGET = 3_000_000  # bytes of embedded thumbnails and sheets in one page
THUMB_WIDTH = 240  # px of a thumbnail
SHEET_WIDTH = 1400  # px: a larger worst.png is scaled down (and made a JPEG when that is smaller)


@dataclass(frozen=True)
class ReviewSettings:
    """What the page shows and how large it gets (conf/review.yaml has the same defaults).

    Attributes:
        jump_px: a frame-to-frame change of the fitted horizon's centre height above this is a jump.
        low_confidence: a fitted horizon below this confidence (or no fit while tracked) is suspect.
        max_images: overlays in the grid of still frames, and suspect thumbnails of a sequence.
        video_width: px width of the preview video at most.
        video_fps: frames per second of the preview at most (every k-th frame); None: every frame.
        embed_video_mb: a preview up to this size is embedded in the page, a larger one is review.webm.
    """

    jump_px: float = 5.0
    low_confidence: float = 0.5
    max_images: int = 120
    video_width: int = 320
    video_fps: float | None = 10.0
    embed_video_mb: float = 6.0

    def __post_init__(self) -> None:
        numbers = {"jump_px": self.jump_px, "low_confidence": self.low_confidence}
        numbers |= {"video_width": self.video_width, "embed_video_mb": self.embed_video_mb}
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{key} must be a number, got {value!r}")
        for key, value in (("max_images", self.max_images), ("video_width", self.video_width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{key} must be a whole number >= 0, got {value!r}")
        if self.jump_px <= 0:
            raise ConfigError(f"jump_px must be > 0, got {self.jump_px!r}")
        if not 0.0 <= self.low_confidence <= 1.0:
            raise ConfigError(f"low_confidence must lie in [0, 1], got {self.low_confidence!r}")
        if self.video_width < 16:
            raise ConfigError(f"video_width must be at least 16 px, got {self.video_width!r}")
        if self.embed_video_mb < 0:
            raise ConfigError(f"embed_video_mb must be >= 0, got {self.embed_video_mb!r}")
        fps = self.video_fps
        if fps is not None and (
            isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0
        ):
            raise ConfigError(f"video_fps must be a number > 0 or null, got {fps!r}")


# ----------------------------------------------------------------------------------------------- reading


def run_kinds(run_dir: str | Path) -> list[str]:
    """The kinds of run (of :data:`KINDS`) whose outputs ``run_dir`` holds, in page order."""
    run = Path(run_dir)
    kinds = []
    if (run / "horizon.csv").is_file():
        columns, _ = read_csv(run / "horizon.csv", rows=False)
        kinds.append("video" if {"frame", "state"} <= set(columns) else "frames")
    if (run / "per_image.csv").is_file() and (run / "results.json").is_file():
        kinds.append("evaluate")
    if (run / "footage.json").is_file() and (run / "frames.csv").is_file():
        kinds.append("footage")
    return kinds


def read_csv(path: Path, rows: bool = True) -> tuple[list[str], list[dict]]:
    """The header and (``rows``) the rows of a CSV written by seaSky; DataError naming it when unreadable."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            found = list(reader) if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: cannot be read as CSV ({err})") from None
    if not columns:
        raise DataError(f"{path}: empty (no header row)")
    return columns, found


def read_json(path: Path) -> dict:
    """A JSON object written by seaSky; DataError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot be read as JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a JSON object")
    return data


def numbers(rows: Sequence[dict], key: str) -> np.ndarray:
    """Column ``key`` of ``rows`` as floats; empty or unreadable cells are NaN."""
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        with suppress(ValueError):
            out[i] = float(row.get(key) or "nan")
    return out


def _require(path: Path, columns: Sequence[str], needed: Sequence[str]) -> None:
    missing = [name for name in needed if name not in columns]
    if missing:
        raise DataError(f"{path}: lacks the column(s) {', '.join(missing)}; not written by this seaSky")


# ------------------------------------------------------------------------------------- suspect frames


@dataclass(frozen=True)
class Suspect:
    """A run of consecutive suspect frames of one kind (positions in horizon.csv's row order)."""

    kind: str  # one of SUSPECT_KINDS
    start: int
    end: int  # inclusive
    at: int  # the frame shown: the largest jump, the lowest confidence, the first lost frame
    severity: float  # for ranking within a kind: px of the jump, missing confidence, frames lost
    detail: str


def suspect_frames(
    centre: np.ndarray, confidence: np.ndarray, states: Sequence[str], jump_px: float, low_confidence: float
) -> np.ndarray:
    """Per frame: "" or the kind of :data:`SUSPECT_KINDS` (lost before jump before low confidence).

    A jump: the fitted horizon's centre height moves more than ``jump_px`` from the frame before, or the
    tracker restarts there (``reset``). Low confidence: a fit below ``low_confidence``, or no fit while the
    tracker still holds a line. Lost: the tracker has no line.
    """
    n = len(centre)
    kinds = np.full(n, "", dtype=object)
    step = np.zeros(n)
    step[1:] = np.abs(np.diff(centre))
    states = np.asarray(states, dtype=object)
    low = ~(confidence >= low_confidence)  # NaN (no fit) counts as low
    kinds[low] = "low confidence"
    kinds[np.nan_to_num(step, nan=0.0) > jump_px] = "jump"
    kinds[states == "reset"] = "jump"
    kinds[states == "lost"] = "lost"
    return kinds


def suspect_events(
    kinds: np.ndarray, centre: np.ndarray, confidence: np.ndarray, fps: float
) -> list[Suspect]:
    """The runs of equal suspect kinds in ``kinds`` (of :func:`suspect_frames`), each with its worst frame."""
    events = []
    step = np.zeros(len(centre))
    step[1:] = np.abs(np.diff(centre))
    step = np.nan_to_num(step, nan=0.0)
    start = 0
    for i in range(1, len(kinds) + 1):
        if i < len(kinds) and kinds[i] == kinds[start]:
            continue
        kind, end = kinds[start], i - 1
        if kind:
            span = np.arange(start, end + 1)
            if kind == "jump":
                at = int(span[np.argmax(step[span])])
                severity = float(step[at])
                detail = f"jump {severity:.1f} px" if severity else "tracker restarted"
            elif kind == "low confidence":
                conf = np.nan_to_num(confidence[span], nan=0.0)
                at = int(span[np.argmin(conf)])
                severity = 1.0 - float(conf.min())
                detail = "no horizon fitted" if np.isnan(confidence[at]) else f"confidence {conf.min():.2f}"
            else:
                at, severity = start, float(end - start + 1)
                detail = f"lost for {end - start + 1} frames ({(end - start + 1) / fps:.1f} s)"
            if end > start and kind != "lost":
                detail += f" ({end - start + 1} frames)"
            events.append(Suspect(str(kind), start, end, at, severity, detail))
        start = i
    return events


def most_severe(events: Sequence[Suspect], n: int) -> list[Suspect]:
    """Up to ``n`` of ``events``, taking the most severe of each kind in turn (every kind is shown), in time
    order."""
    by_kind = {
        kind: sorted((e for e in events if e.kind == kind), key=lambda e: -e.severity)
        for kind in SUSPECT_KINDS
    }
    chosen: list[Suspect] = []
    rank = 0
    while len(chosen) < n and any(rank < len(found) for found in by_kind.values()):
        chosen += [found[rank] for found in by_kind.values() if rank < len(found)][: n - len(chosen)]
        rank += 1
    return sorted(chosen, key=lambda e: e.start)


def envelope(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of ``values`` to plot: all of them, or for a longer series each bucket's lowest and highest
    value (so no jump disappears) and its first gap (so a gap stays a gap)."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    size = math.ceil(2 * n / max_points)
    keep: list[int] = []
    for start in range(0, n, size):
        chunk = values[start : start + size]
        finite = np.isfinite(chunk)
        if not finite.any():
            keep.append(start)
            continue
        keep += [start + int(np.nanargmin(chunk)), start + int(np.nanargmax(chunk))]
        if not finite.all():
            keep.append(start + int(np.argmin(finite)))
    return np.unique(keep)


# ------------------------------------------------------------------------------------------- pictures


class Budget:
    """Bytes of pictures a page may still embed (:data:`IMAGE_BUDGET`)."""

    def __init__(self, limit: int = IMAGE_BUDGET) -> None:
        self.left = limit
        self.refused = 0

    def take(self, data: bytes) -> bool:
        """Whether ``data`` fits (then it is counted)."""
        if len(data) > self.left:
            self.refused += 1
            return False
        self.left -= len(data)
        return True


def jpeg(picture: np.ndarray, width: int = THUMB_WIDTH, quality: int = 80) -> bytes:
    """``picture`` (BGR or grey, 8-bit) scaled to ``width`` px (never up) as JPEG bytes."""
    if picture.shape[1] > width:
        height = max(1, round(picture.shape[0] * width / picture.shape[1]))
        picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError("JPEG encoding failed")
    return encoded.tobytes()


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def sheet_uri(path: Path, budget: Budget) -> str | None:
    """A sheet of seaSky's (worst.png) as a data URI: as is, or scaled to :data:`SHEET_WIDTH` px (PNG or
    JPEG, the smaller); None when it cannot be read or does not fit the budget."""
    data = path.read_bytes()
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if picture is None:
        log.warning("%s: cannot be read as an image; left out of the review page", path)
        return None
    mime = "image/png"
    if picture.shape[1] > SHEET_WIDTH or len(data) > IMAGE_BUDGET // 3:
        scaled = picture
        if picture.shape[1] > SHEET_WIDTH:
            height = round(picture.shape[0] * SHEET_WIDTH / picture.shape[1])
            scaled = cv2.resize(picture, (SHEET_WIDTH, height), interpolation=cv2.INTER_AREA)
        png = cv2.imencode(".png", scaled)[1].tobytes()
        small = jpeg(scaled, SHEET_WIDTH, quality=85)
        data, mime = (png, "image/png") if len(png) <= len(small) else (small, "image/jpeg")
    return data_uri(data, mime) if budget.take(data) else None


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C-level stderr (OpenCV's FFmpeg prints a harmless note on the WebM tag of VP8)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            sys.stderr.flush()
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass
class VideoPass:
    """What one pass over the overlay video gave: its rate and length, the thumbnails, the preview file."""

    fps: float
    frames: int
    thumbs: dict[int, bytes] = field(default_factory=dict)
    preview: Path | None = None  # the WebM written (a hidden file in the run dir), None when none could be


def read_overlay(video: Path, wanted: set[int], preview: Path | None, settings: ReviewSettings) -> VideoPass:
    """Read ``video`` once: thumbnails of the frames at the positions ``wanted`` and (``preview``: the path)
    a VP8 WebM preview of every k-th frame, ``settings.video_width`` px wide at most."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise DataError(f"{video}: cannot be opened as a video")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else 25.0
    step = max(1, math.ceil(fps / settings.video_fps - 1e-9)) if settings.video_fps else 1
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    result = VideoPass(fps, 0)
    writer: cv2.VideoWriter | None = None
    size: tuple[int, int] | None = None
    last_wanted = max(wanted, default=-1)
    started = time.perf_counter()
    try:
        position = 0
        while capture.grab():
            keep = preview is not None and position % step == 0
            if keep or position in wanted:
                ok, frame = capture.retrieve()
                if ok and frame is not None:
                    if frame.ndim == 2:
                        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                    if position in wanted:
                        result.thumbs[position] = jpeg(frame)
                    if keep and preview is not None:
                        if size is None:
                            width = min(settings.video_width, frame.shape[1]) // 2 * 2
                            size = (width, max(2, round(frame.shape[0] * width / frame.shape[1]) // 2 * 2))
                            with _quiet_stderr():
                                writer = cv2.VideoWriter(
                                    str(preview), cv2.VideoWriter.fourcc(*"VP80"), fps / step, size
                                )
                            if not writer.isOpened():
                                log.warning("this OpenCV cannot write VP8 WebM: the review page has no video")
                                writer, preview = None, None
                        if writer is not None:
                            writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
            position += 1
            if preview is None and position > last_wanted:
                break
        result.frames = position
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    if writer is not None:
        result.preview = preview
    log.info(
        "review: read %d of %d frames of %s in %.1f s",
        result.frames,
        total,
        video.name,
        time.perf_counter() - started,
    )
    return result


# ------------------------------------------------------------------------------------------- sections


@dataclass
class Section:
    """A part of the page: its HTML, its plotly figures (div id -> figure JSON) and its script."""

    id: str
    title: str
    html: str
    figures: dict[str, str] = field(default_factory=dict)
    script: str = ""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _clock(seconds: float) -> str:
    """``m:ss.ss`` (``h:mm:ss.s`` from an hour)."""
    if not math.isfinite(seconds):
        return "-"
    minutes, secs = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:05.2f}"


def _table(rows: Sequence[Sequence[object]], header: Sequence[str] = (), css: str = "facts") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<table class="{css}">'
        + (f"<thead><tr>{head}</tr></thead>" if head else "")
        + f"<tbody>{body}</tbody></table>"
    )


def _figure_json(fig: object) -> str:
    return fig.to_json()  # type: ignore[attr-defined]


def _base_layout(height: int) -> dict:
    return {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": 1.04, "x": 0, "yanchor": "bottom"},
    }


def find_overlay(run_dir: Path) -> Path | None:
    """The overlay video of a sequence run (overlay.mp4, or the .avi that replaces it), None when none."""
    for name in ("overlay.mp4", "overlay.avi"):
        if (run_dir / name).is_file() and (run_dir / name).stat().st_size > 0:
            return run_dir / name
    return None


def video_section(run_dir: Path, settings: ReviewSettings, budget: Budget) -> tuple[Section, Path | None]:
    """The sequence of a predict run: the video, the timeline, the suspect frames; and the preview written
    (a hidden WebM in ``run_dir``; the caller embeds it or moves it into place)."""
    from plotly.subplots import make_subplots

    path = run_dir / "horizon.csv"
    columns, rows = read_csv(path)
    _require(path, columns, ("frame", "timestamp_s", "y_left", "y_right", "angle_deg", "confidence", "state"))
    if not rows:
        raise DataError(f"{path}: no frames (an empty sequence run)")
    n = len(rows)
    centre = (numbers(rows, "y_left") + numbers(rows, "y_right")) / 2
    tracked = (numbers(rows, "tracked_y_left") + numbers(rows, "tracked_y_right")) / 2
    angle, tracked_angle = numbers(rows, "angle_deg"), numbers(rows, "tracked_angle_deg")
    confidence = numbers(rows, "confidence")
    states = [row["state"] for row in rows]
    stamps = numbers(rows, "timestamp_s")
    overlay = find_overlay(run_dir)
    fps = 25.0
    if overlay is not None:
        capture = cv2.VideoCapture(str(overlay))
        rate = capture.get(cv2.CAP_PROP_FPS)
        capture.release()
        fps = float(rate) if math.isfinite(rate) and 0 < rate <= 1000 else fps
    elif n > 1 and np.isfinite(stamps).all() and stamps[-1] > stamps[0]:
        fps = (n - 1) / (stamps[-1] - stamps[0])
    kinds = suspect_frames(centre, confidence, states, settings.jump_px, settings.low_confidence)
    events = suspect_events(kinds, centre, confidence, fps)
    shown = most_severe(events, settings.max_images)

    preview_tmp = run_dir / ".review.partial.webm" if overlay is not None else None
    pass_ = None
    if overlay is not None:
        pass_ = read_overlay(overlay, {e.at for e in shown}, preview_tmp, settings)
        if pass_.frames != n:
            log.warning(
                "%s has %d frames, %s %d rows: the timeline follows the rows",
                overlay.name,
                pass_.frames,
                path.name,
                n,
            )
    # x: seconds of the overlay video (row k is its frame k), or the rows' own timestamps without one
    x = np.arange(n) / fps if overlay is not None or not np.isfinite(stamps).all() else stamps
    pos = np.arange(n)

    fig = make_subplots(
        rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.025, row_heights=[0.32, 0.17, 0.17, 0.17, 0.17]
    )
    traces = (
        (1, centre, "fitted height", "#ffb000", 1),
        (1, tracked, "tracked height", "#d62728", 2),
        (2, angle, "fitted angle", "#ffb000", 1),
        (2, tracked_angle, "tracked angle", "#d62728", 2),
        (3, confidence, "confidence", "#1f77b4", 1.5),
    )
    for row, values, name, colour, width in traces:
        keep = envelope(values)
        fig.add_scatter(
            x=np.round(x[keep], 4),
            y=np.round(values[keep], 3),
            customdata=pos[keep],
            name=name,
            mode="lines",
            line={"color": colour, "width": width},
            connectgaps=False,
            row=row,
            col=1,
            showlegend=row == 1,
            hovertemplate=f"{name} %{{y}}<br>%{{x:.2f}} s, frame %{{customdata}}<extra></extra>",
        )
    code = np.array(
        [STATE_ORDER.index(s) if s in STATE_ORDER else len(STATE_ORDER) - 1 for s in states], float
    )
    keep = envelope(code)
    fig.add_scatter(
        x=np.round(x[keep], 4),
        y=[STATE_ORDER[int(c)] for c in code[keep]],
        customdata=pos[keep],
        name="tracker state",
        mode="lines",
        line={"color": "#2ca02c", "width": 1.5, "shape": "hv"},
        showlegend=False,
        row=4,
        col=1,
        hovertemplate="%{y}<br>%{x:.2f} s, frame %{customdata}<extra></extra>",
    )
    marked = sorted(sorted(events, key=lambda e: -e.severity)[:MAX_MARKERS], key=lambda e: e.start)
    for kind in SUSPECT_KINDS:
        found = [e for e in marked if e.kind == kind]
        fig.add_scatter(
            x=[round(float(x[e.at]), 4) for e in found],
            y=[kind] * len(found),
            customdata=[e.at for e in found],
            text=[f"{e.detail}, frames {e.start}-{e.end}" if e.end > e.start else e.detail for e in found],
            name=kind,
            mode="markers",
            marker={
                "color": SUSPECT_COLOURS[kind],
                "size": 9,
                "symbol": "line-ns-open",
                "line": {"width": 3, "color": SUSPECT_COLOURS[kind]},
            },
            row=5,
            col=1,
            legendgroup="suspect",
            hovertemplate="%{text}<br>%{x:.2f} s, frame %{customdata}<extra></extra>",
        )
    layout = _base_layout(760)
    layout["shapes"] = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": 0,
            "x1": 0,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#111", "width": 1.5},
        },
    ]
    fig.update_layout(**layout)
    fig.update_yaxes(title_text="height (px)", autorange="reversed", row=1, col=1)
    fig.update_yaxes(title_text="angle (deg)", row=2, col=1)
    fig.update_yaxes(title_text="confidence", range=[-0.03, 1.03], row=3, col=1)
    fig.add_hline(
        y=settings.low_confidence, line={"dash": "dot", "color": "#ff7f0e", "width": 1}, row=3, col=1
    )
    for row, categories in ((4, STATE_ORDER), (5, SUSPECT_KINDS)):  # every category shown, also unused ones
        fig.update_yaxes(
            type="category", categoryorder="array", categoryarray=list(categories),
            range=[-0.5, len(categories) - 0.5], row=row, col=1,
        )  # fmt: skip
    fig.update_xaxes(title_text="video time (s)" if overlay is not None else "time (s)", row=5, col=1)

    counts = Counter(e.kind for e in events)
    frames_of = Counter(str(k) for k in kinds if k)
    state_counts = Counter(states)
    facts = [
        ("frames", f"{n} ({_clock(x[-1] if n else 0.0)} at {fps:.3g} frames/s)"),
        ("tracker states", ", ".join(f"{s} {state_counts[s]}" for s in STATE_ORDER if state_counts[s])),
    ]
    facts += [
        (f"suspect: {kind}", f"{counts[kind]} times, {frames_of[kind]} frames") for kind in SUSPECT_KINDS
    ]
    facts.append(("thresholds", f"jump > {settings.jump_px:g} px, confidence < {settings.low_confidence:g}"))
    cards = []
    for event in shown:
        thumb = pass_.thumbs.get(event.at) if pass_ is not None else None
        image = (
            f'<img alt="frame {event.at}" src="{data_uri(thumb, "image/jpeg")}">'
            if thumb is not None and budget.take(thumb)
            else '<div class="nothumb">no picture</div>'
        )
        name = rows[event.at].get("name", "")
        cards.append(
            f'<figure class="card {event.kind.replace(" ", "-")}" data-pos="{event.at}" '
            f'title="seek the video to this frame">{image}<figcaption><b>{_esc(event.detail)}</b><br>'
            f"frame {_esc(rows[event.at]['frame'])} {_esc(name)} &middot; {_clock(float(x[event.at]))}"
            "</figcaption></figure>"
        )
    if overlay is None:
        player = (
            '<p class="note">No overlay video in this run (predict with <code>overlay=false</code>): the '
            "timeline has no video to seek and the suspect frames have no pictures.</p>"
        )
    else:
        player = (
            '<div class="video-box">'
            '<video id="overlay-video" controls muted preload="auto" src="@VIDEO_SRC@"></video>'
            '<p class="note" id="video-note">@VIDEO_NOTE@</p></div>'
        )
    more = len(events) - len(shown)
    body = (
        f'<div class="player">{player}<p class="hint">Click the timeline below (or a suspect frame further '
        "down) to seek the video there; the black line on the timeline follows the video. Drag to zoom, "
        "double-click to zoom out.</p></div>"
        + '<div id="timeline" class="plot"></div>'
        + _table(facts)
        + f"<h3>Suspect frames ({len(shown)} of {len(events)}"
        + (", the most severe of each kind" if more > 0 else "")
        + ")</h3>"
        + (
            f'<div class="grid">{"".join(cards)}</div>'
            if cards
            else "<p>None: no jumps, low confidence or lost frames.</p>"
        )
    )
    script = VIDEO_SCRIPT.replace("@FPS@", json.dumps(fps))
    section = Section(
        "video",
        "Sequence: the overlay video and the horizon over time",
        body,
        {"timeline": _figure_json(fig)},
        script,
    )
    return section, pass_.preview if pass_ is not None else None


def frames_section(run_dir: Path, settings: ReviewSettings, budget: Budget) -> Section:
    """Still frames of a predict run: the overlays in a grid, the lowest confidence first."""
    path = run_dir / "horizon.csv"
    columns, rows = read_csv(path)
    _require(path, columns, ("stem", "y_left", "y_right", "angle_deg", "confidence"))
    confidence = numbers(rows, "confidence")
    angle = numbers(rows, "angle_deg")
    order = sorted(range(len(rows)), key=lambda i: (np.nan_to_num(confidence[i], nan=-1.0), rows[i]["stem"]))
    folder = next((run_dir / name for name in ("overlays", "masks") if (run_dir / name).is_dir()), None)
    cards, shown = [], 0
    for rank, i in enumerate(order[: settings.max_images]):
        stem = rows[i]["stem"]
        picture = cv2.imread(str(folder / f"{stem}.png"), cv2.IMREAD_COLOR) if folder else None
        thumb = jpeg(picture) if picture is not None else None
        if thumb is None or not budget.take(thumb):
            continue
        shown += 1
        conf = "no horizon" if np.isnan(confidence[i]) else f"confidence {confidence[i]:.2f}"
        tilt = "" if np.isnan(angle[i]) else f", angle {angle[i]:.2f}&deg;"
        cards.append(
            f'<figure class="card" id="frame-{rank}">'
            f'<img alt="{_esc(stem)}" src="{data_uri(thumb, "image/jpeg")}">'
            f"<figcaption><b>{_esc(stem)}</b><br>{conf}{tilt}</figcaption></figure>"
        )
    fig = _ranked_figure(
        [np.nan_to_num(confidence[i], nan=0.0) for i in order],
        [rows[i]["stem"] for i in order],
        "confidence",
        "frames, lowest confidence first",
        [bool(np.isnan(confidence[i])) for i in order],
    )
    with_line = int(np.isfinite(confidence).sum())
    facts = [
        ("frames", len(rows)),
        ("with a horizon", f"{with_line} ({with_line / max(1, len(rows)):.0%})"),
        ("confidence median", f"{np.nanmedian(confidence):.3f}" if with_line else "-"),
        (f"below {settings.low_confidence:g}", int((confidence < settings.low_confidence).sum())),
    ]
    note = ""
    if folder is None:
        note = '<p class="note">No overlays/ nor masks/ in this run: no pictures.</p>'
    elif folder.name == "masks":
        note = (
            '<p class="note">No overlays/ (predict with <code>overlay=false</code>): the masks are shown.</p>'
        )
    if shown < len(rows):
        note += f'<p class="note">{shown} of {len(rows)} frames shown (the lowest confidence first).</p>'
    body = (
        _table(facts)
        + '<div id="ranked-frames" class="plot"></div>'
        + '<p class="hint">Click a point to go to its frame below.</p>'
        + note
        + f'<div class="grid">{"".join(cards)}</div>'
    )
    script = "linkRanked('ranked-frames', 'frame-');"
    return Section(
        "frames", "Still frames: overlays, lowest confidence first", body, {"ranked-frames": fig}, script
    )


def _ranked_figure(
    values: Sequence[float], names: Sequence[str], label: str, xlabel: str, flagged: Sequence[bool] = ()
) -> str:
    """A scatter of ``values`` in the given order (x: rank), hover names, the ``flagged`` ones in grey."""
    import plotly.graph_objects as go

    ranks = np.arange(len(values))
    flagged = np.asarray(flagged if len(flagged) else [False] * len(values), bool)
    fig = go.Figure()
    for mask, name, colour in ((~flagged, label, "#1f77b4"), (flagged, "no horizon", "#7f7f7f")):
        if mask.any():
            fig.add_scatter(
                x=ranks[mask],
                y=np.round(np.asarray(values, float)[mask], 4),
                customdata=ranks[mask],
                text=[names[i] for i in ranks[mask]],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 6},
                hovertemplate="%{text}: %{y}<extra></extra>",
            )
    fig.update_layout(**_base_layout(300), xaxis_title=xlabel, yaxis_title=label)
    return _figure_json(fig)


def evaluate_section(run_dir: Path, settings: ReviewSettings, budget: Budget) -> Section:
    """An evaluate run: the metrics, the per-image table (sortable) and worst.png's error maps."""
    results = read_json(run_dir / "results.json")
    path = run_dir / "per_image.csv"
    columns, rows = read_csv(path)
    _require(path, columns, ("stem", "wrong_px", "dice"))
    wrong = numbers(rows, "wrong_px")
    order = sorted(range(len(rows)), key=lambda i: (-np.nan_to_num(wrong[i], nan=-1.0), rows[i]["stem"]))
    facts = [(key, f"{value:.4f}" if isinstance(value, float) else value) for key, value in results.items()]
    head = "".join(f"<th>{_esc(c)}</th>" for c in ["#", *columns])
    body_rows = []
    for rank, i in enumerate(order[:MAX_TABLE_ROWS]):
        cells = "".join(f"<td>{_esc(rows[i].get(c, ''))}</td>" for c in columns)
        body_rows.append(f'<tr id="image-{rank}"><td>{rank + 1}</td>{cells}</tr>')
    table = (
        f'<table class="sortable data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body_rows)}</tbody></table>"
    )
    fig = _ranked_figure(
        [wrong[i] for i in order],
        [rows[i]["stem"] for i in order],
        "wrong pixels",
        "images, most wrong pixels first",
    )
    sheet = sheet_uri(run_dir / "worst.png", budget) if (run_dir / "worst.png").is_file() else None
    worst = (
        f'<img class="sheet" alt="worst.png" src="{sheet}">' if sheet else '<p class="note">No worst.png.</p>'
    )
    more = f" (the first {MAX_TABLE_ROWS} of {len(rows)})" if len(rows) > MAX_TABLE_ROWS else ""
    html_ = (
        _table(facts, ("metric", "value"))
        + '<div id="ranked-images" class="plot"></div>'
        + f"<h3>Per image{more}: click a column to sort</h3>"
        + f'<div class="scroll">{table}</div>'
        + "<h3>The worst images: image, truth, prediction, errors (worst.png)</h3>"
        + worst
    )
    return Section(
        "evaluate",
        "Evaluation: metrics and the worst images",
        html_,
        {"ranked-images": fig},
        "linkRanked('ranked-images', 'image-');",
    )


def footage_measures(path: Path) -> list[tuple[str, str]]:
    """The (check, value) rows of footage.md's table."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 2 and cells[0] not in ("check", "---") and not set(cells[0]) <= {"-"}:
            found.append((cells[0], cells[1]))
    return found


def footage_section(run_dir: Path, settings: ReviewSettings, budget: Budget) -> Section:
    """A check_footage run: its measures, a per-frame timeline with the jumps marked, worst.png."""
    from plotly.subplots import make_subplots

    summary = read_json(run_dir / "footage.json")
    path = run_dir / "frames.csv"
    columns, rows = read_csv(path)
    _require(path, columns, ("stem", "centre_y", "angle_deg", "confidence", "step_dy_px", "mirror_dice"))
    jump_px = float(summary.get("jump_px", settings.jump_px))
    x = np.arange(len(rows))
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.03)
    series = (
        (1, "centre_y", "height (px)", "#d62728"),
        (2, "angle_deg", "angle (deg)", "#d62728"),
        (3, "confidence", "confidence", "#1f77b4"),
        (3, "mirror_dice", "mirror Dice", "#9467bd"),
        (4, "problem_score", "problem score", "#7f7f7f"),
    )
    for row, key, label, colour in series:
        values = numbers(rows, key)
        keep = envelope(values)
        fig.add_scatter(
            x=x[keep],
            y=np.round(values[keep], 4),
            name=label,
            mode="lines",
            line={"color": colour, "width": 1.5},
            row=row,
            col=1,
            hovertemplate=f"{label} %{{y}}<br>frame %{{x}}<extra></extra>",
        )
    centre, step = numbers(rows, "centre_y"), numbers(rows, "step_dy_px")
    jumps = np.flatnonzero(np.nan_to_num(step, nan=0.0) > jump_px)[:MAX_MARKERS]
    fig.add_scatter(
        x=jumps,
        y=centre[jumps],
        mode="markers",
        name=f"jump > {jump_px:g} px",
        row=1,
        col=1,
        marker={"color": SUSPECT_COLOURS["jump"], "size": 9, "symbol": "x"},
        text=[f"{rows[i]['stem']}: jump {step[i]:.1f} px" for i in jumps],
        hovertemplate="%{text}<extra></extra>",
    )
    fig.update_layout(**_base_layout(620))
    fig.update_yaxes(title_text="height (px)", autorange="reversed", row=1, col=1)
    fig.update_yaxes(title_text="angle (deg)", row=2, col=1)
    fig.update_yaxes(title_text="conf. / Dice", range=[-0.03, 1.03], row=3, col=1)
    fig.update_yaxes(title_text="problem", row=4, col=1)
    fig.update_xaxes(title_text="frame", row=4, col=1)
    measures = footage_measures(run_dir / "footage.md") if (run_dir / "footage.md").is_file() else []
    if not measures:
        measures = [(k, json.dumps(v)) for k, v in summary.items()]
    sheet = sheet_uri(run_dir / "worst.png", budget) if (run_dir / "worst.png").is_file() else None
    worst = (
        f'<img class="sheet" alt="worst.png" src="{sheet}">' if sheet else '<p class="note">No worst.png.</p>'
    )
    body = (
        f"<p>Input: <code>{_esc(summary.get('input', '?'))}</code></p>"
        + _table(measures, ("check", "value"))
        + '<div id="footage-timeline" class="plot"></div>'
        + "<h3>The most suspect frames (worst.png)</h3>"
        + worst
    )
    return Section("footage", "Label-free checks of footage", body, {"footage-timeline": _figure_json(fig)})


# ------------------------------------------------------------------------------------------------ page


def page(run_dir: Path, sections: Sequence[Section]) -> str:
    """The whole HTML page: plotly.js inlined, the sections, their figures and scripts."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    figures = {fid: json.loads(text) for s in sections for fid, text in s.figures.items()}
    nav = " &middot; ".join(f'<a href="#{s.id}">{_esc(s.title)}</a>' for s in sections)
    parts = "".join(f'<section id="{s.id}"><h2>{_esc(s.title)}</h2>{s.html}</section>' for s in sections)
    scripts = "\n".join(s.script for s in sections if s.script)
    data = json.dumps(figures, separators=(",", ":")).replace("</", "<\\/")
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return (
        TEMPLATE.replace("@TITLE@", _esc(f"seaSky review: {run_dir.resolve().name}"))
        .replace("@RUN_DIR@", _esc(run_dir.resolve()))
        .replace("@STAMP@", _esc(stamp))
        .replace("@NAV@", nav)
        .replace("@PLOTLY_VERSION@", _esc(get_plotlyjs_version()))
        .replace("@SECTIONS@", parts)
        .replace("@FIGURES@", data)
        .replace("@SCRIPTS@", scripts)
        .replace("@PLOTLYJS@", get_plotlyjs().replace("</script", "<\\/script"))
    )


def check_review(run_dir: str | Path, review: object = True) -> bool:
    """Before a run: ``review`` as a bool (ConfigError unless true or false) and, when true, a ConfigError
    for a review.html or review.webm in ``run_dir`` that seaSky did not write."""
    if not isinstance(review, bool):
        raise ConfigError(f"review must be true or false, got {review!r}")
    if review and Path(run_dir).is_dir():
        earlier_outputs(run_dir, OUTPUTS, overwrite=True, other="folder")
    return review


def write_review(run_dir: str | Path, settings: ReviewSettings | None = None) -> Path:
    """Write ``run_dir/review.html`` (and, for a long video, ``review.webm``) from the run's outputs; return
    the page's path. DataError for a folder without seaSky outputs to review, ConfigError for a page that
    seaSky did not write."""
    settings = settings or ReviewSettings()
    run = Path(str(run_dir))
    if not run.is_dir():
        raise DataError(f"{run}: not a folder" if run.exists() else f"{run}: no such folder")
    check_review(run, True)
    kinds = run_kinds(run)
    if not kinds:
        raise DataError(
            f"{run}: holds no seaSky outputs to review (horizon.csv of predict, per_image.csv and "
            "results.json of evaluate, footage.json and frames.csv of check_footage)"
        )
    started = time.perf_counter()
    budget = Budget()
    record_outputs(run, OUTPUTS)
    sections: list[Section] = []
    preview: Path | None = None
    try:
        for kind in kinds:
            if kind == "video":
                section, preview = video_section(run, settings, budget)
                sections.append(section)
            else:
                builder = {"frames": frames_section, "evaluate": evaluate_section, "footage": footage_section}
                sections.append(builder[kind](run, settings, budget))
        embedded = False
        if sections[0].id == "video" and "@VIDEO_SRC@" in sections[0].html:
            embedded = _place_video(run, sections[0], preview, settings)
        text = page(run, sections)
        path = atomic_write(run / PAGE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    finally:
        if preview is not None:
            preview.unlink(missing_ok=True)
    if (preview is None or embedded) and PREVIEW in recorded_outputs(run):
        (run / PREVIEW).unlink(missing_ok=True)  # an earlier run's preview: this page does not use it
    log.info(
        "review page (%s): %s, %.1f MB, in %.1f s",
        ", ".join(kinds),
        path,
        path.stat().st_size / 1e6,
        time.perf_counter() - started,
    )
    return path


def _place_video(run: Path, section: Section, preview: Path | None, settings: ReviewSettings) -> bool:
    """Point the page's video at the preview: embedded when small enough (True), else review.webm beside."""
    overlay = find_overlay(run)
    name = overlay.name if overlay else "the overlay"
    if preview is None or not preview.is_file():
        src = ""
        note = (
            f"No browser plays {name}, and this OpenCV cannot write a WebM preview: open {name} in a player."
        )
        embedded = False
    elif preview.stat().st_size <= settings.embed_video_mb * 1e6:
        src, embedded = data_uri(preview.read_bytes(), "video/webm"), True
        note = f"A preview of {name} (VP8 WebM, embedded in this page)."
    else:
        os.replace(preview, run / PREVIEW)
        src, embedded = PREVIEW, False
        note = (
            f"A preview of {name}, in {PREVIEW} beside this page ({(run / PREVIEW).stat().st_size / 1e6:.0f} "
            f"MB, too large to embed): keep the two together (the timeline and thumbnails work without it)."
        )
    section.html = section.html.replace("@VIDEO_SRC@", src).replace("@VIDEO_NOTE@", _esc(note))
    return embedded


def review_after_run(run_dir: str | Path, review: bool, overwrite: bool = False) -> Path | None:
    """The end of predict, evaluate and check_footage: write the review page (``review``), or with
    ``overwrite`` and not ``review`` delete seaSky's earlier page (it shows outputs just replaced)."""
    if review:
        return write_review(run_dir)
    if overwrite:
        ours = recorded_outputs(run_dir)
        for name in OUTPUTS:
            if name in ours:
                (Path(str(run_dir)) / name).unlink(missing_ok=True)
    return None


def settings_of(cfg: DictConfig) -> ReviewSettings:
    """The ReviewSettings of a review.yaml config (ConfigError for a value out of range)."""
    return ReviewSettings(**{key: cfg[key] for key in ReviewSettings.__dataclass_fields__})


def positional_run_dir(args: Sequence[str]) -> list[str]:
    """Hydra's arguments with the first bare one (no ``=``, not an option) read as ``run_dir=`` (quoted
    where Hydra would misread it): ``python -m seaSky.review OUT`` works as the issue writes it."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg.startswith("-") or "=" in arg:
            continue
        if re.fullmatch(r"[\w./~:+@-]+", arg):
            out[i] = f"run_dir={arg}"
        else:
            out[i] = "run_dir='" + arg.replace("\\", "\\\\").replace("'", "\\'") + "'"
        break
    return out


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="review")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        run_dir = typed_text(cfg, "run_dir")
        if run_dir is None or not str(run_dir).strip():
            raise ConfigError(
                "run_dir: no value given; pass the run's folder: python -m seaSky.review RUN_DIR"
            )
        write_review(run_dir, settings_of(cfg))


VIDEO_SCRIPT = """
(function () {
  const video = document.getElementById('overlay-video');
  const timeline = document.getElementById('timeline');
  const fps = @FPS@;  // frames per second of the overlay video: row k of horizon.csv is its frame k
  function mark(t) { Plotly.relayout(timeline, {'shapes[0].x0': t, 'shapes[0].x1': t}); }
  function seek(pos) {
    const t = (pos + 0.5) / fps;
    mark(t);
    if (!video || !video.getAttribute('src')) return;
    video.pause();
    video.currentTime = t;
    video.scrollIntoView({block: 'nearest'});
  }
  timeline.on('plotly_click', function (ev) {
    if (ev.points.length && ev.points[0].customdata !== undefined) seek(Number(ev.points[0].customdata));
  });
  document.querySelectorAll('#video [data-pos]').forEach(function (el) {
    el.addEventListener('click', function () { seek(Number(el.dataset.pos)); });
  });
  if (video) {
    video.addEventListener('timeupdate', function () { mark(video.currentTime); });
    video.addEventListener('error', function () {
      document.getElementById('video-note').textContent = 'The video cannot be played here (' +
        (video.getAttribute('src') || 'none') + ' missing or unreadable); the timeline and pictures work.';
    });
  }
  window.seaSkyReview.seek = seek;
})();
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 16px 40px; color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 8px; }
h1 { font-size: 1.5em; margin: 16px 0 4px; } h2 { font-size: 1.25em; margin-top: 28px; }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
.meta, .hint, .note { color: #666; font-size: 0.9em; }
.note { background: #fff8e1; padding: 4px 8px; border-radius: 4px; margin: 4px 0; }
table { border-collapse: collapse; font-size: 0.88em; margin: 6px 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
table.facts td:first-child { color: #555; }
table.sortable th { cursor: pointer; background: #f4f4f4; position: sticky; top: 0; }
table.sortable th[data-order="asc"]::after { content: " \\25B2"; }
table.sortable th[data-order="desc"]::after { content: " \\25BC"; }
tr.hit td { background: #fff3b0; }
.scroll { max-height: 480px; overflow: auto; }
.player { display: flex; flex-wrap: wrap; gap: 0 16px; align-items: flex-start; }
.player .hint { flex: 1 1 200px; margin-top: 0; }
.video-box { flex: 0 1 auto; min-width: 0; max-width: 640px; }
/* small enough that the timeline below shows on the first screen */
.player video { height: 36vh; min-height: 160px; max-height: 512px; width: auto; max-width: 100%;
                margin-bottom: 4px; background: #000; display: block; }
.plot { width: 100%; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; }
.card { margin: 0; width: 240px; border: 1px solid #ddd; border-radius: 4px; overflow: hidden;
        font-size: 0.8em; cursor: pointer; }
.card img { width: 100%; display: block; } .card figcaption { padding: 3px 6px; }
.card.jump { border-left: 4px solid #d62728; } .card.low-confidence { border-left: 4px solid #ff7f0e; }
.card.lost { border-left: 4px solid #7f7f7f; } .card.hit { outline: 3px solid #f0c000; }
.nothumb { height: 60px; background: #eee; color: #888; text-align: center; line-height: 60px; }
img.sheet { max-width: 100%; border: 1px solid #ddd; }
code { background: #f4f4f4; padding: 0 3px; }
</style>
<script>/* plotly.js @PLOTLY_VERSION@ (MIT licence), inlined so that the page works offline */
@PLOTLYJS@</script>
</head>
<body>
<header>
<h1>@TITLE@</h1>
<p class="meta">Run dir <code>@RUN_DIR@</code> &middot; written @STAMP@ by
<code>python -m seaSky.review</code> &middot; @NAV@</p>
</header>
@SECTIONS@
<script>
window.seaSkyReview = {};
const FIGURES = @FIGURES@;
const PLOT_CONFIG = {responsive: true, displaylogo: false};
for (const [id, fig] of Object.entries(FIGURES)) Plotly.newPlot(id, fig.data, fig.layout, PLOT_CONFIG);
function linkRanked(plotId, prefix) {
  document.getElementById(plotId).on('plotly_click', function (ev) {
    if (!ev.points.length) return;
    const target = document.getElementById(prefix + ev.points[0].customdata);
    if (!target) return;
    document.querySelectorAll('.hit').forEach(function (el) { el.classList.remove('hit'); });
    target.classList.add('hit');
    target.scrollIntoView({block: 'center'});
  });
}
function sortTable(table, column, th) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const asc = th.dataset.order !== 'asc';
  table.querySelectorAll('th').forEach(function (h) { delete h.dataset.order; });
  th.dataset.order = asc ? 'asc' : 'desc';
  const key = function (row) {
    const text = row.cells[column].textContent.trim();
    const value = parseFloat(text);
    return text === '' ? null : (isNaN(value) ? text : value);
  };
  rows.sort(function (a, b) {
    const x = key(a), y = key(b);
    if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);  // empty cells last
    const c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
    return asc ? c : -c;
  });
  body.append.apply(body, rows);
}
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () { sortTable(table, column, th); });
  });
});
@SCRIPTS@
</script>
</body>
</html>
"""


if __name__ == "__main__":
    sys.argv[1:] = positional_run_dir(sys.argv[1:])
    run_cli(main)
