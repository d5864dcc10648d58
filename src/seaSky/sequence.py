"""Predict a sequence of frames: a video file, a camera, a stream, or a folder of frames taken in order.

Per frame the network's mask and fitted horizon, and the horizon tracked over time
(:class:`seaSky.tracker.HorizonTracker`); written into ``OUT``:

- ``horizon.csv``: one row per frame (:data:`SEQUENCE_COLUMNS`): index, timestamp, the raw fitted line, the
  tracked line and the tracker's state (``coasting`` and ``reset`` flag the frames it did not simply follow);
- ``overlay.mp4`` (``overlay=true``): the frame, sea tinted blue, the raw line thin amber, the tracked red;
- masks only when asked: ``save_masks=png`` (``masks/<frame>.png``, 255 = sea) or ``video``
  (``masks.mkv``, lossless FFV1).

The stages overlap: a reader thread decodes a video ahead (:func:`seaSky.video.open_frames`; a folder's
frames are read in the main thread), the main thread runs
the normalisation, the network, the horizon fit and the tracker, and a writer thread draws and encodes the
overlays and writes the masks and rows. Ctrl-C (or SIGTERM) stops at the current frame: every frame
finished so far stays written and readable (the CSV and videos are closed and moved into place).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from seaSky.data.folder import read_image
from seaSky.data.preprocess import normalize_image, resize_image
from seaSky.errors import ConfigError, DataError, one_line
from seaSky.frames import check_size, frame_order_key
from seaSky.inference import Prediction, Predictor
from seaSky.io import atomic_write
from seaSky.tracker import HorizonTracker, TrackedLine, TrackerConfig
from seaSky.video import VideoWriter, is_video, open_frames
from seaSky.viz import overlay_frame

log = logging.getLogger(__name__)

SEQUENCE_COLUMNS = (
    "frame", "timestamp_s", "name", "y_left", "y_right", "angle_deg", "confidence",
    "tracked_y_left", "tracked_y_right", "tracked_angle_deg", "tracked_confidence", "state",
)  # fmt: skip
MASK_FORMATS = ("false", "png", "video")
FOLDER_FPS = 25.0  # frame rate of a folder of frames when ``fps`` is not given
FLUSH_EVERY = 25  # horizon.csv rows written to disk at least this often


@dataclass
class SequenceSummary:
    """What a sequence run did: frames predicted, seconds, the tracker states, whether it was stopped."""

    frames: int = 0
    seconds: float = 0.0
    states: Counter = field(default_factory=Counter)
    interrupted: str | None = None  # "SIGINT" / "SIGTERM" when stopped early
    outputs: list[Path] = field(default_factory=list)
    frame_size: tuple[int, int] | None = None  # (height, width) of the first frame

    @property
    def fps(self) -> float:
        """End-to-end frames per second (reading to writing)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class SequenceSource:
    """Frames to predict in order: (index, timestamp_s, frame, name) items and what is known ahead."""

    frames: Iterator[tuple[int, float, np.ndarray, str]]
    name: str
    fps: float
    total: int | None  # None: a live source, or a container that does not say
    live: bool
    close: object = None  # callable that releases the source


def is_stream(source: str | int) -> bool:
    """A camera index (``0``; a file or folder of that name is taken as such) or a stream URL."""
    text = str(source).strip()
    return (text.isdigit() and not Path(text).exists()) or "://" in text


def is_sequence_input(source: str | int, sequence: bool) -> bool:
    """Whether ``predict`` treats ``source`` as a sequence: a video file, a camera, a stream, or a folder with
    ``sequence=true``."""
    return is_stream(source) or is_video(str(source)) or (bool(sequence) and Path(str(source)).is_dir())


def open_sequence(source: str | int, paths: Sequence[Path] = (), fps: float | None = None) -> SequenceSource:
    """Open a video, camera or stream (``paths`` empty), or the folder frames ``paths`` (in order, at ``fps``
    or :data:`FOLDER_FPS`)."""
    check_fps(fps)
    if paths:
        rate = float(fps or FOLDER_FPS)
        frames = _folder_frames(in_frame_order(paths), rate)
        return SequenceSource(frames, str(source), rate, len(paths), live=False)
    # a live source: at most 2 frames wait (the oldest is dropped), so the predictions stay current
    frames = open_frames(source, queue_size=2 if is_stream(source) else 8)
    rate = float(fps) if fps else frames.fps
    items = ((index, stamp, frame, f"{index:06d}") for index, stamp, frame in frames)
    return SequenceSource(items, frames.name, rate, frames.frame_count, frames.live, close=frames.close)


def in_frame_order(paths: Sequence[Path]) -> list[Path]:
    """Folder frames in time order: :func:`seaSky.frames.frame_order_key` (numbers by value, ``f_2``
    before ``f_10``), the rule of every sequence reader."""
    return sorted(paths, key=frame_order_key)


def check_fps(fps: object) -> None:
    """ConfigError unless ``fps`` is None or a finite number > 0."""
    ok = fps is None or (
        isinstance(fps, (int, float)) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0
    )
    if not ok:
        raise ConfigError(f"fps must be a finite number > 0 or null, got {fps!r}")


def mask_format(save_masks: object) -> str:
    """``false``, ``png`` or ``video`` for a ``save_masks`` setting (true: png); ConfigError otherwise."""
    found = {True: "png", False: "false", None: "false"}.get(save_masks, str(save_masks).lower())
    if found not in MASK_FORMATS:
        raise ConfigError(f"save_masks must be one of false, png, video; got {save_masks!r}")
    return found


def _folder_frames(paths: Sequence[Path], fps: float) -> Iterator[tuple[int, float, np.ndarray, str]]:
    """The readable frames of a folder in order; index = position in the folder, timestamp = index / fps."""
    for index, path in enumerate(paths):
        try:
            image = read_image(path)
            check_size(path, image)
        except DataError as err:
            log.warning("skipped: %s", err)
            continue
        yield index, index / fps, image, path.stem


def _number(value: float | None, digits: int) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def sequence_row(index: int, stamp: float, name: str, result: Prediction, tracked: TrackedLine) -> dict:
    """One horizon.csv row of a sequence; a missing line leaves its cells empty."""
    raw, line = result.horizon, tracked.line
    return {
        "frame": index,
        "timestamp_s": f"{stamp:.4f}",
        "name": name,
        "y_left": _number(raw.y_left if raw else None, 2),
        "y_right": _number(raw.y_right if raw else None, 2),
        "angle_deg": _number(raw.angle_deg if raw else None, 3),
        "confidence": _number(raw.confidence if raw else None, 3),
        "tracked_y_left": _number(line.y_left if line else None, 2),
        "tracked_y_right": _number(line.y_right if line else None, 2),
        "tracked_angle_deg": _number(line.angle_deg if line else None, 3),
        "tracked_confidence": _number(line.confidence if line else None, 3),
        "state": tracked.state,
    }


class SequenceWriter:
    """Writes a sequence's outputs in a background thread, in frame order, each file moved into place when
    closed (also after an error or Ctrl-C: the frames written so far stay readable).

    Args:
        out: the output folder.
        fps: frame rate of the videos written.
        overlay: write ``overlay.mp4``.
        save_masks: ``false``, ``png`` or ``video``.
        queue_size: frames waiting for the writer at most (the predicting thread waits beyond).
    """

    def __init__(self, out: Path, fps: float, overlay: bool, save_masks: str, queue_size: int = 8) -> None:
        self.out = out
        self.overlay = VideoWriter(out / "overlay.mp4", fps) if overlay else None
        self.masks_png = save_masks == "png"
        self.mask_video = (
            VideoWriter(out / "masks.mkv", fps, fourcc="FFV1") if save_masks == "video" else None
        )
        self._csv_path = out / "horizon.csv"
        self._partial = out / ".horizon.partial.csv"
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._csv_file = open(self._partial, "w", newline="")  # noqa: SIM115 (closed in close())
        except OSError as err:
            raise DataError(f"{out}: cannot write the outputs there ({one_line(err)})") from None
        self._rows = csv.DictWriter(self._csv_file, fieldnames=SEQUENCE_COLUMNS)
        self._rows.writeheader()
        self._written = 0
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="seaSky-sequence-writer", daemon=True)
        self._thread.start()

    def put(self, row: dict, picture: np.ndarray | None, mask: np.ndarray, tracked: TrackedLine) -> None:
        """Queue one frame's outputs (``picture``: the frame normalised to [0, 1], for the overlay)."""
        if self._error is not None:
            raise self._error
        self._queue.put((row, picture, mask, tracked))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # after an error: drain, write nothing more
            try:
                self._write(*item)
            except BaseException as err:  # handed to the predicting thread at its next put() or close()
                self._error = err

    def _write(self, row: dict, picture: np.ndarray | None, mask: np.ndarray, tracked: TrackedLine) -> None:
        if self.overlay is not None and picture is not None:
            raw = tracked.measured
            raw_ends = (raw.y_left, raw.y_right) if raw else None
            self.overlay.write(overlay_frame(picture, mask, tracked.endpoints(), raw_ends))
        if self.masks_png:
            ok, encoded = cv2.imencode(".png", mask * 255)
            if not ok:
                raise OSError(f"{self.out}: PNG encoding of frame {row['frame']}'s mask failed")
            atomic_write(
                self.out / "masks" / f"{row['name']}.png", lambda t: t.write_bytes(encoded.tobytes())
            )
        if self.mask_video is not None:
            self.mask_video.write(mask * 255)
        self._rows.writerow(row)
        self._written += 1
        if self._written % FLUSH_EVERY == 0:
            self._csv_file.flush()

    def close(self) -> list[Path]:
        """Write what is queued, close every file and move it into place; the paths written. Raises the
        writer thread's error, if it had one, after closing."""
        self._queue.put(None)
        self._thread.join()
        written = []
        for video in (self.overlay, self.mask_video):
            if video is not None and (path := video.close()) is not None:
                written.append(path)
        self._csv_file.close()
        os.replace(self._partial, self._csv_path)
        written.append(self._csv_path)
        if self.masks_png and (self.out / "masks").is_dir():
            written.append(self.out / "masks")
        if isinstance(self._error, (OSError, cv2.error)):  # disk full, no permission, an encoder failing
            raise DataError(f"{self.out}: writing the outputs failed: {one_line(self._error)}") from None
        if self._error is not None:
            raise self._error
        return written


@contextmanager
def stop_on_signals() -> Iterator[dict]:
    """Within the block the first SIGINT (Ctrl-C) or SIGTERM raises KeyboardInterrupt in the main thread; the
    dict yielded gets ``signal``: its name. Later signals, and any signal once the caller has set
    ``closing`` in the dict, are only noted: the outputs are being closed and must not be cut short."""
    received: dict = {}
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        first = "signal" not in received
        received.setdefault("signal", signal.Signals(signum).name)
        if first and not received.get("closing"):
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def predict_sequence(
    predictor: Predictor,
    source: SequenceSource,
    output_dir: str | Path,
    tracker: TrackerConfig | None = None,
    overlay: bool = True,
    save_masks: str | bool = False,
    batch_size: int = 4,
    progress: bool = True,
) -> SequenceSummary:
    """Predict every frame of ``source`` in order into ``output_dir`` (see the module docstring).

    ``batch_size`` frames go through the network together (1 for a live source: no added latency).
    Returns the summary; ``summary.interrupted`` names the signal when Ctrl-C or SIGTERM stopped it.
    """
    masks = mask_format(save_masks)
    batch_size = 1 if source.live else max(1, int(batch_size))
    track = HorizonTracker(tracker)
    summary = SequenceSummary()
    start = time.perf_counter()
    with stop_on_signals() as received:
        writer = SequenceWriter(Path(output_dir), source.fps, overlay, masks)
        bar = tqdm(total=source.total, desc="predict", unit="frame", disable=not progress)
        try:
            try:
                batch: list[tuple[int, float, np.ndarray, str]] = []
                for item in source.frames:
                    batch.append(item)
                    if len(batch) == batch_size:
                        _predict_batch(predictor, source.name, batch, track, writer, overlay, summary)
                        bar.update(len(batch))
                        batch = []
                if batch:
                    _predict_batch(predictor, source.name, batch, track, writer, overlay, summary)
                    bar.update(len(batch))
            except KeyboardInterrupt:
                summary.interrupted = received.get("signal", "SIGINT")
        finally:
            received["closing"] = True  # a signal from here on is noted, not raised
            try:
                bar.close()
                if callable(source.close):
                    source.close()
            finally:
                summary.outputs = writer.close()
                summary.seconds = time.perf_counter() - start
        if summary.interrupted is None and "signal" in received:  # arrived while closing
            summary.interrupted = received["signal"]
    if summary.frames == 0 and not summary.interrupted:
        raise DataError(f"{source.name}: no frame could be predicted (see the warnings above)")
    return summary


def _predict_batch(
    predictor: Predictor,
    source_name: str,
    batch: list[tuple[int, float, np.ndarray, str]],
    track: HorizonTracker,
    writer: SequenceWriter,
    overlay: bool,
    summary: SequenceSummary,
) -> None:
    """Network, fit and tracker for a batch of frames, handed to the writer in order."""
    for index, _, frame, _ in batch:
        if summary.frame_size is None:
            check_size(Path(source_name), frame)
            summary.frame_size = frame.shape[:2]
        if frame.shape[:2] != summary.frame_size:
            height, width = summary.frame_size
            raise DataError(
                f"{source_name}: frame {index} is {frame.shape[1]}x{frame.shape[0]} px, the sequence "
                f"began at {width}x{height} px (one size per sequence)"
            )
    normalised = [normalize_image(frame, **predictor.normalize) for _, _, frame, _ in batch]
    inputs = np.stack([resize_image(image, predictor.image_size) for image in normalised])
    results = predictor.predict_inputs(inputs, [frame.shape[:2] for _, _, frame, _ in batch])
    for (index, stamp, frame, name), image, result in zip(batch, normalised, results, strict=True):
        height, width = frame.shape[:2]
        tracked = track.update(result.horizon, width, height)
        row = sequence_row(index, stamp, name, result, tracked)
        summary.frames += 1
        summary.states[tracked.state] += 1
        writer.put(row, image if overlay else None, result.mask, tracked)
